import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StrataFS, registerStore, MemoryStore, type UnderStore } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { expectCode, readAll, tempDir } from '../support/helpers.js';

describe('mount table and namespace', () => {
  let fs: StrataFS;
  beforeEach(() => {
    fs = new StrataFS();
  });
  afterEach(async () => {
    await fs.close();
  });

  it('with nothing at /, the root is a read-only directory of mount points', async () => {
    await fs.mount('/data/raw', 'memory://');
    await fs.mount('/logs', 'memory://');
    expect(await fs.readdir('/')).toEqual(['data', 'logs']);
    expect(await fs.readdir('/data')).toEqual(['raw']);
    expect((await fs.stat('/')).type).toBe('directory');
    expect((await fs.stat('/data')).type).toBe('directory');
    await expectCode(fs.writeFile('/x.txt', 'no'), 'EROFS');
    await expectCode(fs.mkdir('/newdir'), 'EROFS');
    await expectCode(fs.writeFile('/data/x.txt', 'no'), 'EROFS');
    await expectCode(fs.stat('/elsewhere'), 'ENOENT');
    await expectCode(fs.readFile('/data'), 'EISDIR');
  });

  it('a store object or a factory answer that is not an UnderStore is refused with EINVAL naming what it lacks', async () => {
    const partial = { uri: 'mine://x', stat: async () => undefined, read: async () => undefined, write: async () => undefined, delete: async () => undefined };
    const error = await expectCode(fs.mount('/p', partial as unknown as UnderStore), 'EINVAL');
    expect(error.message).toContain('lacks capabilities, list');
    registerStore('partial', () => partial as unknown as UnderStore);
    expect((await expectCode(fs.mount('/p', 'partial://x'), 'EINVAL')).message).toContain('lacks capabilities, list');
  });

  it('resolves the longest mount point', async () => {
    await fs.mount('/', 'memory://');
    await fs.mount('/a', 'memory://');
    await fs.mount('/a/b', 'memory://');
    await fs.writeFile('/a/b/c.txt', 'deep');
    await fs.writeFile('/a/x.txt', 'mid');
    expect((await fs.stat('/a/b/c.txt')).mount).toBe('/a/b');
    expect((await fs.stat('/a/x.txt')).mount).toBe('/a');
    expect(await fs.readdir('/a')).toEqual(['b', 'x.txt']);
    expect(await fs.readdir('/', { recursive: true })).toEqual(['a', 'a/b', 'a/b/c.txt', 'a/x.txt']);
  });

  it('a mount hides what the store below has at its path, in recursive listings and tree operations too', async () => {
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/d/sub/hidden.txt', 'H');
    await fs.writeFile('/m/d/seen.txt', 'S');
    await fs.mount('/m/d/sub', 'memory://');
    await fs.writeFile('/m/d/sub/own.txt', 'O');
    expect(await fs.readdir('/m/d/sub')).toEqual(['own.txt']);
    expect(await fs.readdir('/m', { recursive: true })).toEqual(['d', 'd/seen.txt', 'd/sub', 'd/sub/own.txt']);
    expect(await fs.readdir('/m/d', { recursive: true })).toEqual(['seen.txt', 'sub', 'sub/own.txt']);
    await fs.copy('/m/d', '/m/copy', { recursive: true });
    expect(await fs.readdir('/m/copy', { recursive: true })).toEqual(['seen.txt', 'sub', 'sub/own.txt']);
    await fs.load('/m', { recursive: true });
  });

  it('a file and a directory of one name, made outside stratafs, are listed as stat answers: the file', async () => {
    const store = new MemoryStore();
    await store.write('a', Buffer.from('file'));
    await store.write('a/b', Buffer.from('below'));
    await store.write('c/d', Buffer.from('d'));
    await fs.mount('/m', store);
    expect((await fs.stat('/m/a')).type).toBe('file');
    expect((await fs.readdir('/m', { withInfo: true })).map((e) => [e.name, e.type])).toEqual([['a', 'file'], ['c', 'directory']]);
    expect(await fs.readdir('/m', { recursive: true })).toEqual(['a', 'c', 'c/d']);
    await expectCode(fs.readdir('/m/a'), 'ENOTDIR');
  });

  it('two mounts of one store see the writes made through each other at once', async () => {
    await fs.mount('/rw', 'memory://twins');
    await fs.mount('/ro', 'memory://twins', { readOnly: true });
    expect(await fs.exists('/ro/g.txt')).toBe(false);
    expect(await fs.readdir('/ro')).toEqual([]);
    await fs.writeFile('/rw/g.txt', 'G');
    expect(await fs.exists('/ro/g.txt')).toBe(true);
    expect(await fs.readdir('/ro')).toEqual(['g.txt']);
    expect((await fs.readFile('/ro/g.txt')).toString()).toBe('G');
    await fs.writeFile('/rw/g.txt', 'G2');
    expect((await fs.readFile('/ro/g.txt')).toString()).toBe('G2');
    await fs.rm('/rw/g.txt');
    expect(await fs.exists('/ro/g.txt')).toBe(false);
  });

  it.each([
    ['sub', 'overlap'],
    ['caf\u00e9 100% #1', 'overlap-names'], // spaces, % and non-ASCII: %-encoded in the inner URI
  ])('mounts of overlapping parts of one store see the changes made through each other at once (inner prefix %j)', async (sub, name) => {
    const fs2 = new StrataFS({ metadata: { syncInterval: -1 } });
    const root = await tempDir('stratafs-overlap-');
    try {
      for (const [outer, inner] of [[`memory://${name}`, `memory://${name}/${encodeURIComponent(sub)}`], [`file://${root.dir}`, pathToFileURL(join(root.dir, sub)).href]]) {
        await fs2.mount('/all', outer!);
        await fs2.writeFile(`/all/${sub}/f.txt`, 'v1');
        await fs2.mount('/sub', inner!);
        expect((await fs2.readFile('/sub/f.txt')).toString()).toBe('v1');
        expect(await fs2.readdir('/all')).toEqual([sub]);
        await fs2.writeFile(`/all/${sub}/f.txt`, 'v2');
        expect((await fs2.readFile('/sub/f.txt')).toString()).toBe('v2');
        await fs2.writeFile('/sub/g.txt', 'g');
        expect(await fs2.readdir(`/all/${sub}`)).toEqual(['f.txt', 'g.txt']);
        await fs2.rm('/sub/f.txt');
        expect(await fs2.exists(`/all/${sub}/f.txt`)).toBe(false);
        await fs2.rm(`/all/${sub}`, { recursive: true });
        expect(await fs2.readdir('/sub')).toEqual([]);
        expect(await fs2.exists('/sub/g.txt')).toBe(false);
        await fs2.unmount('/sub');
        await fs2.unmount('/all');
      }
    } finally {
      await fs2.close();
      await root.cleanup();
    }
  });

  it('a mount of the whole local file system (file:///) sees the changes made through a mount of a directory in it at once', async () => {
    const fs2 = new StrataFS({ metadata: { syncInterval: -1 } });
    const root = await tempDir('stratafs-overlap-root-');
    try {
      await fs2.mount('/host', 'file:///');
      await fs2.mount('/dir', pathToFileURL(root.dir).href);
      const seen = `/host${root.dir}`;
      expect(await fs2.readdir(seen)).toEqual([]);
      await fs2.writeFile('/dir/f.txt', 'v1');
      expect(await fs2.readdir(seen)).toEqual(['f.txt']);
      expect((await fs2.readFile(`${seen}/f.txt`)).toString()).toBe('v1');
      await fs2.writeFile('/dir/f.txt', 'version 2');
      expect((await fs2.readFile(`${seen}/f.txt`)).toString()).toBe('version 2');
      await fs2.writeFile(`${seen}/g.txt`, 'g');
      expect(await fs2.readdir('/dir')).toEqual(['f.txt', 'g.txt']);
      await fs2.rm('/dir/f.txt');
      expect(await fs2.readdir(seen)).toEqual(['g.txt']);
    } finally {
      await fs2.close();
      await root.cleanup();
    }
  });

  it('moving a directory on a store without rename keeps its implicit sub-directories implicit', async () => {
    const store = new CountingStore('implicit', { rangeRead: true, list: true, copy: true, rename: false, directories: false });
    await fs.mount('/o', store);
    await fs.writeFile('/o/d/implicit/f.txt', 'f');
    await fs.mkdir('/o/d/marked');
    await fs.rename('/o/d', '/o/e');
    expect(await fs.readdir('/o/e')).toEqual(['implicit', 'marked']);
    await fs.rm('/o/e/implicit/f.txt');
    // As before the move: the last file of an implicit directory takes it along; a marker stays.
    expect(await fs.readdir('/o/e')).toEqual(['marked']);
    store.reset();
    await fs.writeFile('/o/e/x/y/z.txt', 'z');
    await fs.rm('/o/e', { recursive: true });
    expect(store.calls.filter((c) => c.op === 'delete').map((c) => c.key).sort()).toEqual(['e/', 'e/marked/', 'e/x/y/z.txt']);
    expect(await fs.exists('/o/e')).toBe(false);
  });

  it('moving a directory on a store without rename keeps what another client adds or rewrites in it meanwhile', async () => {
    /** Runs `onCopy` once, after the first file of the move is copied. */
    class CopyHookStore extends CountingStore {
      onCopy: (() => Promise<void>) | undefined;
      override async copy(...args: Parameters<CountingStore['copy']>): ReturnType<CountingStore['copy']> {
        const info = await super.copy(...args);
        const hook = this.onCopy;
        this.onCopy = undefined;
        await hook?.();
        return info;
      }
    }
    const store = new CopyHookStore('moved-meanwhile', { rangeRead: true, list: true, copy: true, rename: false, directories: false });
    await fs.mount('/o', store);
    await fs.writeFile('/o/d/a.txt', 'a');
    await fs.writeFile('/o/d/sub/b.txt', 'b');
    store.onCopy = async () => {
      await store.inner.write('d/sub/new.txt', Buffer.from('added meanwhile'));
      await store.inner.write('d/sub/b.txt', Buffer.from('rewritten meanwhile'));
    };
    await fs.rename('/o/d', '/o/e');
    expect((await fs.readFile('/o/e/a.txt')).toString()).toBe('a');
    expect(await fs.exists('/o/d/a.txt')).toBe(false);
    // Neither was part of the move as it was listed: both stay where the other client wrote them.
    expect((await fs.readFile('/o/d/sub/new.txt')).toString()).toBe('added meanwhile');
    expect((await fs.readFile('/o/d/sub/b.txt')).toString()).toBe('rewritten meanwhile');
  });

  it('mount and unmount errors are the ones API.md names', async () => {
    await fs.mount('/', 'memory://');
    await fs.writeFile('/file.txt', 'x');
    await expectCode(fs.mount('/', 'memory://'), 'EEXIST');
    await expectCode(fs.mount('/file.txt', 'memory://'), 'EEXIST');
    await fs.mount('/m', 'memory://');
    await fs.mount('/m/n', 'memory://');
    await expectCode(fs.unmount('/m'), 'EBUSY');
    await expectCode(fs.rm('/m', { recursive: true }), 'EBUSY');
    await expectCode(fs.rm('/m/n', { recursive: true }), 'EBUSY');
    await expectCode(fs.rename('/file.txt', '/m/file.txt'), 'EXDEV');
    await fs.mkdir('/d/in', { recursive: true });
    await fs.mount('/d/in/mnt', 'memory://');
    await expectCode(fs.rename('/d', '/e'), 'EBUSY');
    await expectCode(fs.mount('/file.txt/below', 'memory://'), 'ENOTDIR');
    await expectCode(fs.mount('/file.txt/deeper/below', 'memory://'), 'ENOTDIR');
    expect((await fs.stat('/file.txt')).type).toBe('file');
    await fs.unmount('/d/in/mnt');
    await fs.unmount('/m/n');
    await fs.unmount('/m');
    expect(fs.mounts().map((m) => m.path)).toEqual(['/']);
    await expectCode(fs.unmount('/nothing'), 'EINVAL');
  });

  it('mounts() lists the shortest mount points first, then by path', async () => {
    for (const path of ['/zzz/y', '/a/b/c', '/zzz', '/B', '/a', '/']) await fs.mount(path, 'memory://');
    expect(fs.mounts().map((m) => m.path)).toEqual(['/', '/B', '/a', '/zzz', '/zzz/y', '/a/b/c']);
  });

  it('read-only mounts refuse every write with EROFS', async () => {
    const store = new MemoryStore();
    await store.write('seed.txt', Buffer.from('seed'));
    await fs.mount('/ro', store, { readOnly: true });
    expect((await fs.readFile('/ro/seed.txt')).toString()).toBe('seed');
    await expectCode(fs.writeFile('/ro/new.txt', 'x'), 'EROFS');
    await expectCode(fs.mkdir('/ro/d'), 'EROFS');
    await expectCode(fs.rm('/ro/seed.txt'), 'EROFS');
    await expectCode(fs.rename('/ro/seed.txt', '/ro/other.txt'), 'EROFS');
    await expectCode(fs.copy('/ro/seed.txt', '/ro/copy.txt'), 'EROFS');
    expect(fs.mounts()[0]).toMatchObject({ path: '/ro', readOnly: true });
    // An error about the destination of a copy or a rename names the destination.
    await fs.mount('/rw', 'memory://');
    await fs.writeFile('/rw/f.txt', 'f');
    const copied = await expectCode(fs.copy('/rw/f.txt', '/ro/f.txt'), 'EROFS');
    expect(copied).toMatchObject({ path: '/ro/f.txt', mount: '/ro', op: 'copy' });
    const exists = await expectCode(fs.copy('/rw/f.txt', '/ro/seed.txt', { overwrite: false }), 'EROFS');
    expect(exists.path).toBe('/ro/seed.txt');
    await fs.writeFile('/rw/g.txt', 'g');
    const taken = await expectCode(fs.copy('/rw/f.txt', '/rw/g.txt', { overwrite: false }), 'EEXIST');
    expect(taken).toMatchObject({ path: '/rw/g.txt', mount: '/rw' });
    const outside = await expectCode(fs.rename('/rw/f.txt', '/nowhere/f.txt'), 'EROFS');
    expect(outside.path).toBe('/nowhere/f.txt');
  });

  it('memory:// is a new store per mount, memory://name is shared', async () => {
    await fs.mount('/a', 'memory://');
    await fs.mount('/b', 'memory://');
    await fs.writeFile('/a/f', '1');
    expect(await fs.exists('/b/f')).toBe(false);
    await fs.mount('/c', 'memory://shared-name-test');
    await fs.mount('/d', 'memory://shared-name-test');
    await fs.writeFile('/c/f', '2');
    expect((await fs.readFile('/d/f')).toString()).toBe('2');
  });

  it('one MemoryStore object mounted at two paths shows each write through the other at once; two unnamed memory stores share nothing', async () => {
    const cache = await tempDir('stratafs-anonymous-');
    const fs2 = new StrataFS({ metadata: { syncInterval: -1 }, cache: { disk: { dir: cache.dir, capacity: '16MiB' } } });
    try {
      const store = new MemoryStore();
      await fs2.mount('/a', store);
      await fs2.mount('/b', store);
      expect(await fs2.exists('/b/f.txt')).toBe(false);
      await fs2.writeFile('/a/f.txt', 'v1');
      expect((await fs2.readFile('/b/f.txt')).toString()).toBe('v1');
      await fs2.writeFile('/a/f.txt', 'version 2');
      expect((await fs2.readFile('/b/f.txt')).toString()).toBe('version 2');
      await fs2.rm('/a/f.txt');
      expect(await fs2.exists('/b/f.txt')).toBe(false);
      // `memory:///sub` is a new store on each mount: a write kept in the cache of one is not in the other.
      await fs2.mount('/x', 'memory:///sub');
      await fs2.mount('/y', 'memory:///sub');
      await fs2.writeFile('/x/g.txt', 'x only', { writeType: 'MUST_CACHE' });
      expect(await fs2.readdir('/y')).toEqual([]);
      await expectCode(fs2.readFile('/y/g.txt'), 'ENOENT');
    } finally {
      await fs2.close();
      await cache.cleanup();
    }
  });

  it('free of a directory of the namespace above mounts needs recursive (EISDIR), as any directory with sub-directories, then drops their pages', async () => {
    await fs.mount('/top/m', 'memory://');
    await fs.writeFile('/top/m/f', 'data');
    await fs.readFile('/top/m/f');
    expect((await fs.stat('/top/m/f')).cached).toBe(4);
    for (const path of ['/top', '/']) await expectCode(fs.free(path), 'EISDIR');
    await fs.free('/top', { recursive: true });
    expect((await fs.stat('/top/m/f')).cached).toBe(0);
  });

  it('a copy between two mounts of one store object is made by the store itself, not streamed through', async () => {
    const store = new CountingStore('twice');
    await fs.mount('/x', store);
    await fs.mount('/y', store, { readOnly: true });
    const data = Buffer.alloc(3 * 1024 * 1024, 5);
    await fs.writeFile('/x/big.bin', data);
    await fs.free('/x/big.bin');
    store.reset();
    await fs.copy('/y/big.bin', '/x/copy.bin');
    expect(store.count('copy')).toBe(1);
    expect(store.count('read')).toBe(0);
    expect((await fs.readFile('/y/copy.bin')).equals(data)).toBe(true);
  });

  it('unmount drops the mount and its cache', async () => {
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/f', 'data');
    await fs.readFile('/m/f');
    expect(fs.stats().memory.pages).toBeGreaterThan(0);
    await fs.unmount('/m');
    expect(fs.stats().memory.pages).toBe(0);
    await expectCode(fs.stat('/m/f'), 'ENOENT');
  });

  it('a store mounted at two paths keeps its cached pages while one mount stays, and reads begun after the last unmount cache nothing', async () => {
    await fs.mount('/x', 'memory://kept-by-twin');
    await fs.mount('/y', 'memory://kept-by-twin', { readOnly: true });
    await fs.writeFile('/x/f', 'data');
    await fs.readFile('/y/f');
    const pages = fs.stats().memory.pages;
    expect(pages).toBeGreaterThan(0);
    await fs.unmount('/x');
    expect(fs.stats().memory.pages).toBe(pages);
    expect((await fs.stat('/y/f')).cached).toBe(4); // served from the pages the twin left
    await fs.mount('/x', 'memory://kept-by-twin'); // mounted again, then both go
    await fs.unmount('/y');
    await fs.unmount('/x');
    expect(fs.stats().memory.pages).toBe(0);
  });

  it('a third-party store works through registerStore and as an object', async () => {
    const inner = new MemoryStore();
    const calls: string[] = [];
    const thirdParty: UnderStore = {
      uri: 'acme://bucket',
      capabilities: { rangeRead: false, list: true, copy: false, rename: false, directories: false },
      stat: (k, o) => (calls.push('stat'), inner.stat(k, o)),
      list: (k, o) => (calls.push('list'), inner.list(k, o)),
      read: (k, _r, o) => (calls.push('read'), inner.read(k, undefined, o)),
      write: (k, b, o) => (calls.push('write'), inner.write(k, b, o)),
      delete: (k, o) => (calls.push('delete'), inner.delete(k, o)),
    };
    registerStore('acme', (uri, options) => {
      expect(uri.hostname).toBe('bucket');
      expect(options).toEqual({ token: 'abc' });
      return thirdParty;
    });
    await fs.mount('/acme', 'acme://bucket', { options: { token: 'abc' } });
    expect(fs.mounts()[0]!.options.options).toEqual({ token: '***' });
    await fs.writeFile('/acme/dir/file.bin', Buffer.from('0123456789'));
    expect((await fs.readFile('/acme/dir/file.bin', { offset: 3, length: 4 })).toString()).toBe('3456');
    await fs.rename('/acme/dir', '/acme/moved');
    await fs.copy('/acme/moved/file.bin', '/acme/copy.bin');
    expect(await fs.readdir('/acme', { recursive: true })).toEqual(['copy.bin', 'moved', 'moved/file.bin']);
    expect(calls).toContain('read');
    await fs.mount('/obj', thirdParty);
    expect(await fs.readdir('/obj')).toEqual(['copy.bin', 'moved']);
  });

  it('store errors keep Node codes; unknown errors become EIO with context', async () => {
    const failing: UnderStore = {
      uri: 'fail://x',
      capabilities: { rangeRead: true, list: true, copy: false, rename: false, directories: false },
      stat: async (key) => {
        if (key === 'denied') throw Object.assign(new Error('nope'), { code: 'EACCES' });
        throw new Error('kaboom');
      },
      list: async function* () {},
      read: async () => {
        throw new Error('x');
      },
      write: async () => {
        throw new Error('x');
      },
      delete: async () => undefined,
    };
    await fs.mount('/f', failing);
    const denied = await expectCode(fs.stat('/f/denied'), 'EACCES');
    expect(denied.path).toBe('/f/denied');
    const other = await expectCode(fs.stat('/f/other'), 'EIO');
    expect(other).toMatchObject({ path: '/f/other', op: 'stat', mount: '/f' });
    expect(other.message).toContain('kaboom');
  });

  it('after close(), every call fails with EINVAL saying the file system is closed', async () => {
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/a.txt', 'x');
    await fs.close();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['stat', () => fs.stat('/m/a.txt')],
      ['readFile', () => fs.readFile('/m/a.txt')],
      ['writeFile', () => fs.writeFile('/m/b.txt', 'y')],
      ['readdir', () => fs.readdir('/m')],
      ['open', () => fs.open('/m/a.txt')],
      ['mount', () => fs.mount('/n', 'memory://')],
      ['stream', () => readAll(fs.createReadStream('/m/a.txt'))],
    ];
    for (const [name, call] of calls) {
      const error = await expectCode(call(), 'EINVAL');
      expect(error.message, name).toContain('closed');
    }
  });
});
