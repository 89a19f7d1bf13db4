import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { StrataFS, type ObjectInfo, type UnderStore } from '../../src/index.js';

/** A third party's connector as a plain object on a Map, whose `read` answers with `body(bytes)`. */
function plainStore(
  body: (data: Buffer) => unknown,
  opts: { rangeRead?: boolean; listKey?: (key: string) => string } = {},
): UnderStore & { objects: Map<string, Buffer>; entries(prefix: string, recursive?: boolean): ObjectInfo[] } {
  const objects = new Map<string, Buffer>();
  let version = 0;
  const etags = new Map<string, string>();
  const infoOf = (key: string): ObjectInfo => ({ key, size: objects.get(key)!.length, etag: etags.get(key), isDirectory: false });
  return {
    uri: 'plain://test',
    objects,
    capabilities: { rangeRead: opts.rangeRead ?? true, list: true } as UnderStore['capabilities'],
    async stat(key) {
      if (objects.has(key)) return infoOf(key);
      const dir = key.replace(/\/$/, '');
      return dir === '' || [...objects.keys()].some((k) => k.startsWith(dir + '/')) ? { key: dir, size: 0, isDirectory: true } : undefined;
    },
    entries(prefix, recursive) {
      const base = prefix === '' ? '' : prefix.replace(/\/$/, '') + '/';
      const dirs = new Set<string>();
      const out: ObjectInfo[] = [];
      for (const key of objects.keys()) {
        if (!key.startsWith(base)) continue;
        const rest = key.slice(base.length);
        if (!rest.includes('/') || recursive) out.push(infoOf(key));
        if (rest.includes('/')) dirs.add(base + rest.slice(0, rest.indexOf('/')));
      }
      for (const dir of dirs) out.push({ key: opts.listKey ? opts.listKey(dir) : dir, size: 0, isDirectory: true });
      return out;
    },
    async *list(prefix, listOpts) {
      yield* this.entries(prefix, listOpts?.recursive);
    },
    async read(key, range) {
      const data = objects.get(key);
      if (!data) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      const start = range?.offset ?? 0;
      return body(data.subarray(start, range?.length === undefined ? undefined : start + range.length)) as Readable;
    },
    async write(key, body) {
      objects.set(key, Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray()));
      etags.set(key, `v${++version}`);
      return infoOf(key);
    },
    async delete(key) {
      objects.delete(key);
    },
  };
}

