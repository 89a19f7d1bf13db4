/**
 * A disk slower than the store: the page writes on their way to the disk tier (each holds its
 * page in memory and a temp file in the cache dir that the capacity does not count yet) stay
 * within a quarter of the disk capacity, however many pages the reads fetch meanwhile; reads
 * stay correct and are not held up; `load` waits for room instead, so it still warms the disk.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openDiskCache } from '../../src/cache/disk/index.js';
import type { DiskTier } from '../../src/cache/disk-tier-types.js';
import { MemoryTier } from '../../src/cache/memory-tier.js';
import { newCounters, PageCache, type PageSource } from '../../src/cache/page-cache.js';
import type { PageId } from '../../src/cache/page-id.js';
import { DiskWriteBudget, MAX_DISK_WRITES } from '../../src/cache/disk-write-budget.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const KiB = 1024;
const PAGE = 64 * KiB;
const CAPACITY = 4 * 1024 * KiB; // a quarter: 16 pages on their way at most

/** A disk tier whose page writes wait at a gate; it records the most bytes of writes on their way at once. */
class GatedDisk {
  onTheirWay = 0;
  most = 0;
  #open = false;
  #waiting: (() => void)[] = [];
  readonly tier: DiskTier;

  constructor(inner: DiskTier) {
    this.tier = Object.create(inner) as DiskTier;
    this.tier.put = async (id: PageId, data: Buffer, opts?: { pinned?: boolean }) => {
      this.onTheirWay += data.length;
      this.most = Math.max(this.most, this.onTheirWay);
      try {
        if (!this.#open) await new Promise<void>((resolve) => this.#waiting.push(resolve));
        return await inner.put(id, data, opts);
      } finally {
        this.onTheirWay -= data.length;
      }
    };
  }

  /** Lets every write through, now and from now on. */
  open(): void {
    this.#open = true;
    for (const go of this.#waiting.splice(0)) go();
  }

  /** Lets the writes waiting now through (later ones wait again). */
  step(): void {
    for (const go of this.#waiting.splice(0)) go();
  }
}

function sourceOf(name: string, data: Buffer): PageSource {
  return {
    object: `mem://bound\n${name}`,
    version: 'v1',
    size: data.length,
    counters: newCounters(),
    fetch: async (offset, length) => ({ body: Readable.from([data.subarray(offset, offset + length)]) }),
  };
}

describe('page writes on their way to the disk tier', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function setup(): Promise<{ cache: PageCache; disk: GatedDisk }> {
    const { dir, cleanup } = await tempDir('stratafs-diskbound-');
    const { tier } = await openDiskCache(dir, CAPACITY, PAGE);
    cleanups.push(async () => {
      await tier.close();
      await cleanup();
    });
    const disk = new GatedDisk(tier);
    return { cache: new PageCache(PAGE, new MemoryTier(8 * PAGE, PAGE), disk.tier), disk };
  }

  it('stay within a quarter of the disk capacity while reads fetch far more; the reads are correct', async () => {
    const { cache, disk } = await setup();
    const files = Array.from({ length: 20 }, (_, n) => ({ src: sourceOf(`f${n}`, randomBytes(32 * PAGE)), n }));
    const read = await Promise.all(
      files.map(async ({ src }) => {
        const out = Buffer.alloc(src.size);
        await cache.readInto(src, 0, src.size, out, 0, { readType: 'CACHE' });
        return out;
      }),
    );
    // 20 x 2 MiB were fetched while the disk took nothing: at most 1 MiB of it waits for the disk.
    expect(disk.most).toBeLessThanOrEqual(CAPACITY / 4);
    disk.open();
    await cache.settle();
    for (const [n, { src }] of files.entries()) {
      const again = Buffer.alloc(src.size);
      await cache.readInto(src, 0, src.size, again, 0, { readType: 'CACHE' });
      expect(again.equals(read[n]!)).toBe(true);
    }
    expect(disk.tier.stats().used).toBeLessThanOrEqual(CAPACITY);
  });

  it('a load waits for room rather than skip the disk: every page of what it warms is on disk', async () => {
    const { cache, disk } = await setup();
    const src = sourceOf('warm', randomBytes(48 * PAGE)); // 3 MiB: fits the disk, not one batch of writes
    const warming = (async () => {
      for (let first = 0; first < 48; first += 8) await cache.warm(src, first, 8, { readType: 'CACHE' });
    })();
    let done = false;
    void warming.finally(() => (done = true));
    while (!done) {
      disk.step();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await warming;
    expect(disk.most).toBeLessThanOrEqual(CAPACITY / 4 + 8 * PAGE); // one batch past the bound at most
    disk.open();
    await cache.settle();
    expect(cache.cachedBytes(src.object, src.version)).toBe(src.size);
    expect(disk.tier.cachedBytes(src.object, src.version)).toBe(src.size);
  });

  it('a load that waits for room gives up at once when its signal aborts', async () => {
    const { cache, disk } = await setup();
    // The disk takes nothing: reads fill the writes on their way up to the bound.
    const busy = sourceOf('busy', randomBytes(32 * PAGE));
    await cache.readInto(busy, 0, busy.size, Buffer.alloc(busy.size), 0, { readType: 'CACHE' });
    const controller = new AbortController();
    const src = sourceOf('waits', randomBytes(8 * PAGE));
    const warming = cache.warm(src, 0, 8, { readType: 'CACHE', signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(warming).rejects.toMatchObject({ name: 'AbortError' });
    expect(cache.cachedBytes(src.object, src.version)).toBe(0);
    disk.open();
    await cache.settle();
  });
});

describe('disk write budget with tiny pages', () => {
  it('holds at most MAX_DISK_WRITES writes on their way, however small their pages (each keeps a file open)', () => {
    const budget = new DiskWriteBudget(64 * 1024 * KiB);
    let taken = 0;
    while (taken < 100_000 && budget.tryTake(100)) taken++;
    expect(taken).toBe(MAX_DISK_WRITES);
    budget.release(100);
    expect(budget.tryTake(100)).toBe(true);
    expect(budget.tryTake(100)).toBe(false);
    expect(budget.tryTake(100, true)).toBe(true); // a forced write (pinned) still goes
    for (let i = 0; i < MAX_DISK_WRITES + 1; i++) budget.release(100);
    expect(budget.used).toBe(0);
  });

  it('pages of the bound size count as before: bytes, not writes, bound them', () => {
    const budget = new DiskWriteBudget(16 * PAGE);
    let taken = 0;
    while (taken < 1000 && budget.tryTake(PAGE)) taken++;
    expect(taken).toBe(16);
  });
});
