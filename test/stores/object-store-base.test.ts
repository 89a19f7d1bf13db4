import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { mapStoreError, ObjectStoreBase, StrataError, StrataFS, type RawListOptions, type RawListPage, type RawObject, type RawRead, type RawWriteResult } from '../../src/index.js';
import { expectCode } from '../support/helpers.js';

/** An object store on a Map, written as docs/writing-a-connector.md shows, with a `mapError` written by hand. */
class MapObjectStore extends ObjectStoreBase {
  readonly uri = 'mapobj://test';
  readonly objects = new Map<string, { data: Buffer; etag: string }>();
  failNext = 0;
  failWith: { status: number; message: string } = { status: 503, message: 'service unavailable' };
  #version = 0;

  constructor() {
    super('');
  }
  #maybeFail(): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error(this.failWith.message), { status: this.failWith.status });
    }
  }
  protected async headObject(fullKey: string): Promise<RawObject | undefined> {
    this.#maybeFail();
    const o = this.objects.get(fullKey);
    return o && { key: fullKey, size: o.data.length, etag: o.etag, mtime: new Date(0) };
  }
  protected async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    const objects: RawObject[] = [];
    const prefixes = new Set<string>();
    for (const [key, o] of [...this.objects].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!key.startsWith(fullPrefix)) continue;
      const slash = opts.delimiter ? key.indexOf('/', fullPrefix.length) : -1;
      if (slash >= 0) prefixes.add(key.slice(0, slash + 1));
      else objects.push({ key, size: o.data.length, etag: o.etag });
    }
    return { objects, prefixes: [...prefixes] };
  }
  protected async getObject(fullKey: string, range: { offset: number; length?: number } | undefined): Promise<RawRead> {
    const o = this.objects.get(fullKey);
    if (!o) throw Object.assign(new Error('no such key'), { status: 404 });
    const start = range?.offset ?? 0;
    return { body: Readable.from([o.data.subarray(start, range?.length === undefined ? undefined : start + range.length)]) };
  }
  protected async putObject(fullKey: string, body: Readable | Buffer): Promise<RawWriteResult> {
    const data = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray());
    const etag = `v${++this.#version}`;
    this.objects.set(fullKey, { data, etag });
    return { etag, mtime: new Date() };
  }
  protected async deleteObjects(fullKeys: string[]): Promise<void> {
    for (const key of fullKeys) this.objects.delete(key);
  }
  protected async copyObject(from: string, to: string): Promise<void> {
    this.objects.set(to, { ...this.objects.get(from)!, etag: `v${++this.#version}` });
  }
  protected mapError(error: unknown): Error {
    if ((error as Error).name === 'AbortError') return error as Error;
    const status = (error as { status?: number }).status;
    if (status === 404) return new StrataError('ENOENT', 'no such object', { cause: error });
    if (status === 401 || status === 403) return new StrataError('EACCES', 'access denied', { cause: error });
    if (status === 429 || (status !== undefined && status >= 500)) return new StrataError('EIO', `store answered ${status}`, { cause: error, temporary: true });
    return new StrataError('EIO', 'store error', { cause: error });
  }
}

describe('a connector built on ObjectStoreBase', () => {
  let fs: StrataFS | undefined;
  afterEach(() => fs?.close());

  it('lets the facade’s own errors through its mapError: a stream of numbers is EINVAL, the old object stays', async () => {
    fs = new StrataFS();
    await fs.mount('/o', new MapObjectStore());
    await fs.writeFile('/o/s.txt', 'old');
    await expectCode(fs.writeFile('/o/s.txt', Readable.from([1, 2])), 'EINVAL');
    expect((await fs.readFile('/o/s.txt')).toString()).toBe('old');
  });
});

/** The same store mapping its errors with the library's own `mapStoreError`, as the guide's sample does. */
class SharedMappingStore extends MapObjectStore {
  protected override mapError(error: unknown): Error {
    return mapStoreError(error, { secrets: ['s3cr3t-token'] });
  }
}

for (const [how, Store] of [
  ['a mapError written by hand', MapObjectStore],
  ['mapStoreError', SharedMappingStore],
] as const) {
  describe(`a connector mapping its errors with ${how}`, () => {
    let fs: StrataFS | undefined;
    afterEach(() => fs?.close());

    it('retries a 503 and says ENOENT for a missing key', async () => {
      fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
      const store = new Store();
      await fs.mount('/o', store);
      await fs.writeFile('/o/f.txt', 'data');
      await fs.free('/o/f.txt');
      store.failNext = 2;
      expect((await fs.stat('/o/f.txt')).size).toBe(4);
      await expectCode(fs.readFile('/o/missing.txt'), 'ENOENT');
    });
  });
}

describe('a connector mapping its errors with mapStoreError', () => {
  let fs: StrataFS | undefined;
  afterEach(() => fs?.close());

  it('says EACCES for a 403, without the secret in the message or the cause', async () => {
    fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    const store = new SharedMappingStore();
    await fs.mount('/o', store);
    await fs.writeFile('/o/f.txt', 'data');
    await fs.free('/o/f.txt');
    store.failNext = 1;
    store.failWith = { status: 403, message: 'token s3cr3t-token refused' };
    const error = await fs.stat('/o/f.txt').then(() => undefined, (e: unknown) => e as StrataError);
    expect(error).toBeInstanceOf(StrataError);
    expect(error?.code).toBe('EACCES');
    expect(String(error?.message)).not.toContain('s3cr3t-token');
    expect(JSON.stringify(error?.cause, Object.getOwnPropertyNames(error?.cause ?? {}))).not.toContain('s3cr3t-token');
  });
});

/** A store whose listing pages come round in a circle: page `b` hands back the token of page `a`. */
class CirclingListStore extends MapObjectStore {
  pagesListed = 0;
  protected override async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    // Stops the circle where the store would go on for ever, so that a listing that follows it fails instead of hanging.
    if (++this.pagesListed > 1000) throw new Error('listed 1000 pages');
    const page = await super.listPage(fullPrefix, opts);
    return opts.token === 'b' ? { objects: [], prefixes: [], next: 'a' } : { ...page, next: opts.token === 'a' ? 'b' : 'a' };
  }
}

describe('a store whose listing never ends', () => {
  let fs: StrataFS | undefined;
  afterEach(() => fs?.close());

  it('readdir and rm -r fail with EIO when a page token comes back, instead of listing for ever', async () => {
    fs = new StrataFS();
    const store = new CirclingListStore();
    await fs.mount('/o', store);
    await fs.writeFile('/o/d/f.txt', 'data');
    await expectCode(fs.readdir('/o/d'), 'EIO');
    await expectCode(fs.readdir('/o', { recursive: true }), 'EIO');
    await expectCode(fs.rm('/o/d', { recursive: true }), 'EIO');
    expect(store.pagesListed).toBeLessThan(20);
  });
});
