/**
 * The disk cache dir on a really full file system (a small tmpfs, so it runs only where tmpfs
 * can be mounted, i.e. as root on Linux). Wherever the disk runs out — under the pending data's
 * file or under the index growing to record it — a `MUST_CACHE` or `ASYNC_THROUGH` write fails
 * with `ENOSPC` naming the dir, leaves nothing pending, and works again once there is room.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryStore, StrataFS, type UnderStore } from '../../src/index.js';
import { tempDir } from '../support/helpers.js';

/** Mounts a tmpfs of `size` on `dir`; false when this process may not (not root, not Linux). */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Fills the file system of `dir` with one file until `leaveBytes` are left free; returns its path. */
function fillUp(dir: string, leaveBytes: number): string {
  const filler = join(dir, 'filler');
  const { bavail, bsize } = statfsSync(dir);
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (let written = 0; written < bavail * bsize - leaveBytes; written += block.length) writeSync(fd, block);
  } catch {
    // full before the target: the rest is what the disk had
  } finally {
    closeSync(fd);
  }
  return filler;
}

describe('a disk cache dir on a full file system', () => {
  let root: Awaited<ReturnType<typeof tempDir>>;
  let mounted = false;
  beforeAll(async () => {
    root = await tempDir('stratafs-fulldisk-');
    mounted = process.platform === 'linux' && mountTmpfs(root.dir, '16m');
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined); // the disk tier's own warning
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    if (mounted) execFileSync('umount', [root.dir]);
    await root.cleanup();
  });

  it('fails pending writes with ENOSPC naming the dir, whether the data or the index runs out of room', async ({ skip }) => {
    if (!mounted) skip();
    const dir = join(root.dir, 'cache');
    await mkdir(dir);
    const store = new MemoryStore();
    let failures = 0;
    // Left free: none, less than the data, and enough for the data but not for the index to grow.
    for (const leave of [0, 4, 8, 12, 16, 24, 32].map((kib) => kib * 1024)) {
      for (const writeType of ['MUST_CACHE', 'ASYNC_THROUGH'] as const) {
        const fs = new StrataFS({ cache: { pageSize: 4096, disk: { dir, capacity: '100MiB' } }, retry: { attempts: 1 } });
        await fs.mount('/m', store);
        await fs.writeFile('/m/warm', 'x', { writeType: 'MUST_CACHE' }); // the index has its tables and log
        const filler = fillUp(root.dir, leave);
        const failed = await fs.writeFile('/m/f', Buffer.alloc(3000, 1), { writeType }).then(
          () => undefined,
          (error: { code?: string; message: string }) => error,
        );
        // It may succeed when the cache could evict pages of the earlier rounds' files to make room.
        if (failed !== undefined) {
          failures++;
          expect(failed, `${writeType} with ${leave} bytes free`).toMatchObject({ code: 'ENOSPC', message: expect.stringContaining(`disk cache dir ${dir} is on a full disk`) });
          expect(await fs.exists('/m/f')).toBe(false);
        }
        unlinkSync(filler);
        // Room again: the same write works.
        await fs.writeFile('/m/f', Buffer.alloc(3000, 2), { writeType });
        expect((await fs.readFile('/m/f')).equals(Buffer.alloc(3000, 2))).toBe(true);
        await fs.rm('/m/f');
        await fs.close();
      }
    }
    expect(failures).toBeGreaterThan(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('evicts cached pages to make room for a pending write when the disk fills up below the capacity', async ({ skip }) => {
    if (!mounted) skip();
    const dir = join(root.dir, 'cache2');
    await mkdir(dir);
    const store = new MemoryStore();
    const data = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < 2; i++) await store.write(`cached${i}`, data);
    const fs = new StrataFS({ cache: { pageSize: 65536, memory: false, disk: { dir, capacity: '100MiB' } } });
    await fs.mount('/m', store);
    for (let i = 0; i < 2; i++) await fs.load(`/m/cached${i}`); // 2 MiB of pages the cache may drop
    for (let i = 0; i < 500 && fs.stats().disk?.used !== 2 * data.length; i++) await new Promise((r) => setTimeout(r, 10)); // written in the background
    expect(fs.stats().disk?.used, 'pages on disk').toBe(2 * data.length);
    const filler = fillUp(root.dir, 0);
    for (const writeType of ['MUST_CACHE', 'ASYNC_THROUGH'] as const) {
      await fs.writeFile(`/m/${writeType}`, Buffer.alloc(300_000, 3), { writeType });
      expect((await fs.readFile(`/m/${writeType}`)).equals(Buffer.alloc(300_000, 3))).toBe(true);
    }
    expect(fs.stats().disk?.used).toBeLessThan(2 * data.length + 600_000);
    for (let i = 0; i < 2; i++) expect((await fs.readFile(`/m/cached${i}`)).equals(data)).toBe(true);
    unlinkSync(filler);
    await fs.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('flush fails with ENOSPC, not waiting forever, when the index cannot record an upload on the full disk', async ({ skip }) => {
    if (!mounted) skip();
    const dir = join(root.dir, 'cache3');
    await mkdir(dir);
    const inner = new MemoryStore();
    let down = true; // the store refuses writes (a reset connection, retried) until the disk is full
    const store: UnderStore = {
      uri: 'down://x',
      capabilities: inner.capabilities,
      stat: (key) => inner.stat(key),
      list: (prefix, opts) => inner.list(prefix, opts),
      read: (key, range) => inner.read(key, range),
      delete: (key) => inner.delete(key),
      write: async (key, body, opts) => {
        if (down) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return inner.write(key, body, opts);
      },
    };
    const fs = new StrataFS({ cache: { pageSize: 4096, memory: false, disk: { dir, capacity: '100MiB' } }, retry: { attempts: 1, minDelay: 1, maxDelay: 1 } });
    await fs.mount('/m', store);
    await fs.writeFile('/m/p', Buffer.alloc(3000, 4), { writeType: 'ASYNC_THROUGH' });
    const filler = fillUp(root.dir, 0);
    down = false;
    const failed = await fs.flush().then(
      () => undefined,
      (error: { code?: string; message: string }) => error,
    );
    // The upload either got its record through, or fails naming the full disk.
    if (failed !== undefined) expect(failed).toMatchObject({ code: 'ENOSPC', message: expect.stringContaining(`disk cache dir ${dir} is on a full disk`) });
    unlinkSync(filler);
    await fs.flush();
    expect((await inner.stat('p'))?.size).toBe(3000);
    await fs.close();
  }, 20_000);
});
