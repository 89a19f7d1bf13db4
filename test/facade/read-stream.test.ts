/**
 * `createReadStream` hands out chunks the consumer owns, as `fs` streams do: writing to them
 * reaches neither the memory tier nor the disk tier. `highWaterMark` below a page sets the chunk size.
 * Like an `fs` stream, it closes at once when destroyed or when its signal aborts (even paused),
 * giving up the store reads it started; its errors name the path, the op and the mount.
 */
import { getEventListeners, once } from 'node:events';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryTier } from '../../src/cache/memory-tier.js';
import { PageCache, newCounters, type PageSource } from '../../src/cache/page-cache.js';
import { pageReadStream } from '../../src/io/read-stream.js';
import { MemoryStore, StrataError, StrataFS, type ByteRange, type ObjectInfo, type StoreCallOptions, type StoreListOptions, type StoreReadOptions, type StoreWriteOptions, type UnderStore } from '../../src/index.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;

/** Reads a stream to the end, zeroing every chunk once it has been copied out. */
async function readAndScribble(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) {
    parts.push(Buffer.from(chunk as Buffer));
    (chunk as Buffer).fill(0);
  }
  return Buffer.concat(parts);
}

describe('createReadStream chunks', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('a consumer writing to its chunks changes nothing cached in memory (cold or warm)', async () => {
    const fs = new StrataFS({ cache: { pageSize: PAGE } });
    cleanups.push(() => fs.close());
    await fs.mount('/m', 'memory://');
    const data = randomBytes(5 * PAGE + 11);
    await fs.writeFile('/m/a.bin', data, { writeType: 'THROUGH' });
    expect((await readAndScribble(fs.createReadStream('/m/a.bin'))).equals(data)).toBe(true); // cold: fetched pages
    expect((await readAndScribble(fs.createReadStream('/m/a.bin'))).equals(data)).toBe(true); // warm: memory-tier pages
    expect((await fs.readFile('/m/a.bin')).equals(data)).toBe(true);
    expect(fs.stats().bytesFromStore).toBe(data.length); // the reads after the first came from the cache
  });

  it('nor what goes to the disk tier: a new StrataFS on the same cache dir reads the right bytes', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const options = { cache: { pageSize: PAGE, memory: false as const, disk: { dir, capacity: '16MiB' } } };
    const data = randomBytes(5 * PAGE + 11);
    const first = new StrataFS(options);
    await first.mount('/m', 'memory://stream-owned');
    await first.writeFile('/m/a.bin', data, { writeType: 'THROUGH' });
    expect((await readAndScribble(first.createReadStream('/m/a.bin'))).equals(data)).toBe(true);
    await first.close();
    const second = new StrataFS(options);
    cleanups.push(() => second.close());
    await second.mount('/m', 'memory://stream-owned');
    expect((await second.readFile('/m/a.bin')).equals(data)).toBe(true);
    expect(second.stats().bytesFromStore).toBe(0); // served by the disk tier the first one filled
  });

  it('a highWaterMark below the page size is the chunk size', async () => {
    const fs = new StrataFS({ cache: { pageSize: PAGE } });
    cleanups.push(() => fs.close());
    await fs.mount('/m', 'memory://');
    const data = randomBytes(2 * PAGE + 5);
    await fs.writeFile('/m/a.bin', data);
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    for await (const chunk of fs.createReadStream('/m/a.bin', { start: 3, highWaterMark: 1000 })) {
      sizes.push((chunk as Buffer).length);
      parts.push(chunk as Buffer);
    }
    expect(Buffer.concat(parts).equals(data.subarray(3))).toBe(true);
    expect(Math.max(...sizes)).toBe(1000);
  });
  it('takes encoding as fs read streams do: string chunks, characters split between pages arrive whole', async () => {
    const fs = new StrataFS({ cache: { pageSize: 4096 } });
    cleanups.push(() => fs.close());
    await fs.mount('/m', 'memory://');
    const text = 'é€😀'.repeat(2000); // 2-, 3- and 4-byte characters across many page boundaries
    await fs.writeFile('/m/t.txt', text);
    let read = '';
    for await (const chunk of fs.createReadStream('/m/t.txt', { encoding: 'utf8', highWaterMark: 1000 })) {
      expect(typeof chunk).toBe('string');
      read += chunk as string;
    }
    expect(read).toBe(text);
    const hex = await fs.createReadStream('/m/t.txt', { encoding: 'hex', start: 0, end: 1 }).toArray();
    expect(hex.join('')).toBe(Buffer.from(text).subarray(0, 2).toString('hex'));
    const buffers = await fs.createReadStream('/m/t.txt', { encoding: null }).toArray(); // null: Buffers, as in fs
    expect(Buffer.isBuffer(buffers[0])).toBe(true);
    expect(() => fs.createReadStream('/m/t.txt', { encoding: 'klingon' as BufferEncoding })).toThrow(expect.objectContaining({ code: 'EINVAL', path: '/m/t.txt' }));
  });

  it('counts bytesRead as fs read streams do: 0 before reading, the bytes of the range at the end', async () => {
    const fs = new StrataFS({ cache: { pageSize: 4096 } });
    cleanups.push(() => fs.close());
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/a.bin', randomBytes(10_000));
    const stream = fs.createReadStream('/m/a.bin', { start: 100, end: 8999 });
    expect(stream.bytesRead).toBe(0);
    let seen = 0;
    for await (const chunk of stream) {
      seen += (chunk as Buffer).length;
      expect(stream.bytesRead).toBeGreaterThanOrEqual(seen);
    }
    expect(stream.bytesRead).toBe(8900);
  });
});

