import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { mapKeyCharactersDuring } from '../support/map-key-characters.js';
import { describeStoreConformance, readAll } from '../conformance/store-suite.js';

describeStoreConformance('memory', async () => new MemoryStore());

describe('MemoryStore URIs', () => {
  it('memory:// is a new empty store each time', async () => {
    const a = MemoryStore.fromUri(new URL('memory://'));
    const b = MemoryStore.fromUri(new URL('memory://'));
    await a.write('x.txt', Buffer.from('a'));
    expect(await b.stat('x.txt')).toBeUndefined();
    expect(a.uri).toBe('memory://');
  });

  it('memory://name is one store per name in the process', async () => {
    const name = `shared-${Math.random().toString(36).slice(2)}`;
    const a = MemoryStore.fromUri(new URL(`memory://${name}`));
    const b = MemoryStore.fromUri(new URL(`memory://${name}`));
    const other = MemoryStore.fromUri(new URL(`memory://${name}-other`));
    await a.write('x.txt', Buffer.from('shared'));
    expect((await readAll(b.read('x.txt'))).toString()).toBe('shared');
    expect(await other.stat('x.txt')).toBeUndefined();
    expect(b.uri).toBe(`memory://${name}`);
  });

  it('memory://name/dir is a view below dir of the named store', async () => {
    const name = `view-${Math.random().toString(36).slice(2)}`;
    const whole = MemoryStore.fromUri(new URL(`memory://${name}`));
    const view = MemoryStore.fromUri(new URL(`memory://${name}/dir/sub`));
    await view.write('f.txt', Buffer.from('v'));
    expect((await readAll(whole.read('dir/sub/f.txt'))).toString()).toBe('v');
    const listed = [];
    for await (const info of view.list('')) listed.push(info.key);
    expect(listed).toEqual(['f.txt']);
    expect(view.uri).toBe(`memory://${name}/dir/sub`);
  });

  it('rejects queries, fragments, credentials, other schemes and unsafe prefixes', () => {
    for (const uri of ['memory://a?x=1', 'memory://a#frag', 'memory://u:p@a', 'file:///srv/data', 'memory://a/x%2F..%2Fy']) {
      expect(() => MemoryStore.fromUri(new URL(uri)), uri).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
  });

  it('reads are views of the stored bytes and survive later overwrites', async () => {
    const store = new MemoryStore();
    await store.write('k', Buffer.from('first'));
    const stream = await store.read('k');
    await store.write('k', Buffer.from('second'));
    expect((await readAll(stream)).toString()).toBe('first');
  });

  it('a written Buffer is copied: changing it later changes nothing', async () => {
    const store = new MemoryStore();
    const buf = Buffer.from('abc');
    await store.write('k', buf);
    buf[0] = 0x7a;
    expect((await readAll(store.read('k'))).toString()).toBe('abc');
  });
});

describe('MemoryStore writes', () => {
  it('an abort ends a write whose source has stalled, and nothing changes', async () => {
    const store = new MemoryStore();
    await store.write('k', Buffer.from('old'));
    const controller = new AbortController();
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((r) => (release = r));
    const body = Readable.from(
      (async function* () {
        yield Buffer.from('new part');
        setImmediate(() => controller.abort());
        await stalled;
        yield Buffer.from('never');
      })(),
    );
    await expect(store.write('k', body, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    release();
    expect((await readAll(store.read('k'))).toString()).toBe('old');
  });

  it('the root is not a file', async () => {
    const store = new MemoryStore();
    await expect(store.write('', Buffer.from('x'))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('MemoryStore with many keys', () => {
  it('answers a stat without walking every key it holds (a write checks its target first)', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 2000; i++) await store.write(`d/f${i}`, Buffer.from('x'));
    await store.write('m/', Buffer.alloc(0));
    await store.write('e/sub/g', Buffer.from('x'));
    const walks = [vi.spyOn(Map.prototype, 'keys'), vi.spyOn(Map.prototype, 'entries'), vi.spyOn(Map.prototype, 'forEach')];
    try {
      expect(await store.stat('d/missing')).toBeUndefined();
      expect(await store.stat('nothing/here')).toBeUndefined();
      expect(await store.stat('e')).toMatchObject({ isDirectory: true });
      expect(await store.stat('e/sub/')).toMatchObject({ isDirectory: true });
      expect(await store.stat('m')).toMatchObject({ isDirectory: true });
      expect(walks.reduce((n, spy) => n + spy.mock.calls.length, 0)).toBe(0);
    } finally {
      for (const spy of walks) spy.mockRestore();
    }
  });

  it('lists one directory without walking every key it holds (a tree walked a directory at a time stays linear)', async () => {
    const store = new MemoryStore({ prefix: 'p' });
    for (let i = 0; i < 2000; i++) await store.write(`d/f${i}`, Buffer.from('x'));
    await store.write('e/g', Buffer.from('x'));
    await store.write('e/m/', Buffer.alloc(0));
    await store.write('e/sub/deep/h', Buffer.from('x'));
    await store.write('top', Buffer.from('x'));
    const walks = vi.spyOn(Map.prototype, 'entries');
    let listed: Array<{ key: string; isDirectory: boolean }>;
    let root: string[];
    try {
      listed = [];
      for await (const info of store.list('e')) listed.push({ key: info.key, isDirectory: info.isDirectory });
      root = [];
      for await (const info of store.list('')) root.push(info.key);
      expect(walks).not.toHaveBeenCalled();
    } finally {
      walks.mockRestore();
    }
    expect(listed.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'e/g', isDirectory: false },
      { key: 'e/m', isDirectory: true },
      { key: 'e/sub', isDirectory: true },
    ]);
    expect(root.sort()).toEqual(['d', 'e', 'top']);
    await store.delete('e/sub/deep/h');
    await store.delete('e/g');
    const after: string[] = [];
    for await (const info of store.list('e/')) after.push(info.key);
    expect(after).toEqual(['e/m']);
  });

  it('a directory implied by its keys goes with the last of them, whichever way it leaves', async () => {
    const store = new MemoryStore();
    await store.write('a/b/1', Buffer.from('x'));
    await store.write('a/b/2', Buffer.from('x'));
    await store.write('a/b/2', Buffer.from('y')); // an overwrite counts once
    await store.delete('a/b/1');
    expect(await store.stat('a/b')).toMatchObject({ isDirectory: true });
    await store.rename('a/b/2', 'c/2');
    expect(await store.stat('a/b')).toBeUndefined();
    expect(await store.stat('a')).toBeUndefined();
    expect(await store.stat('c')).toMatchObject({ isDirectory: true });
    await store.rename('c', 'x/y');
    expect(await store.stat('c')).toBeUndefined();
    expect(await store.stat('x')).toMatchObject({ isDirectory: true });
    await store.deleteMany(['x/y/2']);
    expect(await store.stat('x')).toBeUndefined();
    await expect(store.rename('x/y', 'z')).rejects.toMatchObject({ code: 'ENOENT' });
  });
  it('writes and deletes a key of any depth with map look-ups about as long as the key, not one per ancestor', async () => {
    const store = new MemoryStore();
    const depth = 400;
    const keys = Array.from({ length: depth }, (_, i) => Array.from({ length: i + 1 }, () => 'd').join('/') + '/');
    const looked = await mapKeyCharactersDuring(async () => {
      for (const key of keys) await store.write(key, Buffer.alloc(0));
      expect(await store.stat(keys.at(-1)!.slice(0, -1))).toMatchObject({ isDirectory: true });
      for (const key of keys) await store.delete(key);
    });
    expect(await store.stat('d')).toBeUndefined();
    const keyChars = keys.reduce((n, k) => n + k.length, 0);
    expect(looked).toBeLessThan(20 * keyChars);
  });
});
