/**
 * `close()` with a background upload still on its way: the upload never meets the closed disk
 * cache with an error (no warning), and nothing is lost.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { randomBytes, readAll, tempDir } from '../support/helpers.js';

const slowDisk = vi.hoisted(() => ({ holding: false, waiting: [] as (() => void)[], removals: [] as Promise<void>[] }));

vi.mock('../../src/cache/disk/disk-cache-dir.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/cache/disk/disk-cache-dir.js')>();
  return {
    ...original,
    // A slow disk: removing the data of an uploaded write waits here while `holding`.
    unlinkQuietly: (paths: readonly string[]) => {
      if (!slowDisk.holding || !paths.some((p) => p.includes('/journal/'))) return original.unlinkQuietly(paths);
      const removal = new Promise<void>((resolve) => slowDisk.waiting.push(resolve)).then(() => original.unlinkQuietly(paths));
      slowDisk.removals.push(removal);
      return removal;
    },
  };
});

const PAGE = 64 * 1024;

describe('close with an upload on its way', () => {
  let cache: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    cache = await tempDir('stratafs-close-uploads-');
  });
  afterEach(async () => {
    slowDisk.holding = false;
    for (const go of slowDisk.waiting.splice(0)) go();
    vi.restoreAllMocks();
    await cache.cleanup();
  });

  it('an upload still finishing when close() closes the disk cache prints no warning; the file is in the store, not pending at the next open', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const store = new CountingStore('late-upload');
    const data = randomBytes(3 * PAGE);
    const options = { cache: { pageSize: PAGE, memory: { capacity: '4MiB' }, disk: { dir: cache.dir, capacity: '16MiB' } } };
    const fs = new StrataFS(options);
    await fs.mount('/a', store);
    slowDisk.holding = true;
    await fs.writeFile('/a/h', data, { writeType: 'ASYNC_THROUGH' });
    await fs.close(); // gives the upload up after its wait: it is still removing its data from the cache
    slowDisk.holding = false;
    for (const go of slowDisk.waiting.splice(0)) go();
    await Promise.all(slowDisk.removals.splice(0));
    for (let i = 0; i < 5; i++) await tick();
    expect(warnings.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('stratafs'))).toEqual([]);
    expect((await readAll(await store.inner.read('h'))).equals(data)).toBe(true);

    const again = new StrataFS(options);
    try {
      await again.mount('/a', store);
      await again.flush();
      expect(again.stats().pendingWrites).toBe(0);
      expect((await again.readFile('/a/h')).equals(data)).toBe(true);
    } finally {
      await again.close();
    }
  }, 60_000);
});
