import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, workspace, type Workspace } from './cli-harness.js';

/** Every file below `dir`, as sorted relative paths (temp files would show up here). */
async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name).slice(dir.length + 1));
  }
  return out.sort();
}

describe('stratafs cp / mv / rm / mkdir / du', () => {
  let ws: Workspace;
  let local: string;
  const big = randomBytes(300_000);

  beforeAll(async () => {
    ws = await workspace();
    local = join(ws.dir, 'local');
    await mkdir(join(local, 'tree', 'nested', 'deeper'), { recursive: true });
    await writeFile(join(local, 'big.bin'), big);
    await writeFile(join(local, 'tree', 'one.txt'), 'one');
    await writeFile(join(local, 'tree', 'nested', 'two.txt'), 'two!');
    await writeFile(join(local, 'tree', 'nested', 'deeper', 'three.bin'), big.subarray(0, 1000));
    await mkdir(join(local, 'tree', 'empty'));
  });
  afterAll(() => ws.cleanup());

  it('cp file:/abs -> namespace, and file:///abs into an existing directory', async () => {
    expect(await ws.run('cp', `file:${join(local, 'big.bin')}`, '/a/big.bin')).toMatchObject({ code: 0, stderr: '' });
    expect((await readFile(join(ws.a, 'big.bin'))).equals(big)).toBe(true);
    await mkdir(join(ws.b, 'in'));
    expect((await ws.run('cp', `file://${join(local, 'tree', 'one.txt')}`, '/b/in')).code).toBe(0);
    expect(await readFile(join(ws.b, 'in', 'one.txt'), 'utf8')).toBe('one');
  });

  it('cp namespace -> file: writes the local file whole, no temp file left', async () => {
    const out = join(ws.dir, 'out');
    await mkdir(out);
    expect((await ws.run('cp', '/a/big.bin', `file:${join(out, 'copy.bin')}`)).code).toBe(0);
    expect((await readFile(join(out, 'copy.bin'))).equals(big)).toBe(true);
    expect(await readdir(out)).toEqual(['copy.bin']);
  });

  it('cp namespace -> file: over a private local file keeps it private, as cp(1) does', async () => {
    const out = join(ws.dir, 'out-private');
    await mkdir(out);
    await writeFile(join(out, 'secret.bin'), 'old');
    await chmod(join(out, 'secret.bin'), 0o600);
    expect((await ws.run('cp', '/a/big.bin', `file:${join(out, 'secret.bin')}`)).code).toBe(0);
    expect((await readFile(join(out, 'secret.bin'))).equals(big)).toBe(true);
    expect(((await stat(join(out, 'secret.bin'))).mode & 0o777).toString(8)).toBe('600');
  });

  it('cp across mounts (namespace -> namespace)', async () => {
    expect((await ws.run('cp', '/a/big.bin', '/b/across.bin')).code).toBe(0);
    expect((await readFile(join(ws.b, 'across.bin'))).equals(big)).toBe(true);
  });

  it('cp -r local -> namespace copies the tree, empty directories included, with plain progress lines', async () => {
    const result = await ws.run('cp', '-r', `file:${join(local, 'tree')}`, '/a/tree');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('copied 3 files, 1007 B\n');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^cp file:.*tree: 3\/3 files, 1007 B\/1007 B \(100%\), .*\/s, ETA 0s$/);
    expect(await filesBelow(join(ws.a, 'tree'))).toEqual(['nested/deeper/three.bin', 'nested/two.txt', 'one.txt']);
    expect((await stat(join(ws.a, 'tree', 'empty'))).isDirectory()).toBe(true);
  });

  it('cp -r across mounts, and namespace -> local; --json reports the count', async () => {
    const across = await ws.run('cp', '-r', '/a/tree', '/b/tree');
    expect(across.code).toBe(0);
    expect(await filesBelow(join(ws.b, 'tree'))).toEqual(['nested/deeper/three.bin', 'nested/two.txt', 'one.txt']);
    const back = await ws.json<{ files: number; bytes: number }>('cp', '-r', '/b/tree', `file:${join(ws.dir, 'back')}`);
    expect(back).toMatchObject({ files: 3, bytes: 1007 });
    expect(await readFile(join(ws.dir, 'back', 'nested', 'two.txt'), 'utf8')).toBe('two!');
    expect((await stat(join(ws.dir, 'back', 'empty'))).isDirectory()).toBe(true);
  });

  it('cp of a directory without -r is EISDIR (exit 5); a missing source is ENOENT (exit 3)', async () => {
    const [dir, missing, missingLocal, bothLocal] = await Promise.all([
      ws.run('cp', '/a/tree', '/b/x'),
      ws.run('cp', '/a/none.txt', '/b/x'),
      ws.run('cp', `file:${join(local, 'none.txt')}`, '/b/x'),
      ws.run('cp', `file:${join(local, 'big.bin')}`, `file:${join(local, 'big2.bin')}`),
    ]);
    expect(dir.code).toBe(5);
    expect(dir.stderr).toMatch(errorLine('EISDIR', '/a/tree'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(errorLine('ENOENT', '/a/none.txt'));
    expect(missingLocal.code).toBe(3);
    expect(missingLocal.stderr).toMatch(errorLine('ENOENT', `file:${join(local, 'none.txt')}`));
    expect(bothLocal.code).toBe(2);
  });

  it('a destination written with a trailing slash must be a directory: cp and mv of a file elsewhere are ENOTDIR (exit 5)', async () => {
    await ws.run('cp', `file:${join(local, 'tree', 'one.txt')}`, '/a/slash.txt');
    const [cp, cpLocal, mv, cat] = await Promise.all([
      ws.run('cp', '/a/slash.txt', '/b/nosuch/'),
      ws.run('cp', `file:${join(local, 'big.bin')}`, '/b/nosuch/'),
      ws.run('mv', '/a/slash.txt', '/b/nosuch/'),
      ws.run('cat', '/a/slash.txt/'),
    ]);
    for (const [result, path] of [[cp, '/b/nosuch'], [cpLocal, '/b/nosuch'], [mv, '/a/slash.txt'], [cat, '/a/slash.txt']] as const) {
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(errorLine('ENOTDIR', path));
    }
    expect(existsSync(join(ws.b, 'nosuch'))).toBe(false);
    expect(await readFile(join(ws.a, 'slash.txt'), 'utf8')).toBe('one');
    await mkdir(join(ws.b, 'there'));
    expect((await ws.run('mv', '/a/slash.txt', '/b/there/')).code).toBe(0);
    expect(await readFile(join(ws.b, 'there', 'slash.txt'), 'utf8')).toBe('one');
  });

  it('mv within a mount, into a directory, and across mounts', async () => {
    await writeFile(join(ws.a, 'move-me.txt'), 'moving');
    expect((await ws.run('mv', '/a/move-me.txt', '/a/moved.txt')).code).toBe(0);
    expect(await readFile(join(ws.a, 'moved.txt'), 'utf8')).toBe('moving');
    expect((await ws.run('mv', '/a/moved.txt', '/a/tree')).code).toBe(0);
    expect(await readFile(join(ws.a, 'tree', 'moved.txt'), 'utf8')).toBe('moving');
    expect((await ws.run('mv', '/a/tree/moved.txt', '/b/moved.txt')).code).toBe(0);
    expect(await readFile(join(ws.b, 'moved.txt'), 'utf8')).toBe('moving');
    await expect(stat(join(ws.a, 'tree', 'moved.txt'))).rejects.toThrow();
  });

  it('mv of a directory across mounts onto a directory with entries fails ENOTEMPTY (exit 5), as within a mount, and merges nothing', async () => {
    await mkdir(join(ws.a, 'merge-src'), { recursive: true });
    await writeFile(join(ws.a, 'merge-src', 'new.txt'), 'new');
    await writeFile(join(ws.a, 'merge-src', 'both.txt'), 'from a');
    await mkdir(join(ws.b, 'merge-dst', 'merge-src'), { recursive: true });
    await writeFile(join(ws.b, 'merge-dst', 'merge-src', 'both.txt'), 'from b');
    await mkdir(join(ws.a, 'merge-within'), { recursive: true });
    await mkdir(join(ws.a, 'merge-dst', 'merge-within'), { recursive: true });
    await writeFile(join(ws.a, 'merge-dst', 'merge-within', 'kept.txt'), 'kept');
    const within = await ws.run('mv', '/a/merge-within', '/a/merge-dst');
    const across = await ws.run('mv', '/a/merge-src', '/b/merge-dst');
    expect(within.code).toBe(5);
    expect(within.stderr).toMatch(errorLine('ENOTEMPTY'));
    expect(across.code).toBe(5);
    expect(across.stderr).toMatch(errorLine('ENOTEMPTY', '/b/merge-dst/merge-src'));
    expect(await filesBelow(join(ws.b, 'merge-dst'))).toEqual(['merge-src/both.txt']);
    expect(await readFile(join(ws.b, 'merge-dst', 'merge-src', 'both.txt'), 'utf8')).toBe('from b');
    expect(await filesBelow(join(ws.a, 'merge-src'))).toEqual(['both.txt', 'new.txt']);
    // Onto an empty directory it moves.
    await rm(join(ws.b, 'merge-dst', 'merge-src', 'both.txt'));
    expect((await ws.run('mv', '/a/merge-src', '/b/merge-dst')).code).toBe(0);
    expect(await filesBelow(join(ws.b, 'merge-dst'))).toEqual(['merge-src/both.txt', 'merge-src/new.txt']);
    expect(existsSync(join(ws.a, 'merge-src'))).toBe(false);
  });

  it('mkdir, mkdir -p, rm, rm -r, rm -f', async () => {
    expect((await ws.run('mkdir', '-p', '/b/p/q/r')).code).toBe(0);
    expect((await stat(join(ws.b, 'p', 'q', 'r'))).isDirectory()).toBe(true);
    const again = await ws.run('mkdir', '/b/p');
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(errorLine('EEXIST', '/b/p'));
    const noParent = await ws.run('mkdir', '/b/x/y');
    expect(noParent.code).toBe(3);
    const notEmpty = await ws.run('rm', '/b/p');
    expect(notEmpty.code).toBe(5);
    expect(notEmpty.stderr).toMatch(errorLine('ENOTEMPTY', '/b/p'));
    expect((await ws.run('rm', '-r', '/b/p')).code).toBe(0);
    await expect(stat(join(ws.b, 'p'))).rejects.toThrow();
    expect((await ws.run('rm', '/b/across.bin')).code).toBe(0);
    await expect(stat(join(ws.b, 'across.bin'))).rejects.toThrow();
    expect((await ws.run('rm', '-f', '/b/never-was.txt')).code).toBe(0);
    expect((await ws.run('rm', '/b/never-was.txt')).code).toBe(3);
    const mountPoint = await ws.run('rm', '-r', '/a');
    expect(mountPoint.code).toBe(5);
    expect(mountPoint.stderr).toMatch(errorLine('EBUSY', '/a'));
  });

  it('du shows bytes and cached bytes per entry and in total; -s only the total', async () => {
    const rows = await ws.json<{ path: string; size: number; cached: number; files: number }[]>('du', '/a/tree');
    expect(rows.map((r) => r.path)).toEqual(['/a/tree/empty', '/a/tree/nested', '/a/tree/one.txt', '/a/tree']);
    expect(rows.at(-1)).toMatchObject({ size: 1007, files: 3 });
    expect(rows[1]).toMatchObject({ size: 1004, files: 2 });
    const total = await ws.run('du', '-s', '/a/tree');
    expect(total.stdout.trimEnd().split('\n')).toEqual([expect.stringMatching(/^SIZE\s+CACHED\s+FILES\s+PATH$/), expect.stringMatching(/^1007\s+\d+\s+3\s+\/a\/tree$/)]);
  });
});