describe("a connector's read answers", () => {
  let fs: StrataFS | undefined;
  afterEach(() => fs?.close());

  const bodies: Array<[string, (data: Buffer) => unknown]> = [
    ['a Readable of Uint8Arrays (object mode, as Readable.from makes)', (data) => Readable.from([new Uint8Array(data.subarray(0, 1000)), new Uint8Array(data.subarray(1000))])],
    ['a Readable from a web stream', (data) => Readable.fromWeb(new Blob([data]).stream() as never)],
    ['a web ReadableStream', (data) => new Blob([data]).stream()],
    ['an async iterable of Uint8Arrays', (data) => (async function* () { yield new Uint8Array(data.subarray(0, 7)); yield new Uint8Array(data.subarray(7)); })()],
    ['a Buffer', (data) => Buffer.from(data)],
  ];
  for (const [what, body] of bodies) {
    for (const rangeRead of [true, false]) {
      it(`${what}${rangeRead ? '' : ' (no rangeRead)'} reads the right bytes, whole and by range`, async () => {
        const store = plainStore(body, { rangeRead });
        const data = randomBytes(20_000);
        store.objects.set('d/a.bin', data);
        fs = new StrataFS({ cache: { pageSize: 4096 } });
        await fs.mount('/m', store);
        expect((await fs.readFile('/m/d/a.bin', { offset: 5000, length: 9000 })).equals(data.subarray(5000, 14_000))).toBe(true);
        expect((await fs.readFile('/m/d/a.bin')).equals(data)).toBe(true);
        await fs.copy('/m/d/a.bin', '/m/d/b.bin');
        expect(store.objects.get('d/b.bin')!.equals(data)).toBe(true);
      });
    }
  }

  it('an answer that is not bytes fails with EIO naming it', async () => {
    const store = plainStore(() => 42);
    store.objects.set('a.bin', Buffer.from('abc'));
    fs = new StrataFS();
    await fs.mount('/m', store);
    await expect(fs.readFile('/m/a.bin')).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('not a Readable') });
  });

  it('directories listed with a trailing slash are listed, moved and removed', async () => {
    const store = plainStore((data) => Readable.from([data]), { listKey: (dir) => dir + '/' });
    store.objects.set('d/a.txt', Buffer.from('A'));
    store.objects.set('d/e/b.txt', Buffer.from('B'));
    fs = new StrataFS();
    await fs.mount('/m', store);
    expect(await fs.readdir('/m')).toEqual(['d']);
    expect(await fs.readdir('/m/d')).toEqual(['a.txt', 'e']);
    await fs.rename('/m/d', '/m/d2');
    expect(await fs.readdir('/m', { recursive: true })).toEqual(['d2', 'd2/a.txt', 'd2/e', 'd2/e/b.txt']);
    await fs.rm('/m/d2', { recursive: true });
    expect([...store.objects.keys()]).toEqual([]);
  });

  it('a directory a recursive listing names with no mtime (no marker) gets none when its tree is renamed', async () => {
    const store = plainStore((data) => Readable.from([data]));
    store.objects.set('tree/x/1', Buffer.from('one'));
    fs = new StrataFS();
    await fs.mount('/m', store);
    await fs.rename('/m/tree', '/m/tree2');
    expect([...store.objects.keys()]).toEqual(['tree2/x/1']);
    await fs.rm('/m/tree2/x/1');
    expect(await fs.exists('/m/tree2')).toBe(false);
    // An empty directory exists by its marker, even when the listing gives it no mtime.
    await fs.mkdir('/m/t/empty', { recursive: true });
    await fs.writeFile('/m/t/f', 'f');
    await fs.rename('/m/t', '/m/t2');
    expect(await fs.readdir('/m/t2')).toEqual(['empty', 'f']);
  });

  it('a write that resolves with nothing, or with no size, is seen by its stat: the file reads back whole', async () => {
    for (const answer of [undefined, {}, { key: 'a.txt', isDirectory: false }]) {
      const store = plainStore((data) => Readable.from([data]));
      const write = store.write.bind(store);
      store.write = async (key, body, opts) => (await write(key, body, opts), answer as unknown as ObjectInfo);
      fs = new StrataFS();
      await fs.mount('/m', store);
      expect(await fs.writeFile('/m/a.txt', 'hello')).toMatchObject({ size: 5, etag: 'v1' });
      expect((await fs.readFile('/m/a.txt')).toString()).toBe('hello');
      await fs.mkdir('/m/d');
      expect((await fs.stat('/m/d')).type).toBe('directory');
      await fs.close();
    }
  });

  it('a store-side copy that resolves with nothing is seen by its stat: the copy reads back whole', async () => {
    const store = plainStore((data) => Readable.from([data]));
    store.capabilities.copy = true;
    store.copy = async (from, to) => {
      store.objects.set(to, store.objects.get(from)!);
      return undefined as unknown as ObjectInfo;
    };
    fs = new StrataFS();
    await fs.mount('/m', store);
    await fs.writeFile('/m/a.txt', 'hello');
    await fs.copy('/m/a.txt', '/m/b.txt');
    expect((await fs.stat('/m/b.txt')).size).toBe(5);
    expect((await fs.readFile('/m/b.txt')).toString()).toBe('hello');
  });

  it('a listing given as an array, a sync generator or a promise of an array lists', async () => {
    const answers: Array<(entries: ObjectInfo[]) => unknown> = [(e) => e, (e) => (function* () { yield* e; })(), async (e) => e];
    for (const answer of answers) {
      const store = plainStore((data) => Readable.from([data]));
      store.list = ((prefix: string, opts?: { recursive?: boolean }) => answer(store.entries(prefix, opts?.recursive))) as unknown as UnderStore['list'];
      store.objects.set('d/a.txt', Buffer.from('A'));
      store.objects.set('d/e/b.txt', Buffer.from('B'));
      fs = new StrataFS();
      await fs.mount('/m', store);
      expect(await fs.readdir('/m/d')).toEqual(['a.txt', 'e']);
      expect(await fs.readdir('/m', { recursive: true })).toEqual(['d', 'd/a.txt', 'd/e', 'd/e/b.txt']);
      await fs.close();
    }
  });

  it('a delete that fails with ENOENT for a missing key (as fs.unlink does) does not fail a rename or an rm -r', async () => {
    const store = plainStore((data) => Readable.from([data]));
    const remove = store.delete.bind(store);
    store.delete = async (key, opts) => {
      if (!store.objects.has(key)) throw Object.assign(new Error(`unlink ${key}`), { code: 'ENOENT' });
      await remove(key, opts);
    };
    store.objects.set('t/x/1', Buffer.from('one'));
    store.objects.set('t/2', Buffer.from('two'));
    fs = new StrataFS();
    await fs.mount('/m', store);
    await fs.mkdir('/m/t/empty');
    await fs.rename('/m/t', '/m/t2');
    expect(await fs.readdir('/m', { recursive: true })).toEqual(['t2', 't2/2', 't2/empty', 't2/x', 't2/x/1']);
    await fs.rm('/m/t2', { recursive: true });
    expect(await fs.readdir('/m')).toEqual([]);
  });

  it('an mtime given as an ISO string or epoch milliseconds, and a size given as a string, are taken', async () => {
    for (const mtimeOf of [(d: Date): unknown => d.toISOString(), (d: Date): unknown => d.getTime()]) {
      const store = plainStore((data) => Readable.from([data]));
      const when = new Date('2024-05-06T07:08:09.010Z');
      const raw = (info: ObjectInfo | undefined): ObjectInfo | undefined =>
        info && !info.isDirectory ? ({ key: info.key, size: String(info.size), mtime: mtimeOf(when), isDirectory: false } as unknown as ObjectInfo) : info;
      const stat = store.stat.bind(store);
      const write = store.write.bind(store);
      store.stat = async (key, opts) => raw(await stat(key, opts));
      store.write = async (key, body, opts) => raw(await write(key, body, opts))!;
      store.list = async function* (prefix) {
        for (const info of store.entries(prefix)) yield raw(info)!;
      };
      fs = new StrataFS({ metadata: { syncInterval: 0 } });
      await fs.mount('/m', store);
      expect(await fs.writeFile('/m/a.txt', 'hello')).toMatchObject({ size: 5, mtime: when });
      expect((await fs.readFile('/m/a.txt')).toString()).toBe('hello');
      expect(await fs.readdir('/m', { withInfo: true })).toMatchObject([{ name: 'a.txt', size: 5, mtime: when }]);
      await fs.close();
    }
  });
});
