/**
 * A store that declares `capabilities.list: false` is never asked to list: what must know what
 * is in a directory fails early with `ENOTSUP` (before any change), files work as usual, and a
 * store with its own `rename` still moves directories.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, StrataFS, type StoreCapabilities, type UnderStore } from '../../src/index.js';
import { expectCode } from '../support/helpers.js';

/** A store over a MemoryStore that cannot list; `calls` records what reached it. */
function unlistable(capabilities: Partial<StoreCapabilities> = {}): { store: UnderStore; inner: MemoryStore; calls: string[] } {
  const inner = new MemoryStore();
  const calls: string[] = [];
  const store: UnderStore = {
    uri: 'unlistable://x',
    capabilities: { rangeRead: true, list: false, copy: false, rename: false, directories: false, ...capabilities },
    stat: (key, opts) => (calls.push(`stat ${key}`), inner.stat(key, opts)),
    list: (prefix, opts) => (calls.push(`list ${prefix}`), inner.list(prefix, opts)),
    read: (key, range, opts) => (calls.push(`read ${key}`), inner.read(key, range, opts)),
    write: (key, body, opts) => (calls.push(`write ${key}`), inner.write(key, body, opts)),
    delete: (key, opts) => (calls.push(`delete ${key}`), inner.delete(key, opts)),
    rename: (from, to, opts) => (calls.push(`rename ${from}`), inner.rename(from, to, opts)),
  };
  return { store, inner, calls };
}

let fs: StrataFS;
beforeEach(() => {
  fs = new StrataFS({ cache: { memory: { capacity: '16MiB' } } });
});
afterEach(async () => {
  await fs.close();
});

describe('a store with capabilities.list: false', () => {
  it('is never asked to list: readdir, rm of a directory, copy -r and a rename by copy fail with ENOTSUP and change nothing', async () => {
    const { store, inner, calls } = unlistable();
    await fs.mount('/u', store);
    await fs.writeFile('/u/d/a.txt', 'a');
    await fs.mkdir('/u/d/sub');
    expect((await fs.readFile('/u/d/a.txt')).toString()).toBe('a');
    expect((await fs.stat('/u/d')).type).toBe('directory'); // the store's own stat
    const refused = await expectCode(fs.readdir('/u/d'), 'ENOTSUP');
    expect(refused).toMatchObject({ path: '/u/d', mount: '/u' });
    expect(refused.message).toContain('capabilities.list');
    await expectCode(fs.readdir('/u/d', { recursive: true }), 'ENOTSUP');
    await expectCode(fs.rm('/u/d/sub'), 'ENOTSUP');
    await expectCode(fs.rm('/u/d', { recursive: true }), 'ENOTSUP');
    await expectCode(fs.copy('/u/d', '/u/e', { recursive: true }), 'ENOTSUP');
    await expectCode(fs.rename('/u/d', '/u/e'), 'ENOTSUP');
    expect(calls.filter((c) => c.startsWith('list') || c.startsWith('delete'))).toEqual([]);
    expect(await inner.stat('d/a.txt')).toMatchObject({ isDirectory: false });
    expect(await inner.stat('d/sub/')).toMatchObject({ isDirectory: true });
    expect(await inner.stat('e')).toBeUndefined();
    expect(fs.stats().storeRequests.list ?? 0).toBe(0);
    // Files work as usual.
    await fs.copy('/u/d/a.txt', '/u/b.txt');
    await fs.rename('/u/b.txt', '/u/c.txt');
    await fs.rm('/u/c.txt');
    expect(await fs.exists('/u/c.txt')).toBe(false);
  });

  it('with its own rename, still moves a directory', async () => {
    const { store, calls } = unlistable({ rename: true });
    await fs.mount('/u', store);
    await fs.writeFile('/u/d/a.txt', 'a');
    await fs.rename('/u/d', '/u/e');
    expect((await fs.readFile('/u/e/a.txt')).toString()).toBe('a');
    expect(await fs.exists('/u/d')).toBe(false);
    expect(calls.filter((c) => c.startsWith('list'))).toEqual([]);
  });

  it('a pin of a directory fails with ENOTSUP and pins nothing: files written there later stay evictable', async () => {
    const small = new StrataFS({ cache: { pageSize: 4096, memory: { capacity: 4 * 4096 } } });
    try {
      const { store } = unlistable();
      await small.mount('/u', store);
      await small.mount('/other', 'memory://');
      await small.mkdir('/u/d');
      const refused = await expectCode(small.pin('/u/d'), 'ENOTSUP');
      expect(refused).toMatchObject({ op: 'pin', path: '/u/d' });
      await small.writeFile('/u/d/later', Buffer.alloc(2 * 4096, 1));
      for (let i = 0; i < 4; i++) await small.writeFile(`/other/f${i}`, Buffer.alloc(2 * 4096, 2)); // pushes the rest out of memory
      expect((await small.stat('/u/d/later')).cached).toBe(0);
    } finally {
      await small.close();
    }
  });
});
