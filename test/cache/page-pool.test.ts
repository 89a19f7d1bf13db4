/**
 * Recycled page memory: a page the memory tier lets go of is reused for a later fetch, but never
 * while something may still read it (a running read, a stream's consumer, a pending disk write),
 * so recycling can never show one file's bytes in another's.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { PagePool } from '../../src/cache/page-pool.js';
import { CountingStore } from '../support/counting-store.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;

describe('PagePool', () => {
  afterEach(() => vi.useRealTimers());

  it('hands a retired page out again when no read is running', () => {
    const pool = new PagePool(PAGE, 4 * PAGE);
    const page = pool.take(PAGE);
    pool.retire(page);
    expect(pool.take(PAGE)).toBe(page);
    expect(pool.reused).toBe(1);
  });

  it('keeps a page retired during a read until that read ends', () => {
    const pool = new PagePool(PAGE, 4 * PAGE);
    const page = pool.take(PAGE);
    const done = pool.begin();
    pool.retire(page);
    const other = pool.take(PAGE);
    expect(other).not.toBe(page);
    done();
    expect(pool.take(PAGE)).toBe(page);
  });

  it('does not wait for reads that began after the page was retired', () => {
    const pool = new PagePool(PAGE, 4 * PAGE);
    const page = pool.take(PAGE);
    const older = pool.begin();
    pool.retire(page);
    const newer = pool.begin();
    older();
    expect(pool.take(PAGE)).toBe(page);
    newer();
  });

  it('never recycles a lent page, even one lent while it waited', () => {
    const pool = new PagePool(PAGE, 4 * PAGE);
    const lent = pool.take(PAGE);
    pool.lend(lent);
    pool.retire(lent);
    expect(pool.take(PAGE)).not.toBe(lent);

    const waiting = pool.take(PAGE);
    const done = pool.begin();
    pool.retire(waiting);
    pool.lend(waiting);
    done();
    expect(pool.take(PAGE)).not.toBe(waiting);
    expect(pool.reused).toBe(0);
  });

  it('recycles only page-sized buffers it made itself, each once', () => {
    const pool = new PagePool(PAGE, 4 * PAGE);
    const foreign = Buffer.allocUnsafeSlow(PAGE);
    pool.retire(foreign);
    const edge = pool.take(PAGE - 1);
    pool.retire(edge);
    expect(pool.heldBytes).toBe(0);
    const page = pool.take(PAGE);
    pool.retire(page);
    pool.retire(page);
    expect(pool.heldBytes).toBe(PAGE);
    expect(pool.take(PAGE)).toBe(page);
    expect(pool.take(PAGE)).not.toBe(page);
  });

  it('holds at most maxBytes', () => {
    const pool = new PagePool(PAGE, 2 * PAGE);
    const pages = [pool.take(PAGE), pool.take(PAGE), pool.take(PAGE)];
    for (const page of pages) pool.retire(page);
    expect(pool.heldBytes).toBe(2 * PAGE);
    const off = new PagePool(PAGE, 0);
    const page = off.take(PAGE);
    off.retire(page);
    expect(off.take(PAGE)).not.toBe(page);
  });

  it('lets go of its free pages once none was taken for idleMs', () => {
    vi.useFakeTimers();
    const pool = new PagePool(PAGE, 4 * PAGE, 1000);
    const page = pool.take(PAGE);
    pool.retire(page);
    expect(pool.heldBytes).toBe(PAGE);
    vi.advanceTimersByTime(1001);
    expect(pool.heldBytes).toBe(0);
    expect(pool.take(PAGE)).not.toBe(page);
  });
});

describe('recycled pages through StrataFS', () => {
  let fs: StrataFS;
  let store: CountingStore;
  let cleanup: (() => Promise<void>) | undefined;

  async function setup(options: ConstructorParameters<typeof StrataFS>[0] = { cache: { pageSize: PAGE, memory: { capacity: '16MiB' } } }): Promise<void> {
    fs = new StrataFS(options);
    store = new CountingStore();
    await fs.mount('/s', store);
  }
  afterEach(async () => {
    await fs?.close();
    await cleanup?.();
    cleanup = undefined;
  });
  /** Reads three other files of `size` bytes (checking them), freeing each: their fetches take released memory. */
  async function readAndFreeOthers(size: number): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const other = randomBytes(size);
      await store.inner.write(`o${i}.bin`, other);
      expect((await fs.readFile(`/s/o${i}.bin`)).equals(other)).toBe(true);
      await fs.free(`/s/o${i}.bin`);
    }
  }

  it('stats() shows the page memory kept for reuse and the pages filled into it', async () => {
    await setup();
    const a = randomBytes(6 * PAGE);
    const b = randomBytes(6 * PAGE);
    await Promise.all([store.inner.write('a.bin', a), store.inner.write('b.bin', b)]);
    await fs.readFile('/s/a.bin');
    expect(fs.stats().memory).toMatchObject({ used: 6 * PAGE, pooled: 0, reused: 0 });
    await fs.free('/s/a.bin');
    expect(fs.stats().memory).toMatchObject({ used: 0, pooled: 6 * PAGE, reused: 0 });
    expect((await fs.readFile('/s/b.bin')).equals(b)).toBe(true);
    expect(fs.stats().memory).toMatchObject({ used: 6 * PAGE, pooled: 0, reused: 6 });
  });

  it("a stream's chunks keep their bytes after their file is dropped and other files reuse the memory", async () => {
    await setup();
    const a = randomBytes(12 * PAGE);
    await store.inner.write('a.bin', a);
    const chunks: Buffer[] = [];
    for await (const chunk of fs.createReadStream('/s/a.bin')) chunks.push(chunk as Buffer);
    await fs.free('/s/a.bin');
    await readAndFreeOthers(12 * PAGE);
    expect(Buffer.concat(chunks).equals(a)).toBe(true);
  });

  it('pinning a cached file keeps its pages: they are not reused for the next fetches', async () => {
    await setup();
    const a = randomBytes(6 * PAGE);
    await store.inner.write('a.bin', a);
    expect((await fs.readFile('/s/a.bin')).equals(a)).toBe(true);
    await fs.pin('/s/a.bin');
    await readAndFreeOthers(6 * PAGE);
    store.reset();
    expect((await fs.readFile('/s/a.bin')).equals(a)).toBe(true);
    expect(store.bytesRead).toBe(0);
  });

  it('written data is copied into pages that may reuse released memory; the caller keeps its buffer', async () => {
    await setup();
    const a = randomBytes(5 * PAGE);
    const original = Buffer.from(a);
    await fs.writeFile('/s/a.bin', a);
    a.fill(0); // the caller reuses its buffer
    store.reset();
    expect((await fs.readFile('/s/a.bin')).equals(original)).toBe(true);
    expect(store.bytesRead).toBe(0);
    await fs.free('/s/a.bin');
    const b = randomBytes(5 * PAGE);
    await fs.writeFile('/s/b.bin', b);
    expect((await fs.readFile('/s/b.bin')).equals(b)).toBe(true);
    expect((await fs.readFile('/s/a.bin')).equals(original)).toBe(true);
  });

  it('readFile results and later reads stay exact while dropped pages are reused', async () => {
    await setup();
    const files = Array.from({ length: 4 }, () => randomBytes(9 * PAGE + 123));
    const results: Buffer[] = [];
    for (const [i, data] of files.entries()) {
      await store.inner.write(`f${i}.bin`, data);
      results.push(await fs.readFile(`/s/f${i}.bin`));
      await fs.free(`/s/f${i}.bin`);
    }
    results.forEach((result, i) => expect(result.equals(files[i]!)).toBe(true));
    for (const [i, data] of files.entries()) expect((await fs.readFile(`/s/f${i}.bin`, { offset: PAGE + 7, length: 5 * PAGE })).equals(data.subarray(PAGE + 7, 6 * PAGE + 7))).toBe(true);
  });

  it('concurrent readers of files larger than a tiny memory tier never see mixed bytes', async () => {
    // The tier holds 8 pages (2 kept for reuse), so pages are evicted and recycled while other
    // reads still copy from them: each file is read by two readers at once, sharing pages.
    await setup({ cache: { pageSize: PAGE, memory: { capacity: 8 * PAGE } } });
    const files = Array.from({ length: 6 }, () => randomBytes(7 * PAGE + 99));
    await Promise.all(files.map((data, i) => store.inner.write(`c${i}.bin`, data)));
    for (let round = 0; round < 4; round++) {
      const reads = files.flatMap((data, i) => [
        fs.readFile(`/s/c${i}.bin`).then((got) => expect(got.equals(data)).toBe(true)),
        fs.readFile(`/s/c${i}.bin`, { offset: 2 * PAGE + 5, length: 3 * PAGE }).then((got) => expect(got.equals(data.subarray(2 * PAGE + 5, 5 * PAGE + 5))).toBe(true)),
      ]);
      await Promise.all(reads);
    }
  });

  it('a page evicted and reused while a reader still waits for it is not reused before that reader is done', async () => {
    // Reader 1 shares pages 0-2 of x with reader 0 and fetches pages 3-5 itself, slowly. Meanwhile
    // y evicts page 0 (the tier holds 8 pages, so it keeps 2 for reuse), then z is fetched: the
    // buffer of page 0 must not be among those it fills.
    await setup({ cache: { pageSize: PAGE, memory: { capacity: 8 * PAGE } } });
    const x = randomBytes(6 * PAGE);
    const y = randomBytes(6 * PAGE);
    const z = randomBytes(3 * PAGE);
    await Promise.all([store.inner.write('x', x), store.inner.write('y', y), store.inner.write('z', z)]);
    await Promise.all(['x', 'y', 'z'].map((k) => fs.stat(`/s/${k}`)));
    const gates = new Map<number, () => void>();
    const read = store.readWithInfo.bind(store);
    store.readWithInfo = async (key, range, opts) => {
      if (key === 'x') await new Promise<void>((resolve) => gates.set(range?.offset ?? 0, resolve));
      return read(key, range, opts);
    };
    const reader0 = fs.readFile('/s/x', { offset: 0, length: 3 * PAGE });
    await vi.waitFor(() => expect(gates.has(0)).toBe(true));
    const reader1 = fs.readFile('/s/x');
    await vi.waitFor(() => expect(gates.has(3 * PAGE)).toBe(true));
    gates.get(0)!();
    expect((await reader0).equals(x.subarray(0, 3 * PAGE))).toBe(true);
    expect((await fs.readFile('/s/y')).equals(y)).toBe(true);
    expect((await fs.readFile('/s/z')).equals(z)).toBe(true);
    gates.get(3 * PAGE)!();
    expect((await reader1).equals(x)).toBe(true);
  });

  it('pages evicted from memory while being written to disk reach the disk intact', async () => {
    const dir = await tempDir();
    cleanup = dir.cleanup;
    await setup({ cache: { pageSize: PAGE, memory: { capacity: 8 * PAGE }, disk: { dir: dir.dir, capacity: '64MiB' } } });
    const files = Array.from({ length: 5 }, () => randomBytes(6 * PAGE));
    for (const [i, data] of files.entries()) {
      await store.inner.write(`d${i}.bin`, data);
      expect((await fs.readFile(`/s/d${i}.bin`)).equals(data)).toBe(true);
    }
    await fs.close(); // waits for the disk writes
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: 8 * PAGE }, disk: { dir: dir.dir, capacity: '64MiB' } } });
    await fs.mount('/s', store);
    store.reset();
    for (const [i, data] of files.entries()) expect((await fs.readFile(`/s/d${i}.bin`)).equals(data)).toBe(true);
    expect(store.bytesRead).toBe(0);
  });
});
