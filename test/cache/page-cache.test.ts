import { getEventListeners } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { expectCode, randomBytes, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;

describe('page cache through a counting store', () => {
  let fs: StrataFS;
  let store: CountingStore;

  async function setup(options: ConstructorParameters<typeof StrataFS>[0] = {}): Promise<void> {
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '16MiB' } }, ...options });
    store = new CountingStore();
    await fs.mount('/s', store);
  }
  async function seed(key: string, data: Buffer): Promise<void> {
    await store.inner.write(key, data);
  }
  afterEach(() => fs?.close());

  it('the second read costs zero store bytes and zero store reads', async () => {
    await setup();
    const data = randomBytes(10 * PAGE + 5);
    await seed('a.bin', data);
    expect((await fs.readFile('/s/a.bin')).equals(data)).toBe(true);
    expect(store.bytesRead).toBe(data.length);
    store.reset();
    expect((await fs.readFile('/s/a.bin')).equals(data)).toBe(true);
    expect(store.bytesRead).toBe(0);
    expect(store.count('read')).toBe(0);
    expect(store.count('stat')).toBe(0);
  });

  it('a 100-byte range costs at most two pages', async () => {
    await setup();
    await seed('r.bin', randomBytes(20 * PAGE));
    await fs.readFile('/s/r.bin', { offset: 5 * PAGE + 10, length: 100 });
    expect(store.bytesRead).toBeLessThanOrEqual(PAGE);
    store.reset();
    await fs.readFile('/s/r.bin', { offset: 8 * PAGE - 50, length: 100 });
    expect(store.bytesRead).toBeLessThanOrEqual(2 * PAGE);
    expect(store.count('read')).toBe(1);
  });

  it('bytesFromCache counts the bytes a read takes, from the memory tier as from the disk tier', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      store = new CountingStore();
      await seed('h.bin', randomBytes(4 * PAGE));
      for (const memory of [{ capacity: '16MiB' }, false] as const) {
        // The memory tier on: the pages stay there; off: the pages a first StrataFS wrote to disk.
        fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '16MiB' }, disk: { dir, capacity: '16MiB' } } });
        await fs.mount('/s', store);
        await fs.readFile('/s/h.bin');
        if (memory === false) {
          await fs.close();
          fs = new StrataFS({ cache: { pageSize: PAGE, memory, disk: { dir, capacity: '16MiB' } } });
          await fs.mount('/s', store);
        }
        const before = fs.stats().bytesFromCache;
        await fs.readFile('/s/h.bin', { offset: PAGE - 50, length: 100 });
        expect({ memory: memory !== false, bytes: fs.stats().bytesFromCache - before }).toEqual({ memory: memory !== false, bytes: 100 });
        if (memory !== false) {
          // A stream of a range counts the same bytes.
          const streamed = fs.stats().bytesFromCache;
          for await (const chunk of fs.createReadStream('/s/h.bin', { start: PAGE - 50, end: PAGE + 49 })) void chunk;
          expect(fs.stats().bytesFromCache - streamed).toBe(100);
        }
        await fs.close();
      }
    } finally {
      await cleanup();
    }
  });

  it('adjacent missing pages are fetched with one ranged request, gaps split it', async () => {
    await setup();
    const data = randomBytes(12 * PAGE);
    await seed('c.bin', data);
    await fs.readFile('/s/c.bin', { offset: 4 * PAGE, length: PAGE });
    store.reset();
    expect((await fs.readFile('/s/c.bin')).equals(data)).toBe(true);
    expect(store.count('read')).toBe(2);
    expect(store.calls.filter((c) => c.op === 'read').map((c) => c.range)).toEqual([
      { offset: 0, length: 4 * PAGE },
      { offset: 5 * PAGE, length: 7 * PAGE },
    ]);
  });

  it('50 concurrent cold readers cost one fetch per page', async () => {
    await setup();
    const data = randomBytes(8 * PAGE);
    await seed('hot.bin', data);
    await fs.stat('/s/hot.bin');
    store.reset();
    store.delayMs = 30;
    const reads = await Promise.all(Array.from({ length: 50 }, () => fs.readFile('/s/hot.bin')));
    for (const r of reads) expect(r.equals(data)).toBe(true);
    expect(store.bytesRead).toBe(data.length);
    expect(fs.stats().misses).toBe(8);
  });

  it('streams walk page by page and share the cache', async () => {
    await setup();
    const data = randomBytes(6 * PAGE + 3);
    await seed('s.bin', data);
    const chunks: Buffer[] = [];
    for await (const chunk of fs.createReadStream('/s/s.bin')) {
      expect((chunk as Buffer).length).toBeLessThanOrEqual(PAGE);
      chunks.push(chunk as Buffer);
    }
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    store.reset();
    await fs.readFile('/s/s.bin');
    expect(store.bytesRead).toBe(0);
  });

  it('a cold stream reads ahead in batches of 4 MiB: one store request per batch, not per page', async () => {
    await setup({ cache: { pageSize: PAGE, memory: { capacity: '32MiB' } } });
    const data = randomBytes(200 * PAGE); // 12.5 MiB in 64 KiB pages: batches of 64 pages
    await seed('b.bin', data);
    const chunks: Buffer[] = [];
    for await (const chunk of fs.createReadStream('/s/b.bin')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(store.calls.filter((c) => c.op === 'read').map((c) => c.range)).toEqual([
      { offset: 0, length: 64 * PAGE },
      { offset: 64 * PAGE, length: 64 * PAGE },
      { offset: 128 * PAGE, length: 64 * PAGE },
      { offset: 192 * PAGE, length: 8 * PAGE },
    ]);
    expect(store.bytesRead).toBe(data.length);
  });

  it('a changed object is never served old or mixed once its new version is seen', async () => {
    await setup({ metadata: { syncInterval: 0 } });
    const v1 = Buffer.alloc(4 * PAGE, 1);
    const v2 = Buffer.alloc(4 * PAGE, 2);
    await seed('v.bin', v1);
    await fs.readFile('/s/v.bin', { offset: 0, length: 2 * PAGE });
    await seed('v.bin', v2); // changed behind stratafs' back
    const read = await fs.readFile('/s/v.bin');
    expect(read.equals(v2)).toBe(true);
  });

  it('a reader that gives up does not fail the readers sharing its fetch, and the fetch is not made again', async () => {
    await setup();
    const data = randomBytes(8 * PAGE);
    await seed('s.bin', data);
    await fs.stat('/s/s.bin'); // known: both reads below fetch pages
    store.reset();
    store.delayMs = 50;
    const giving = new AbortController();
    const first = fs.readFile('/s/s.bin', { signal: giving.signal });
    while (store.count('read') === 0) await sleep(2); // its fetch is on its way
    const second = fs.readFile('/s/s.bin');
    await sleep(10);
    giving.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    expect((await second).equals(data)).toBe(true);
    expect(store.count('read')).toBe(1);
  });

  it("a read of many pages with a signal adds a listener or two to it, not one per page (no MaxListeners warning)", async () => {
    await setup();
    await seed('many.bin', randomBytes(64 * PAGE));
    await fs.stat('/s/many.bin');
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const read = fs.readFile('/s/many.bin', { signal: controller.signal });
      await sleep(0);
      expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(4);
      expect((await read).length).toBe(64 * PAGE);
      await sleep(10);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a fetch shared by readers is aborted once all of them gave up', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    class SignalStore extends CountingStore {
      override readWithInfo(...args: Parameters<CountingStore['readWithInfo']>): ReturnType<CountingStore['readWithInfo']> {
        signals.push(args[2]?.signal);
        return super.readWithInfo(...args);
      }
    }
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '16MiB' } } });
    store = new SignalStore();
    await fs.mount('/s', store);
    await seed('s.bin', randomBytes(8 * PAGE));
    await fs.stat('/s/s.bin');
    store.delayMs = 50;
    const [a, b] = [new AbortController(), new AbortController()];
    const reads = [a, b].map((c) => fs.readFile('/s/s.bin', { signal: c.signal }).then(() => 'read', (error: unknown) => error));
    await sleep(10);
    a.abort();
    await sleep(5);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false); // the other reader still waits
    b.abort();
    for (const read of reads) expect(await read).toMatchObject({ name: 'AbortError' });
    expect(signals[0]?.aborted).toBe(true);
  });

  it('a store that cannot read a given version gets a stat after each fetch; a change it finds fails the read and caches nothing', async () => {
    await setup();
    await seed('c.bin', Buffer.alloc(4 * PAGE, 1));
    const handle = await fs.open('/s/c.bin');
    store.reset();
    expect([...new Set(await handle.readRange(0, PAGE))]).toEqual([1]);
    expect(store.calls).toEqual([
      { op: 'read', key: 'c.bin', range: { offset: 0, length: PAGE } },
      { op: 'stat', key: 'c.bin' },
    ]);
    await seed('c.bin', Buffer.alloc(4 * PAGE, 2)); // changed behind stratafs' back
    await expect(handle.readRange(2 * PAGE, PAGE)).rejects.toMatchObject({ code: 'ESTALE' });
    // The refused page was not kept: the handle's version is asked for again, and refused again.
    store.reset();
    await expect(handle.readRange(2 * PAGE, PAGE)).rejects.toMatchObject({ code: 'ESTALE' });
    expect(store.count('read')).toBe(1);
    expect([...new Set(await fs.readFile('/s/c.bin'))]).toEqual([2]);
  });

  it('a file that shrank behind a store without conditionalRead is read at its new version, not failed as a short body', async () => {
    await setup({ metadata: { syncInterval: 60_000 } });
    await seed('s.bin', Buffer.alloc(4 * PAGE, 1));
    expect((await fs.stat('/s/s.bin')).size).toBe(4 * PAGE); // the old size is cached
    await seed('s.bin', Buffer.alloc(PAGE + 10, 2)); // shrunk behind stratafs' back
    const read = await fs.readFile('/s/s.bin');
    expect(read.length).toBe(PAGE + 10);
    expect([...new Set(read)]).toEqual([2]);
    const handle = await fs.open('/s/s.bin');
    await seed('s.bin', Buffer.alloc(10, 3));
    await fs.free('/s/s.bin');
    await expect(handle.readRange(0, 2 * PAGE)).rejects.toMatchObject({ code: 'ESTALE' });
  });

  it('a body that breaks off is fetched again from where it broke, not from the start, and never mixes versions', async () => {
    await setup({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    const readWithInfo = store.readWithInfo.bind(store);
    let breakAfter: number | undefined;
    let onBreak = async (): Promise<void> => undefined;
    store.readWithInfo = async (key, range, opts) => {
      const answer = await readWithInfo(key, range, opts);
      const cut = breakAfter;
      if (cut === undefined) return answer;
      breakAfter = undefined;
      const bytes = Buffer.concat(await answer.body.toArray());
      const broken = async function* (): AsyncGenerator<Buffer> {
        yield bytes.subarray(0, cut);
        await onBreak();
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      };
      return { ...answer, body: Readable.from(broken(), { objectMode: false }) };
    };
    const data = randomBytes(10 * PAGE);
    await seed('b.bin', data);
    breakAfter = 6 * PAGE + 100;
    expect((await fs.readFile('/s/b.bin')).equals(data)).toBe(true);
    expect(store.calls.filter((c) => c.op === 'read').map((c) => c.range)).toEqual([
      { offset: 0, length: 10 * PAGE },
      { offset: 6 * PAGE + 100, length: 4 * PAGE - 100 },
    ]);
    // The object is replaced between the two attempts: the read ends all new, never half old.
    await seed('v.bin', Buffer.alloc(10 * PAGE, 1));
    breakAfter = 2 * PAGE;
    onBreak = () => seed('v.bin', Buffer.alloc(10 * PAGE, 2));
    expect([...new Set(await fs.readFile('/s/v.bin'))]).toEqual([2]);
  });

  it('a store that reads a given version (conditionalRead) gets no stat after a fetch', async () => {
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '16MiB' } } });
    store = new CountingStore(undefined, { rangeRead: true, list: true, copy: true, rename: true, directories: false, conditionalRead: true });
    await fs.mount('/s', store);
    await seed('c.bin', Buffer.alloc(4 * PAGE, 1));
    const handle = await fs.open('/s/c.bin');
    store.reset();
    expect([...new Set(await handle.readRange(0, PAGE))]).toEqual([1]);
    expect(store.calls).toEqual([{ op: 'read', key: 'c.bin', range: { offset: 0, length: PAGE } }]);
    await seed('c.bin', Buffer.alloc(4 * PAGE, 2));
    await expect(handle.readRange(2 * PAGE, PAGE)).rejects.toMatchObject({ code: 'ESTALE' });
  });

  it('within syncInterval an outside change is read at the old version, never a mix', async () => {
    await setup({ metadata: { syncInterval: 60_000 } });
    const v1 = Buffer.alloc(4 * PAGE, 1);
    await seed('w.bin', v1);
    await fs.readFile('/s/w.bin', { offset: 0, length: PAGE });
    await seed('w.bin', Buffer.alloc(4 * PAGE, 2));
    const read = await fs.readFile('/s/w.bin');
    const distinct = new Set(read);
    expect(distinct.size).toBe(1); // all old or (after ESTALE retry) all new, never both
  });

  it('NO_CACHE reads from the cache when there but never adds', async () => {
    await setup();
    const data = randomBytes(2 * PAGE);
    await seed('n.bin', data);
    await fs.readFile('/s/n.bin', { readType: 'NO_CACHE' });
    await fs.readFile('/s/n.bin', { readType: 'NO_CACHE' });
    expect(store.bytesRead).toBe(2 * data.length);
    expect(fs.stats().memory.pages).toBe(0);
    await fs.readFile('/s/n.bin');
    store.reset();
    await fs.readFile('/s/n.bin', { readType: 'NO_CACHE' });
    expect(store.bytesRead).toBe(0);
  });

  it('free drops pages and metadata; load warms with progress', async () => {
    await setup();
    await seed('d/a', randomBytes(3 * PAGE));
    await seed('d/b', randomBytes(PAGE));
    const progress: number[] = [];
    await fs.load('/s/d', { recursive: true, onProgress: (p) => progress.push(p.bytes) });
    expect(progress.at(-1)).toBe(4 * PAGE);
    store.reset();
    await fs.readFile('/s/d/a');
    expect(store.bytesRead).toBe(0);
    await fs.free('/s/d', { recursive: true });
    expect(fs.stats().memory.pages).toBe(0);
    await fs.readFile('/s/d/a');
    expect(store.bytesRead).toBe(3 * PAGE);
  });

  it('load fetches a file\'s missing pages together: one ranged read per 4 MiB, not one per page', async () => {
    await setup();
    const data = randomBytes(100 * PAGE + 5); // 101 pages: batches of 64 and 37
    await seed('big.bin', data);
    await fs.readFile('/s/big.bin', { offset: 10 * PAGE, length: PAGE }); // one page cached splits the first batch
    store.reset();
    const progress: number[] = [];
    await fs.load('/s/big.bin', { onProgress: (p) => progress.push(p.bytes) });
    expect(store.count('read')).toBe(3);
    expect(progress.at(-1)).toBe(data.length);
    store.reset();
    expect((await fs.readFile('/s/big.bin')).equals(data)).toBe(true);
    expect(store.bytesRead).toBe(0);
  });

  it('load of a directory tree asks the store for each file once: its bytes, not a stat the listing answered', async () => {
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '16MiB' } } });
    store = new CountingStore(undefined, { rangeRead: true, list: true, copy: true, rename: true, directories: false, conditionalRead: true }); // no version check after a fetch
    await fs.mount('/s', store);
    for (let i = 0; i < 12; i++) await seed(`tree/${i % 3}/f${i}`, randomBytes(PAGE + i));
    await fs.load('/s/tree', { recursive: true });
    expect(store.count('read')).toBe(12);
    expect(store.count('stat')).toBeLessThanOrEqual(1); // the directory itself
    store.reset();
    expect((await fs.readFile('/s/tree/2/f5')).length).toBe(PAGE + 5);
    expect(store.calls).toEqual([]);
  });

  it('pinned pages survive pressure and free; unpin makes them evictable', async () => {
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: 8 * PAGE } } });
    store = new CountingStore();
    await fs.mount('/s', store);
    await seed('pinned', randomBytes(2 * PAGE));
    for (let i = 0; i < 5; i++) await seed(`other${i}`, randomBytes(2 * PAGE));
    await fs.pin('/s/pinned');
    for (let i = 0; i < 5; i++) await fs.readFile(`/s/other${i}`);
    await fs.free('/s/pinned');
    store.reset();
    await fs.readFile('/s/pinned');
    expect(store.bytesRead).toBe(0);
    expect(fs.stats().memory.used).toBeLessThanOrEqual(8 * PAGE);
    await fs.unpin('/s/pinned');
    for (let i = 0; i < 5; i++) await fs.readFile(`/s/other${i}`);
    store.reset();
    await fs.readFile('/s/pinned');
    expect(store.bytesRead).toBe(2 * PAGE);
  });

  it('pinning a file that is already cached in memory pins its pages too', async () => {
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: 8 * PAGE } } });
    store = new CountingStore();
    await fs.mount('/s', store);
    const data = randomBytes(3 * PAGE);
    await seed('cached', data);
    for (let i = 0; i < 5; i++) await seed(`other${i}`, randomBytes(2 * PAGE));
    await fs.readFile('/s/cached');
    store.reset();
    await fs.pin('/s/cached');
    expect(store.bytesRead).toBe(0);
    for (let i = 0; i < 5; i++) await fs.readFile(`/s/other${i}`);
    store.reset();
    expect((await fs.readFile('/s/cached')).equals(data)).toBe(true);
    expect(store.bytesRead).toBe(0);
    expect(fs.stats().memory.used).toBeLessThanOrEqual(8 * PAGE);
  });

  it('load resolves once the pages it fetched are on the disk tier: reads that evict them from memory right after cost no store read', async () => {
    const dir = await tempDir();
    try {
      fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: 4 * PAGE }, disk: { dir: dir.dir, capacity: 64 * PAGE } } });
      store = new CountingStore();
      await fs.mount('/s', store);
      const data = randomBytes(2 * PAGE);
      await seed('p.bin', data);
      for (let i = 0; i < 3; i++) await seed(`other${i}`, randomBytes(2 * PAGE));
      await fs.load('/s/p.bin');
      expect(fs.stats().disk?.pages).toBe(2);
      await Promise.all([0, 1, 2].map((i) => fs.readFile(`/s/other${i}`)));
      store.reset();
      expect((await fs.readFile('/s/p.bin')).equals(data)).toBe(true);
      expect(store.bytesRead).toBe(0);
    } finally {
      await fs.close();
      await dir.cleanup();
    }
  });

  it('pinning a file cached in memory but gone from the disk tier writes it to disk, pinned', async () => {
    const dir = await tempDir();
    try {
      // The disk tier is smaller than memory: the file's disk pages are evicted while memory keeps them.
      fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: 16 * PAGE }, disk: { dir: dir.dir, capacity: 8 * PAGE } } });
      store = new CountingStore();
      await fs.mount('/s', store);
      const data = randomBytes(3 * PAGE);
      await seed('a.bin', data);
      await fs.readFile('/s/a.bin');
      for (let i = 0; i < 3; i++) {
        await seed(`d${i}`, randomBytes(4 * PAGE));
        await fs.readFile(`/s/d${i}`);
      }
      await fs.readFile('/s/a.bin');
      store.reset();
      await fs.pin('/s/a.bin');
      expect(store.bytesRead).toBe(0);
      for (let i = 0; i < 6; i++) {
        await seed(`o${i}`, randomBytes(4 * PAGE));
        await fs.readFile(`/s/o${i}`);
      }
      store.reset();
      expect((await fs.readFile('/s/a.bin')).equals(data)).toBe(true);
      expect(store.bytesRead).toBe(0);
    } finally {
      await fs.close();
      await dir.cleanup();
    }
  });

  it('pin() fails with ENOSPC when the pinned data does not fit, in memory or on disk', async () => {
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: 4 * PAGE } } });
    store = new CountingStore();
    await fs.mount('/s', store);
    /** Pinning `tooBig` fails with ENOSPC; once unpinned, `fits` can be pinned. */
    const expectPinOverflow = async (tooBig: string, fits: string): Promise<void> => {
      await expectCode(fs.pin(tooBig), 'ENOSPC');
      await fs.unpin(tooBig);
      await fs.pin(fits);
    };
    await seed('big', randomBytes(6 * PAGE));
    await seed('small', randomBytes(2 * PAGE));
    await expectPinOverflow('/s/big', '/s/small');
    await fs.close();

    const dir = await tempDir();
    try {
      fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: 16 * PAGE }, disk: { dir: dir.dir, capacity: 4 * PAGE } } });
      await fs.mount('/s', store);
      await seed('d/a', randomBytes(3 * PAGE));
      await seed('d/b', randomBytes(3 * PAGE));
      await expectPinOverflow('/s/d', '/s/d/a');
    } finally {
      await fs.close();
      await dir.cleanup();
    }
  });

  it('memory capacity is never exceeded under a random workload', async () => {
    const capacity = 10 * PAGE;
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity } } });
    store = new CountingStore();
    await fs.mount('/s', store);
    const files = Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, data: randomBytes((i + 1) * PAGE + i * 77) }));
    for (const f of files) await seed(f.name, f.data);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ file: fc.integer({ min: 0, max: 5 }), offset: fc.nat(7 * PAGE), length: fc.nat(3 * PAGE), op: fc.constantFrom('read', 'free', 'write') }), { maxLength: 30 }),
        async (ops) => {
          for (const { file, offset, length, op } of ops) {
            const f = files[file]!;
            if (op === 'read') {
              const got = await fs.readFile(`/s/${f.name}`, { offset, length });
              expect(got.equals(f.data.subarray(offset, offset + length))).toBe(true);
            } else if (op === 'free') await fs.free(`/s/${f.name}`);
            else {
              f.data = randomBytes(f.data.length);
              await fs.writeFile(`/s/${f.name}`, f.data);
            }
            expect(fs.stats().memory.used).toBeLessThanOrEqual(capacity);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('stat and readdir are answered from the metadata cache within syncInterval', async () => {
    await setup({ metadata: { syncInterval: 60_000 } });
    await seed('m/a', Buffer.from('a'));
    await fs.stat('/s/m/a');
    await fs.readdir('/s/m');
    store.reset();
    for (let i = 0; i < 10; i++) {
      await fs.stat('/s/m/a');
      await fs.readdir('/s/m');
    }
    expect(store.count('stat') + store.count('list')).toBe(0);
    await expect(fs.stat('/s/m/missing')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.stat('/s/m/missing')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(store.count('stat')).toBe(1); // negative entry reused
    await fs.writeFile('/s/m/missing', 'now here');
    expect((await fs.stat('/s/m/missing')).size).toBe(8); // own writes seen at once
    expect(await fs.readdir('/s/m')).toEqual(['a', 'missing']);
  });

  it('concurrent readdirs of a directory not cached share one store listing; one that aborts leaves the others their answer', async () => {
    await setup();
    for (let i = 0; i < 30; i++) await seed(`big/f${i}`, Buffer.from('x'));
    const list = store.list.bind(store);
    store.list = async function* (prefix, opts) {
      await sleep(100); // a slow store: the listing takes a while
      yield* list(prefix, opts);
    };
    const controller = new AbortController();
    const leaving = fs.readdir('/s/big', { signal: controller.signal });
    const listings = Array.from({ length: 20 }, () => fs.readdir('/s/big'));
    controller.abort();
    await expect(leaving).rejects.toMatchObject({ name: 'AbortError' });
    const answers = await Promise.all(listings);
    expect(answers.every((names) => names.length === 30)).toBe(true);
    expect(store.count('list')).toBe(1);
  });

  it('syncInterval 0 asks the store every time', async () => {
    await setup({ metadata: { syncInterval: 0 } });
    await seed('z', Buffer.from('z'));
    await fs.stat('/s/z');
    await fs.stat('/s/z');
    expect(store.count('stat')).toBe(2);
  });

  it('a per-mount syncInterval overrides the global one', async () => {
    fs = new StrataFS({ metadata: { syncInterval: 60_000 } });
    store = new CountingStore();
    await fs.mount('/s', store, { syncInterval: 0 });
    await seed('z', Buffer.from('z'));
    await fs.stat('/s/z');
    await fs.stat('/s/z');
    expect(store.count('stat')).toBe(2);
  });
});
