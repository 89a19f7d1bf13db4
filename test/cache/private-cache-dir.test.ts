/**
 * The disk cache holds the bytes of private buckets: what it creates is readable by its owner
 * only, whatever the umask, so other users of the machine can not read cached data.
 */
import { readdirSync, statSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { tempDir } from '../support/helpers.js';
import { prepareCacheDir } from '../../src/cache/disk/disk-cache-dir.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Every directory and file below `dir` (itself included), with its permission bits. */
function modesBelow(dir: string): Array<{ path: string; mode: number; isDirectory: boolean }> {
  const out = [{ path: dir, mode: statSync(dir).mode & 0o777, isDirectory: true }];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    out.push({ path, mode: statSync(path).mode & 0o777, isDirectory: entry.isDirectory() });
  }
  return out;
}

describe('disk cache dir permissions', () => {
  it('the dirs, pages, pending writes and index it creates are owner-only, even with a permissive umask', async () => {
    const { dir: parent, cleanup } = await tempDir('stratafs-private-');
    cleanups.push(cleanup);
    const dir = join(parent, 'cache');
    const umask = process.umask(0o002);
    try {
      const fs = new StrataFS({ cache: { disk: { dir, capacity: '64MiB' } } });
      await fs.mount('/m', 'memory://');
      await fs.writeFile('/m/read.txt', 'cached page of a private object');
      await fs.readFile('/m/read.txt');
      await fs.writeFile('/m/pending.txt', 'pending write of a private object', { writeType: 'MUST_CACHE' });
      const entries = modesBelow(dir);
      await fs.close();
      expect(entries.some((e) => e.path.includes(`${join(dir, 'pages')}/`) && !e.isDirectory)).toBe(true);
      expect(entries.some((e) => e.path.includes(`${join(dir, 'journal')}/`))).toBe(true);
      expect(entries.some((e) => e.path === join(dir, 'index.sqlite'))).toBe(true);
      const open = entries.filter((e) => (e.mode & 0o077) !== 0).map((e) => `${e.path} ${e.mode.toString(8)}`);
      expect(open).toEqual([]);
    } finally {
      process.umask(umask);
    }
  });
});

describe('disk cache dir owner', () => {
  /** A dir owned by a user that is neither `me` nor root (chown when this runs as root, else another uid stands for "me"). */
  async function foreignDir(sub = ''): Promise<{ dir: string; me: number; other: number }> {
    const { dir: parent, cleanup } = await tempDir('stratafs-owner-');
    cleanups.push(cleanup);
    const dir = join(parent, 'cache');
    await mkdir(join(dir, sub), { recursive: true });
    const own = process.getuid!();
    if (own !== 0) return { dir, me: own + 1, other: own };
    await chown(join(dir, sub), 4242, 4242);
    return { dir, me: 1000, other: 4242 };
  }

  it.skipIf(process.platform === 'win32')('a cache dir, or a sub-directory of it, that belongs to another user is refused with EACCES naming the dir', async () => {
    for (const sub of ['', 'pages']) {
      const { dir, me, other } = await foreignDir(sub);
      const refused = await prepareCacheDir(dir, { uid: me }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'EACCES', path: dir, message: expect.stringContaining(`belongs to another user (uid ${other})`) });
      await expect(prepareCacheDir(dir, { uid: other })).resolves.toMatchObject({ root: dir }); // its owner uses it
      await expect(prepareCacheDir(dir, { uid: 0 })).resolves.toMatchObject({ root: dir }); // and root
    }
  });
});
