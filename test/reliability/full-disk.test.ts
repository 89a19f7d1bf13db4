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
import { MemoryStore, StrataFS } from '../../src/index.js';
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
    mounted = process.platform === 'linux' && mountTmpfs(root.dir, '4m');
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
        expect(failed, `${writeType} with ${leave} bytes free`).toMatchObject({ code: 'ENOSPC', message: expect.stringContaining(`disk cache dir ${dir} is on a full disk`) });
        expect(await fs.exists('/m/f')).toBe(false);
        unlinkSync(filler);
        // Room again: the same write works.
        await fs.writeFile('/m/f', Buffer.alloc(3000, 2), { writeType });
        expect((await fs.readFile('/m/f')).equals(Buffer.alloc(3000, 2))).toBe(true);
        await fs.rm('/m/f');
        await fs.close();
      }
    }
    await rm(dir, { recursive: true, force: true });
  });
});