describe('createReadStream of a file replaced meanwhile', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** A reader that knows the first version of `/m/x` (its metadata, none of its pages) and a writer that has replaced it since. */
  async function replacedUnderReader(name: string): Promise<{ reader: StrataFS; first: Buffer; second: Buffer }> {
    const writer = new StrataFS({ cache: { pageSize: 4096 } });
    const reader = new StrataFS({ cache: { pageSize: 4096 }, metadata: { syncInterval: -1 } });
    cleanups.push(() => writer.close(), () => reader.close());
    await writer.mount('/m', `memory://${name}`);
    await reader.mount('/m', `memory://${name}`);
    const first = randomBytes(10_000);
    const second = randomBytes(12_345);
    await writer.writeFile('/m/x', first);
    await reader.stat('/m/x');
    await writer.writeFile('/m/x', second); // (an atomic save: another process renamed its new file over it)
    return { reader, first, second };
  }

  it('a file replaced before the stream handed out a byte is read whole at its new version, as readFile reads it', async () => {
    const { reader, second } = await replacedUnderReader('replaced-before-first-byte');
    const streamed = await readAndScribble(reader.createReadStream('/m/x'));
    expect(streamed.equals(second)).toBe(true);
    expect((await reader.readFile('/m/x')).equals(second)).toBe(true);
  });

  it('a range of it too, with its encoding', async () => {
    const { reader, second } = await replacedUnderReader('replaced-range');
    let text = '';
    for await (const chunk of reader.createReadStream('/m/x', { start: 5000, end: 9999, encoding: 'hex' })) text += chunk as string;
    expect(text).toBe(second.subarray(5000, 10_000).toString('hex'));
  });
});

/** A MemoryStore whose `slowRead`-th ranged read takes `slowMs` (aborted by its signal). */
class SlowStore implements UnderStore {
  readonly inner = new MemoryStore();
  readonly uri = `slow://${Math.random().toString(36).slice(2)}`;
  readonly capabilities = { rangeRead: true, list: true, copy: false, rename: false, directories: false };
  reads = 0;
  aborted = 0;

  constructor(
    readonly slowRead: number,
    readonly slowMs: number,
  ) {}

  async read(key: string, range?: ByteRange, opts?: StoreReadOptions): Promise<Readable> {
    if (++this.reads === this.slowRead) {
      await sleep(this.slowMs, undefined, { signal: opts?.signal }).catch((error: unknown) => {
        this.aborted++;
        throw error;
      });
    }
    return this.inner.read(key, range, opts);
  }

  stat(key: string, opts?: StoreCallOptions): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key, opts);
  }

  list(prefix: string, opts?: StoreListOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, opts);
  }

  write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    return this.inner.write(key, body, opts);
  }

  delete(key: string, opts?: StoreCallOptions): Promise<void> {
    return this.inner.delete(key, opts);
  }
}

