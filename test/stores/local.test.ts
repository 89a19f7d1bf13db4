import { execFile } from 'node:child_process';
import { chmod, lstat, mkdtemp, mkdir, readdir, readFile, rm, symlink, utimes, writeFile, stat as fsStat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/file-system.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import type { UnderStore } from '../../src/store/under-store.js';
import { describeStoreConformance, listAll, readAll } from '../conformance/store-suite.js';

const made: string[] = [];
async function tempDir(label = 'store'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `stratafs-local-${label}-`));
  made.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

describeStoreConformance('local', async () => new LocalStore({ root: await tempDir() }));

/** Every name below `dir`, recursively, relative to it. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('LocalStore root and URIs', () => {
  it('needs an absolute root that exists and is a directory', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'x');
    expect(() => new LocalStore({ root: 'relative/dir' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => new LocalStore({ root: '' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => new LocalStore(undefined as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => new LocalStore({ root: join(dir, 'missing') })).toThrow(expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining('does not exist') }));
    expect(() => new LocalStore({ root: join(dir, 'file') })).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it('file:///abs/dir decodes the path once', async () => {
    const base = await tempDir();
    const spaced = join(base, 'a b%20c é');
    await mkdir(spaced);
    await writeFile(join(spaced, 'f.txt'), 'inside');
    const href = pathToFileURL(spaced).href; // a%20b%2520c%20%C3%A9
    expect(href).toContain('%2520');
    const store = LocalStore.fromUri(new URL(href));
    expect((await readAll(store.read('f.txt'))).toString()).toBe('inside');
    expect(store.uri).toBe(href);
    expect(LocalStore.fromUri(new URL(`file://localhost${pathToFileURL(spaced).pathname}`)).root).toBe(spaced);
    expect(LocalStore.fromUri(new URL(href + '/')).root).toBe(spaced);
  });

  it('file: URIs with an encoded separator, a remote host, a query or a missing dir are refused', async () => {
    const base = await tempDir();
    await mkdir(join(base, 'x'));
    const path = pathToFileURL(base).pathname;
    for (const uri of [`file://${path}/x%2F..%2Fx`, `file://${path}/x%2f`, `file://${path}/x%5C`, `file://${path}/%00`, `file://example.com${path}`, `file://${path}?q=1`, `file://${path}#h`]) {
      expect(() => LocalStore.fromUri(new URL(uri)), uri).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    expect(() => LocalStore.fromUri(new URL(`file://${path}/nope`))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => LocalStore.fromUri(new URL('s3://bucket/x'))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('a root that disappears later makes stat undefined and reads ENOENT', async () => {
    const dir = await tempDir();
    const store = new LocalStore({ root: dir });
    await rm(dir, { recursive: true });
    expect(await store.stat('a')).toBeUndefined();
    await expect(store.read('a')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(store.write('a', Buffer.from('x'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a name longer than the disk takes is EINVAL whose message says so', async () => {
    const fs = new StrataFS();
    await fs.mount('/', `file://${await tempDir()}`);
    try {
      const long = '/' + 'x'.repeat(300); // within the facade's limit, beyond the disk's 255 bytes
      for (const call of [() => fs.stat(long), () => fs.writeFile(long, 'x'), () => fs.mkdir(long)]) {
        await expect(call()).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('name in the path is too long') });
      }
    } finally {
      await fs.close();
    }
  });
});

describe('LocalStore safety', () => {
  let root: string;
  let outside: string;
  let store: UnderStore;

  beforeEach(async () => {
    const base = await tempDir('safety');
    root = join(base, 'root');
    outside = join(base, 'outside');
    await mkdir(root);
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await mkdir(join(outside, 'dir'));
    await writeFile(join(outside, 'dir', 'inner.txt'), 'inner');
    await symlink(outside, join(root, 'out-dir'));
    await symlink(join(outside, 'secret.txt'), join(root, 'out-file'));
    await symlink('../outside/secret.txt', join(root, 'out-relative'));
    await symlink(join(outside, 'nowhere.txt'), join(root, 'dangling'));
    store = new LocalStore({ root });
  });

  const outsideUntouched = async (): Promise<void> => {
    expect(await tree(outside)).toEqual(['dir', 'dir/inner.txt', 'secret.txt']);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(await readFile(join(outside, 'dir', 'inner.txt'), 'utf8')).toBe('inner');
  };

  it('keys with .., absolute paths, backslashes or NUL are EINVAL', async () => {
    for (const key of ['../outside/secret.txt', 'a/../../outside/secret.txt', '/etc/passwd', '..', './x', 'a//b', 'a\\..\\b', 'a\0b']) {
      await expect(store.stat(key), key).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(store.read(key), key).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(store.write(key, Buffer.from('x')), key).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(store.delete(key), key).rejects.toMatchObject({ code: 'EINVAL' });
    }
    await outsideUntouched();
  });

  it('encoded forms are plain names inside the root', async () => {
    for (const key of ['%2e%2e/secret.txt', '%2E%2E%2Foutside%2Fsecret.txt', '..%2f..%2foutside', '%2E%2E']) {
      await store.write(key, Buffer.from('mine'));
      expect((await readAll(store.read(key))).toString()).toBe('mine');
    }
    expect((await tree(root)).filter((n) => !n.startsWith('out-') && n !== 'dangling')).toEqual(['%2E%2E', '%2E%2E%2Foutside%2Fsecret.txt', '%2e%2e', '%2e%2e/secret.txt', '..%2f..%2foutside']);
    await outsideUntouched();
  });

  it('a symlink to a directory outside: stat, read, write, list, delete, copy and rename are EACCES', async () => {
    await expect(store.stat('out-dir')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.stat('out-dir/secret.txt')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.read('out-dir/secret.txt')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.write('out-dir/new.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.write('out-dir/secret.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.write('out-dir/sub/deep.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.write('out-dir/newdir/', Buffer.alloc(0))).rejects.toMatchObject({ code: 'EACCES' });
    await expect(listAll(store, 'out-dir')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(listAll(store, 'out-dir/dir', true)).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.delete('out-dir/secret.txt')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.delete('out-dir/dir/')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.delete('out-dir')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.copy!('out-dir/secret.txt', 'stolen.txt')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.rename!('out-dir/secret.txt', 'stolen.txt')).rejects.toMatchObject({ code: 'EACCES' });
    await store.write('mine.txt', Buffer.from('mine'));
    await expect(store.copy!('mine.txt', 'out-dir/planted.txt')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.rename!('mine.txt', 'out-dir/planted.txt')).rejects.toMatchObject({ code: 'EACCES' });
    await outsideUntouched();
    expect(await store.stat('stolen.txt')).toBeUndefined();
  });

  it('a symlink to a file outside (absolute or relative): stat, read, write, delete, copy are EACCES', async () => {
    for (const link of ['out-file', 'out-relative']) {
      await expect(store.stat(link)).rejects.toMatchObject({ code: 'EACCES' });
      await expect(store.read(link)).rejects.toMatchObject({ code: 'EACCES' });
      await expect(store.read(link, { offset: 1, length: 2 })).rejects.toMatchObject({ code: 'EACCES' });
      await expect(store.write(link, Buffer.from('overwritten'))).rejects.toMatchObject({ code: 'EACCES' });
      await expect(store.delete(link)).rejects.toMatchObject({ code: 'EACCES' });
      await expect(store.copy!(link, 'stolen.txt')).rejects.toMatchObject({ code: 'EACCES' });
    }
    await outsideUntouched();
  });

  it('a dangling symlink is refused and nothing is created through it', async () => {
    await expect(store.write('dangling', Buffer.from('x'))).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.write('dangling/sub.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'EACCES' });
    await expect(store.read('dangling')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(fsStat(join(outside, 'nowhere.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    await outsideUntouched();
  });

  it('listing never shows what lies outside the root', async () => {
    await store.write('real/file.txt', Buffer.from('r'));
    await symlink(outside, join(root, 'real', 'nested-out'));
    const top = await listAll(store, '');
    expect(top.map((i) => i.key).sort()).toEqual(['real']);
    const all = await listAll(store, '', true);
    expect(all.map((i) => i.key).sort()).toEqual(['real', 'real/file.txt']);
    for (const info of all) expect(info.key).not.toMatch(/secret|inner/);
  });

  it('a symlink inside the root pointing inside the root works', async () => {
    await store.write('data/a.txt', Buffer.from('AAA'));
    await symlink(join(root, 'data'), join(root, 'alias'));
    await symlink('data/a.txt', join(root, 'a-link'));
    await symlink('.', join(root, 'data', 'loop')); // a loop must not hang recursive listing
    expect((await readAll(store.read('alias/a.txt'))).toString()).toBe('AAA');
    expect((await readAll(store.read('a-link'))).toString()).toBe('AAA');
    expect(await store.stat('alias')).toMatchObject({ isDirectory: true });
    expect(await store.stat('a-link')).toMatchObject({ size: 3, isDirectory: false });
    await store.write('alias/b.txt', Buffer.from('B'));
    expect(await readFile(join(root, 'data', 'b.txt'), 'utf8')).toBe('B');
    await store.write('a-link', Buffer.from('via link'));
    expect(await readFile(join(root, 'data', 'a.txt'), 'utf8')).toBe('via link');
    expect((await listAll(store, 'alias')).map((i) => i.key).sort()).toEqual(['alias/a.txt', 'alias/b.txt', 'alias/loop']);
    const all = (await listAll(store, '', true)).map((i) => i.key).sort();
    // recursion does not follow directory links: each file once, no loop
    expect(all).toEqual(['a-link', 'alias', 'data', 'data/a.txt', 'data/b.txt', 'data/loop']);
    await store.delete('a-link');
    expect(await readFile(join(root, 'data', 'a.txt'), 'utf8')).toBe('via link'); // the link goes, not its target
    await outsideUntouched();
  });
});

describe('LocalStore: removing a directory that holds entries listings hide', () => {
  let root: string;
  let outside: string;
  let store: LocalStore;

  beforeEach(async () => {
    const base = await tempDir('hidden');
    root = join(base, 'root');
    outside = join(base, 'outside');
    await mkdir(root);
    await mkdir(join(outside, 'dir'), { recursive: true });
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await writeFile(join(outside, 'dir', 'inner.txt'), 'inner');
    store = new LocalStore({ root });
  });

  /** Fills the real directory `dir` with one of each entry a listing hides. */
  const addHidden = async (dir: string): Promise<void> => {
    await mkdir(dir, { recursive: true });
    await symlink(join(outside, 'nowhere.txt'), join(dir, 'dangling'));
    await symlink(outside, join(dir, 'out-dir'));
    await symlink(join(outside, 'secret.txt'), join(dir, 'out-file'));
    await symlink(relative(dir, join(outside, 'secret.txt')), join(dir, 'out-relative'));
    await promisify(execFile)('mkfifo', [join(dir, 'fifo')]);
    await writeFile(join(dir, '.f.txt.0123456789abcdef.stratafs-tmp'), 'half of an interrupted write');
    await mkdir(join(dir, 'back\\slash')); // a name that cannot be a key, holding a link out of the root
    await writeFile(join(dir, 'back\\slash', 'x.txt'), 'x');
    await symlink(outside, join(dir, 'back\\slash', 'out-dir'));
    await writeFile(join(dir, 'tab\tname'), 'a name with a control character: no path can name it');
  };

  const outsideUntouched = async (): Promise<void> => {
    expect(await tree(outside)).toEqual(['dir', 'dir/inner.txt', 'secret.txt']);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(await readFile(join(outside, 'dir', 'inner.txt'), 'utf8')).toBe('inner');
  };

  it('delete(dir/) removes the hidden entries, links themselves and not their targets', async () => {
    await addHidden(join(root, 'd'));
    expect(await listAll(store, 'd')).toEqual([]);
    await store.delete('d/');
    await expect(lstat(join(root, 'd'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.stat('d')).toBeUndefined();
    expect(await tree(root)).toEqual([]);
    await outsideUntouched();
  });

  it('a directory that still shows an entry stays ENOTEMPTY, hidden entries and all', async () => {
    await addHidden(join(root, 'd'));
    await store.write('d/visible.txt', Buffer.from('v'));
    await store.write('e/sub/', Buffer.alloc(0));
    await symlink(join(outside, 'nowhere.txt'), join(root, 'e', 'dangling'));
    const before = await tree(root);
    await expect(store.delete('d/')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    await expect(store.delete('e/')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    expect(await tree(root)).toEqual(before);
    await store.delete('d/visible.txt');
    await store.delete('d/');
    await expect(lstat(join(root, 'd'))).rejects.toMatchObject({ code: 'ENOENT' });
    await outsideUntouched();
  });

  it('rm -r through the facade removes the whole tree; rm of a directory that looks empty removes it', async () => {
    await store.write('t/a.txt', Buffer.from('a'));
    await store.write('t/sub/b.txt', Buffer.from('b'));
    await addHidden(join(root, 't'));
    await addHidden(join(root, 't', 'sub', 'deeper'));
    await addHidden(join(root, 'looks-empty'));
    const fs = new StrataFS();
    try {
      await fs.mount('/l', store);
      await expect(fs.rm('/l/t')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
      await fs.rm('/l/t', { recursive: true });
      await fs.rm('/l/looks-empty');
      expect(await fs.readdir('/l')).toEqual([]);
    } finally {
      await fs.close();
    }
    expect(await tree(root)).toEqual([]);
    await outsideUntouched();
  });
});

describe('LocalStore temp files', () => {
  let root: string;
  let store: LocalStore;
  beforeEach(async () => {
    root = await tempDir('tmp');
    store = new LocalStore({ root });
  });

  it('are never listed and their names are refused as keys', async () => {
    await store.write('d/visible.txt', Buffer.from('v'));
    await writeFile(join(root, 'd', '.visible.txt.0123456789abcdef.stratafs-tmp'), 'half');
    expect((await listAll(store, 'd')).map((i) => i.key)).toEqual(['d/visible.txt']);
    expect((await listAll(store, '', true)).map((i) => i.key).sort()).toEqual(['d', 'd/visible.txt']);
    await expect(store.stat('d/.visible.txt.0123456789abcdef.stratafs-tmp')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(store.write('.x.0123456789abcdef.stratafs-tmp', Buffer.from('x'))).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('none is left after a failed write', async () => {
    await store.write('dir/f.txt', Buffer.from('old'));
    const body = Readable.from(
      (async function* () {
        yield Buffer.alloc(70_000, 1);
        throw new Error('broken source');
      })(),
    );
    await expect(store.write('dir/f.txt', body)).rejects.toBeTruthy();
    await expect(store.write('dir/new.txt', Readable.from((async function* () { yield Buffer.from('x'); throw new Error('no'); })()))).rejects.toBeTruthy();
    expect(await tree(root)).toEqual(['dir', 'dir/f.txt']);
    expect(await readFile(join(root, 'dir', 'f.txt'), 'utf8')).toBe('old');
  });

  it('a temp file left by a killed writer is removed by a later write there, once an hour old', async () => {
    await mkdir(join(root, 'k'));
    const stale = join(root, 'k', '.big.bin.0123456789abcdef.stratafs-tmp');
    const fresh = join(root, 'k', '.other.bin.fedcba9876543210.stratafs-tmp');
    await writeFile(stale, 'half of a killed write');
    await writeFile(fresh, 'a write in progress elsewhere');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    await store.write('k/next.bin', Buffer.from('n'));
    await store.close(); // waits for the background sweep
    expect((await readdir(join(root, 'k'))).sort()).toEqual(['.other.bin.fedcba9876543210.stratafs-tmp', 'next.bin']);
    expect(await readFile(join(root, 'k', 'next.bin'), 'utf8')).toBe('n');
  });

  it('none is left after an aborted write', async () => {
    await store.write('f.txt', Buffer.from('old'));
    const controller = new AbortController();
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((r) => (release = r));
    const body = Readable.from(
      (async function* () {
        yield Buffer.alloc(70_000, 1);
        setImmediate(() => controller.abort());
        await stalled; // the source stalls: only the signal can end the write
        yield Buffer.alloc(10, 2);
      })(),
    );
    await expect(store.write('f.txt', body, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    release();
    expect(await tree(root)).toEqual(['f.txt']);
    expect(await readFile(join(root, 'f.txt'), 'utf8')).toBe('old');
  });

  it('mkdir, rmdir of an empty directory, and ENOTEMPTY for a full one', async () => {
    await store.write('a/b/c/', Buffer.alloc(0));
    expect((await fsStat(join(root, 'a', 'b', 'c'))).isDirectory()).toBe(true);
    await store.write('a/b/c/', Buffer.alloc(0)); // again: fine
    await expect(store.delete('a/b/')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    await store.delete('a/b/c/');
    expect(await tree(root)).toEqual(['a', 'a/b']);
    await store.write('a/file', Buffer.from('x'));
    await expect(store.delete('a/')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    await expect(store.delete('a')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(store.read('a')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(store.write('a', Buffer.from('x'))).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(store.write('a/file/below', Buffer.from('x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('LocalStore permissions of a file written over', () => {
  it('a write, a streamed write and a copy over a file keep its permission bits: a private file stays private', async () => {
    const root = await tempDir('mode');
    const store = new LocalStore({ root });
    const modeOf = async (name: string): Promise<number> => (await fsStat(join(root, name))).mode & 0o777;
    await writeFile(join(root, 'private.json'), 'old');
    await chmod(join(root, 'private.json'), 0o600);
    await store.write('private.json', Buffer.from('new'));
    expect((await modeOf('private.json')).toString(8)).toBe('600');
    await store.write('private.json', Readable.from([Buffer.from('streamed')]));
    expect((await modeOf('private.json')).toString(8)).toBe('600');
    await writeFile(join(root, 'public.txt'), 'public');
    await chmod(join(root, 'public.txt'), 0o644);
    await store.copy('public.txt', 'private.json');
    expect((await modeOf('private.json')).toString(8)).toBe('600');
    expect(await readFile(join(root, 'private.json'), 'utf8')).toBe('public');
    await chmod(join(root, 'private.json'), 0o750);
    await store.write('private.json', Buffer.from('#!/bin/sh'));
    expect((await modeOf('private.json')).toString(8)).toBe('750');
  });
});

describe('LocalStore under concurrent writes', () => {
  it('writes and mkdirs racing to create the same new parent directories all succeed', async () => {
    const root = await tempDir();
    const store = new LocalStore({ root });
    const failures: string[] = [];
    for (let round = 0; round < 60; round++) {
      const results = await Promise.allSettled([
        ...Array.from({ length: 12 }, (_, i) => store.write(`r${round}/a/b/f${i}`, Buffer.from('x'))),
        store.write(`r${round}/a/b/`, Buffer.alloc(0)),
        store.write(`r${round}/a/`, Buffer.alloc(0)),
      ]);
      for (const r of results) if (r.status === 'rejected') failures.push(`${(r.reason as { code?: string }).code}: ${(r.reason as Error).message}`);
    }
    expect(failures).toEqual([]);
    expect((await readdir(join(root, 'r59/a/b'))).length).toBe(12);
  });
});

describe('LocalStore versions of a file rewritten in place', () => {
  const PAGE = 4096;
  /** Rewrites `path` in place (same inode, same size) and puts its mtime back, to the nanosecond. */
  async function rewriteKeepingMtime(path: string, data: Buffer): Promise<void> {
    const reference = `${path}.mtime-reference`;
    await promisify(execFile)('touch', ['-r', path, reference]);
    await writeFile(path, data);
    await promisify(execFile)('touch', ['-r', reference, path]);
    await rm(reference);
  }

  it('a rewrite that keeps the size, the inode and the mtime is a new version', async () => {
    const root = await tempDir('inplace');
    const store = new LocalStore({ root });
    const written = await store.write('f.bin', Buffer.alloc(PAGE, 1));
    await rewriteKeepingMtime(join(root, 'f.bin'), Buffer.alloc(PAGE, 2));
    const now = await store.stat('f.bin');
    expect(now?.mtime).toEqual(written.mtime);
    expect(now?.etag).not.toBe(written.etag);
  });

  it('is read at once with syncInterval 0, and by a new StrataFS on the same disk cache', async () => {
    const root = await tempDir('inplace');
    const cacheDir = await tempDir('inplace-cache');
    const path = join(root, 'f.bin');
    await writeFile(path, Buffer.alloc(8 * PAGE, 1));
    const make = async (): Promise<StrataFS> => {
      const fs = new StrataFS({ cache: { pageSize: PAGE, disk: { dir: cacheDir, capacity: '1MiB' } }, metadata: { syncInterval: 0 } });
      await fs.mount('/m', pathToFileURL(root).href);
      return fs;
    };
    const fs = await make();
    expect((await fs.readFile('/m/f.bin')).equals(Buffer.alloc(8 * PAGE, 1))).toBe(true);
    await rewriteKeepingMtime(path, Buffer.alloc(8 * PAGE, 2));
    expect((await fs.readFile('/m/f.bin')).equals(Buffer.alloc(8 * PAGE, 2))).toBe(true);
    await fs.close();
    await rewriteKeepingMtime(path, Buffer.alloc(8 * PAGE, 3)); // while no StrataFS runs
    const next = await make();
    expect((await next.readFile('/m/f.bin')).equals(Buffer.alloc(8 * PAGE, 3))).toBe(true);
    await next.close();
  });

  it('a file written or copied through the store keeps the etag its write answered', async () => {
    const store = new LocalStore({ root: await tempDir('inplace') });
    const written = await store.write('a.bin', Buffer.alloc(PAGE, 4));
    expect((await store.stat('a.bin'))?.etag).toBe(written.etag);
    const copied = await store.copy('a.bin', 'b.bin');
    expect((await store.stat('b.bin'))?.etag).toBe(copied.etag);
  });
});

describe('LocalStore deleteMany', () => {
  it('removes many files several at a time (not one after another), every one of them', async () => {
    const root = await tempDir('delete-many');
    const store = new LocalStore({ root });
    const keys = Array.from({ length: 64 }, (_, i) => `d/f${i}`);
    for (const key of keys) await store.write(key, Buffer.from(key));
    const removeOne = store.delete.bind(store);
    let inFlight = 0;
    let most = 0;
    store.delete = async (key, opts) => {
      most = Math.max(most, ++inFlight);
      try {
        await removeOne(key, opts);
      } finally {
        inFlight--;
      }
    };
    await store.deleteMany(keys);
    expect(most).toBeGreaterThan(1);
    expect(await readdir(join(root, 'd'))).toEqual([]);
  });
});
