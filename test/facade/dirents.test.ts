/**
 * `readdir` with `withFileTypes` gives `Dirent`-like entries as `fs.promises.readdir` does: code
 * written against `fs` that walks a tree with `isDirectory()` and `parentPath` works unchanged.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StrataDirent, StrataFS } from '../../src/index.js';

/** What a user reads of an entry, with the directory part made relative to `root`. */
function seen(entries: { name: string; parentPath: string; isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }[], root: string): string[] {
  return entries
    .map((e) => `${e.parentPath.slice(root.length) || '/'}|${e.name}|${e.isFile() ? 'file' : ''}${e.isDirectory() ? 'dir' : ''}${e.isSymbolicLink() ? 'link' : ''}`)
    .sort();
}

describe('readdir withFileTypes', () => {
  let dir: string;
  let fs: StrataFS;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stratafs-dirents-'));
    await mkdir(join(dir, 'a/b'), { recursive: true });
    for (const file of ['top.txt', 'a/one', 'a/b/two', 'a/b/three']) await writeFile(join(dir, file), file);
    fs = new StrataFS();
    await fs.mount('/local', `file://${dir}`);
    await fs.mount('/mem', 'memory://');
    for (const file of ['top.txt', 'a/one', 'a/b/two', 'a/b/three']) await fs.writeFile(`/mem/${file}`, file);
  });
  afterEach(async () => {
    await fs.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the names, parent paths and kinds fs gives, one level and recursive, on a local and a memory mount', async () => {
    for (const recursive of [false, true]) {
      const expected = seen(await readdir(dir, { withFileTypes: true, recursive }), dir);
      expect(expected.length).toBe(recursive ? 6 : 2);
      expect(seen(await fs.readdir('/local', { withFileTypes: true, recursive }), '/local')).toEqual(expected);
      expect(seen(await fs.readdir('/mem', { withFileTypes: true, recursive }), '/mem')).toEqual(expected);
    }
    const [entry] = await fs.readdir('/mem/a/b', { withFileTypes: true });
    expect(entry).toBeInstanceOf(StrataDirent);
    expect(entry!.path).toBe('/mem/a/b');
    expect(entry!.info).toMatchObject({ path: '/mem/a/b/three', type: 'file', size: 9 });
  });

  it('lists mount points as directories, and takes a utf8 encoding as fs does', async () => {
    expect(seen(await fs.readdir('/', { withFileTypes: true }), '')).toEqual(['/|local|dir', '/|mem|dir']);
    expect(await fs.readdir('/mem', 'utf8')).toEqual(['a', 'top.txt']);
    expect(await fs.readdir('/mem', { encoding: 'utf8' })).toEqual(['a', 'top.txt']);
    expect(await fs.readdir('/mem', null)).toEqual(['a', 'top.txt']);
  });

  it('is EINVAL with withInfo, and for name encodings other than utf8', async () => {
    await expect(fs.readdir('/mem', { withFileTypes: true, withInfo: true } as never)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(fs.readdir('/mem', { encoding: 'buffer' } as never)).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('UTF-8') });
    await expect(fs.readdir('/mem', 'latin1' as never)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
