/**
 * `MUST_CACHE` / `ASYNC_THROUGH` writes that do not all fit in the disk cache: the ones that
 * cannot fit fail with `ENOSPC` before they write anything, and the cache dir holds no more than
 * its capacity (plus the page writes on their way) even while their data is being written (held
 * here, as a slow disk would, once written and before it is recorded).
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StrataError, StrataFS, type UnderStore } from '../../src/index.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const gate = vi.hoisted(() => ({ arrived: 0, closed: false, waiting: [] as (() => void)[] }));

vi.mock('../../src/cache/disk/cache-file.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/cache/disk/cache-file.js')>();
  return {
    ...original,
    // The journal's data (fsynced) waits here once written, while the gate is closed.
    writeCacheFile: async (path: string, data: Uint8Array, trailer: Buffer, sync: boolean) => {
      await original.writeCacheFile(path, data, trailer, sync);
      if (!sync || !gate.closed) return;
      gate.arrived++;
      await new Promise<void>((resolve) => gate.waiting.push(resolve));
    },
  };
});

const MiB = 1024 * 1024;
const CAPACITY = 8 * MiB;
/** The trailers of the files in the dir (their data only counts against the capacity). */
const TRAILERS = 64 * 1024;

/** Bytes of every file below `dir` but the index. */
async function bytesIn(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && !entry.name.startsWith('index.')) total += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size; // gone meanwhile: evicted
  }
  return total;
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('pending writes beyond the disk cache capacity', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    gate.closed = false;
    for (const go of gate.waiting.splice(0)) go();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  for (const writeType of ['MUST_CACHE', 'ASYNC_THROUGH'] as const) {
    it(`${writeType}: those that cannot fit fail with ENOSPC without writing; the dir stays within capacity; the others are kept`, async () => {
      const { dir, cleanup } = await tempDir('stratafs-journal-space-');
      const open: StrataFS[] = [];
      const make = (): StrataFS => {
        const fs = new StrataFS({ cache: { memory: { capacity: '4MiB' }, disk: { dir, capacity: CAPACITY } } });
        open.push(fs);
        return fs;
      };
      cleanups.push(async () => {
        for (const fs of open) await fs.close();
        await cleanup();
      });
      // A store that is down: ASYNC_THROUGH data stays pending through the test.
      const down = async (): Promise<never> => {
        throw new StrataError('EIO', 'the store is down', { temporary: true });
      };
      const downStore: UnderStore = { uri: 'down://x', capabilities: { rangeRead: true, list: true, copy: false, rename: false, directories: false }, stat: async () => undefined, list: async function* () {}, read: down, write: down, delete: down };
      const fs = make();
      await fs.mount('/s', downStore);
      await fs.mount('/m', 'memory://journal-space');
      // The dir full of pages first: they make room for the pending data.
      await fs.writeFile('/m/cached.bin', randomBytes(CAPACITY), { writeType: 'CACHE_THROUGH' });
      await fs.readFile('/m/cached.bin');

      gate.closed = true;
      const data = Array.from({ length: 12 }, () => randomBytes(2 * MiB));
      const writes = data.map((d, i) => fs.writeFile(`/s/p${i}.bin`, d, { writeType }).then(() => 'ok', (error: { code?: string }) => error.code));
      let failed = 0;
      for (const w of writes) void w.then((outcome) => void (outcome !== 'ok' && failed++));
      while (gate.arrived + failed < writes.length) await new Promise((resolve) => setImmediate(resolve));
      // Every write that is going to succeed has written its data; the others failed before
      // writing, and pages made room for it first (past the capacity: only page writes that were
      // on their way, a quarter of it at most).
      expect(await bytesIn(dir)).toBeLessThanOrEqual(CAPACITY + CAPACITY / 4 + TRAILERS);
      gate.closed = false;
      for (const go of gate.waiting.splice(0)) go();

      const outcomes = await Promise.all(writes);
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(CAPACITY / (2 * MiB));
      expect(outcomes.filter((o) => o !== 'ok').every((o) => o === 'ENOSPC')).toBe(true);
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome === 'ok') expect(sha(await fs.readFile(`/s/p${i}.bin`))).toBe(sha(data[i]!));
      }
      expect(fs.stats().pendingWrites).toBe(CAPACITY / (2 * MiB));
      await fs.close();
      expect(await bytesIn(join(dir, 'tmp'))).toBe(0);

      // Kept across a restart on the dir.
      const again = make();
      await again.mount('/s', downStore);
      expect(again.stats().pendingWrites).toBe(CAPACITY / (2 * MiB));
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome === 'ok') expect(sha(await again.readFile(`/s/p${i}.bin`))).toBe(sha(data[i]!));
      }
    });
  }
});