/** Resolves with how long `stream` took to emit `'close'`, or `Infinity` after `ms`. */
async function closeWithin(stream: Readable, ms: number): Promise<number> {
  const begin = Date.now();
  if (stream.closed) return 0;
  const closed = once(stream, 'close').then(() => Date.now() - begin);
  return Promise.race([closed, sleep(ms).then(() => Infinity)]);
}

/** The error `stream` fails with (it is read to the end), or `undefined`; and the bytes it gave. */
async function outcome(stream: Readable): Promise<{ error: unknown; bytes: number }> {
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
  const error = await finished(stream).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, bytes };
}

/** Asserts an `fs`-style abort: an `AbortError` with code `ABORT_ERR` caused by `reason`. */
function expectAbortError(error: unknown, reason: unknown): void {
  expect(error).toBeInstanceOf(Error);
  expect(error).not.toBeInstanceOf(StrataError);
  expect({ name: (error as Error).name, code: (error as { code?: string }).code, cause: (error as Error).cause }).toEqual({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
}

describe('createReadStream ends at once', () => {
  // Batches of 64 pages: the second ranged read of a 70-page file is pages 64…69.
  const SIZE = 70 * PAGE + 11;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function setup(store: SlowStore, data: Buffer): Promise<StrataFS> {
    const fs = new StrataFS({ cache: { pageSize: PAGE } });
    cleanups.push(() => fs.close());
    await fs.mount('/m', store);
    await store.inner.write('a.bin', data);
    return fs;
  }

  it('destroy() while a page is on its way: closes at once, and the store read is aborted', async () => {
    const store = new SlowStore(2, 20_000);
    const fs = await setup(store, randomBytes(SIZE));
    const s = fs.createReadStream('/m/a.bin');
    const done = finished(s).catch(() => undefined);
    s.resume();
    await sleep(300);
    expect(store.reads).toBe(2); // the slow one is on its way
    s.destroy();
    expect(await closeWithin(s, 3000)).toBeLessThan(500);
    await vi.waitFor(() => expect(store.aborted).toBe(1), { timeout: 1000 });
    await done;
  });

  it('destroy() leaves a fetch another stream shares going: that stream reads every byte', async () => {
    const store = new SlowStore(2, 1500);
    const data = randomBytes(SIZE);
    const fs = await setup(store, data);
    const first = fs.createReadStream('/m/a.bin');
    const firstDone = finished(first).catch(() => undefined);
    first.resume();
    await sleep(200);
    const chunks: Buffer[] = [];
    const second = fs.createReadStream('/m/a.bin').on('data', (chunk: Buffer) => chunks.push(chunk));
    await sleep(200); // the second one waits for the same pages
    first.destroy();
    expect(await closeWithin(first, 3000)).toBeLessThan(500);
    await finished(second);
    await firstDone;
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect({ reads: store.reads, aborted: store.aborted }).toEqual({ reads: 2, aborted: 0 });
  });

  it('its signal aborting while a page is on its way: an AbortError at once, and the store read is aborted', async () => {
    const store = new SlowStore(2, 20_000);
    const fs = await setup(store, randomBytes(SIZE));
    const controller = new AbortController();
    const s = fs.createReadStream('/m/a.bin', { signal: controller.signal });
    const result = outcome(s);
    await sleep(300);
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await closeWithin(s, 3000)).toBeLessThan(500);
    expectAbortError((await result).error, reason);
    await vi.waitFor(() => expect(store.aborted).toBe(1), { timeout: 1000 });
  });

  it('its signal aborting while it is paused (nobody reads it): destroyed with an AbortError', async () => {
    const store = new SlowStore(0, 0);
    const fs = await setup(store, randomBytes(3 * PAGE));
    const controller = new AbortController();
    const s = fs.createReadStream('/m/a.bin', { signal: controller.signal });
    const failed = once(s, 'error').then(([error]) => error as unknown);
    await sleep(50);
    controller.abort('stop');
    expect(await closeWithin(s, 3000)).toBeLessThan(500);
    expectAbortError(await failed, 'stop');
    expect(s.destroyed).toBe(true);
  });

  it('its signal aborting while the pages come from the cache: no bytes after the abort', async () => {
    const store = new SlowStore(0, 0);
    const data = randomBytes(SIZE);
    const fs = await setup(store, data);
    expect((await fs.readFile('/m/a.bin')).equals(data)).toBe(true); // every page cached
    const controller = new AbortController();
    const s = fs.createReadStream('/m/a.bin', { signal: controller.signal });
    let bytes = 0;
    s.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes >= 2 * PAGE) controller.abort('enough');
    });
    const error = await finished(s).then(
      () => undefined,
      (e: unknown) => e,
    );
    expectAbortError(error, 'enough');
    expect(bytes).toBe(2 * PAGE);
  });

  it('a store error after the first pages names the path, the op and the mount', async () => {
    const store = new SlowStore(0, 0);
    const fs = await setup(store, randomBytes(SIZE));
    const read = store.read.bind(store);
    store.read = async (key, range, opts) => {
      if (range && range.offset > 0) throw Object.assign(new Error('denied'), { code: 'EACCES' });
      return read(key, range, opts);
    };
    const stream = fs.createReadStream('/m/a.bin').resume();
    const [error] = (await once(stream, 'error').catch((e: unknown) => [e])) as [StrataError];
    expect({ code: error.code, path: error.path, op: error.op, mount: error.mount }).toEqual({ code: 'EACCES', path: '/m/a.bin', op: 'read', mount: '/m' });
  });

  it('leaves no listener on the signal once it is closed (a long-lived signal serves many streams)', async () => {
    const store = new SlowStore(0, 0);
    const fs = await setup(store, randomBytes(SIZE));
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) await outcome(fs.createReadStream('/m/a.bin', { signal: controller.signal }));
    const destroyed = fs.createReadStream('/m/a.bin', { signal: controller.signal });
    destroyed.destroy();
    await once(destroyed, 'close');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('pageReadStream errors and aborts', () => {
  /** A page cache of 64 KiB pages over a source of `size` bytes whose fetches fail with `failure`. */
  function failing(size: number, failure: unknown): { cache: PageCache; src: PageSource } {
    const cache = new PageCache(PAGE, new MemoryTier(16 * 1024 * 1024, PAGE), undefined, { attempts: 1, minDelay: 1, maxDelay: 1 });
    const src: PageSource = {
      object: 'o',
      version: 'v1',
      size,
      counters: newCounters(),
      fetch: () => Promise.reject(failure),
    };
    return { cache, src };
  }
  const context = { path: '/m/a.bin', op: 'read', mount: '/m' };

  it('an error after the open step names the path, the op and the mount (ESTALE as a store error)', async () => {
    for (const [failure, code] of [
      [new StrataError('ESTALE', 'the object changed while it was read'), 'ESTALE'],
      [new Error('connection lost'), 'EIO'],
    ] as const) {
      const { cache, src } = failing(3 * PAGE, failure);
      const { error } = await outcome(pageReadStream(cache, async () => src, 0, undefined, { readType: 'CACHE', context }));
      expect(error).toBeInstanceOf(StrataError);
      expect({ code: (error as StrataError).code, path: (error as StrataError).path, op: (error as StrataError).op, mount: (error as StrataError).mount }).toEqual({ code, ...context });
      expect((error as Error).message).toContain(`read '/m/a.bin'`);
    }
  });

  it('an abort stays an AbortError, context or not', async () => {
    const { cache, src } = failing(3 * PAGE, new StrataError('EIO'));
    const controller = new AbortController();
    const s = pageReadStream(cache, () => new Promise<PageSource>(() => undefined), 0, undefined, { readType: 'CACHE', signal: controller.signal, context });
    const result = outcome(s);
    controller.abort('stop');
    expect(await closeWithin(s, 3000)).toBeLessThan(500);
    expectAbortError((await result).error, 'stop');
    void src;
  });

  it('a signal aborted before the stream is made: an AbortError, and the file is not even opened', async () => {
    const { cache, src } = failing(3 * PAGE, new StrataError('EIO'));
    let opened = 0;
    const open = async (): Promise<PageSource> => (opened++, src);
    const { error, bytes } = await outcome(pageReadStream(cache, open, 0, undefined, { readType: 'CACHE', signal: AbortSignal.abort('early') }));
    expectAbortError(error, 'early');
    expect({ bytes, opened }).toEqual({ bytes: 0, opened: 0 });
  });
});
