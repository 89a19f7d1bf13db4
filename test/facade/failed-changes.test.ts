/**
 * Changes that fail part-way or lose their answer: the error names what failed, the caches agree
 * with the store afterwards, and the same call succeeds once the store is back.
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { tempDir } from '../support/helpers.js';

type Op = 'write' | 'delete';

/** A counting store whose `op` calls fail: after doing their work when `commit`, before it otherwise; from the `after`+1-th call on. */
function failing(capabilities = { rangeRead: true, list: true, copy: false, rename: false, directories: false }): {
  store: CountingStore;
  fail: (op: Op, opts?: { commit?: boolean; after?: number }) => void;
  heal: () => void;
} {
  const store = new CountingStore(`failing-${Math.random().toString(36).slice(2)}`, capabilities);
  const real = { write: store.write.bind(store), delete: store.delete.bind(store) };
  const rules = new Map<Op, { commit: boolean; after: number }>();
  store.write = async (key, body, opts) => {
    const rule = rules.get('write');
    if (rule && rule.after-- <= 0) {
      if (rule.commit) await real.write(key, body, opts);
      throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    }
    return real.write(key, body, opts);
  };
  store.delete = async (key, opts) => {
    const rule = rules.get('delete');
    if (rule && rule.after-- <= 0) {
      if (rule.commit) await real.delete(key, opts);
      throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    }
    return real.delete(key, opts);
  };
  return {
    store,
    fail: (op, opts = {}) => void rules.set(op, { commit: opts.commit ?? false, after: opts.after ?? 0 }),
    heal: () => rules.clear(),
  };
}

const open: StrataFS[] = [];
const make = (): StrataFS => {
  const fs = new StrataFS({ cache: { pageSize: 4096 }, retry: { attempts: 1, minDelay: 1, maxDelay: 2 }, metadata: { syncInterval: 60_000 } });
  open.push(fs);
  return fs;
};
afterEach(async () => {
  for (const fs of open.splice(0)) await fs.close();
});

for (const kind of ['a buffer', 'a stream'] as const) {
  it(`a write of ${kind} that the store made but whose answer was lost: the caches then answer what the store holds`, async () => {
    const { store, fail } = failing();
    const fs = make();
    await fs.mount('/m', store);
    await fs.writeFile('/m/a.txt', 'old-content');
    expect((await fs.readFile('/m/a.txt')).toString()).toBe('old-content');
    fail('write', { commit: true });
    const body = kind === 'a buffer' ? Buffer.from('NEW-CONTENT-LONGER') : Readable.from([Buffer.from('NEW-CONTENT-LONGER')]);
    await expect(fs.writeFile('/m/a.txt', body)).rejects.toMatchObject({ code: 'EIO', path: '/m/a.txt' });
    expect((await fs.stat('/m/a.txt')).size).toBe(18);
    expect((await fs.readFile('/m/a.txt')).toString()).toBe('NEW-CONTENT-LONGER');
  });
}

it('an rm that the store made but whose answer was lost: the file is then gone here too', async () => {
  const { store, fail } = failing();
  const fs = make();
  await fs.mount('/m', store);
  await fs.writeFile('/m/a.txt', 'content');
  await fs.readFile('/m/a.txt');
  fail('delete', { commit: true });
  await expect(fs.rm('/m/a.txt')).rejects.toMatchObject({ code: 'EIO' });
  expect(await fs.exists('/m/a.txt')).toBe(false);
  await expect(fs.readFile('/m/a.txt')).rejects.toMatchObject({ code: 'ENOENT' });
});

it('an rm -r that the store refuses for one file names that file', async () => {
  const { store } = failing();
  const remove = store.delete.bind(store);
  store.delete = async (key, opts) => {
    if (key === 'd/sub/b.txt') throw Object.assign(new Error('denied'), { code: 'EACCES' });
    return remove(key, opts);
  };
  const fs = make();
  await fs.mount('/m', store);
  await fs.writeFile('/m/d/a.txt', 'a');
  await fs.writeFile('/m/d/sub/b.txt', 'b');
  await expect(fs.rm('/m/d', { recursive: true })).rejects.toMatchObject({ code: 'EACCES', op: 'rm', path: '/m/d/sub/b.txt', mount: '/m' });
  expect((await fs.readFile('/m/d/sub/b.txt')).toString()).toBe('b');
});

it('a directory move that fails part-way leaves nothing at its destination, and succeeds when tried again', async () => {
  const { store, fail, heal } = failing();
  const fs = make();
  await fs.mount('/m', store);
  for (let i = 0; i < 6; i++) await fs.writeFile(`/m/src/f${i}.txt`, `file ${i}`);
  await fs.mkdir('/m/dst');
  fail('write', { after: 3 });
  await expect(fs.rename('/m/src', '/m/dst')).rejects.toMatchObject({ code: 'EIO' });
  heal();
  expect(await fs.readdir('/m/dst')).toEqual([]); // as before the move: an empty directory
  expect(await fs.readdir('/m/src')).toHaveLength(6);
  await fs.rename('/m/src', '/m/dst');
  expect(await fs.readdir('/m/dst')).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt']);
  expect(await fs.exists('/m/src')).toBe(false);
});

it('a directory move aborted once its tree is copied completes: the tree is not left under both names', async () => {
  const { store } = failing();
  const fs = make();
  await fs.mount('/m', store);
  for (let i = 0; i < 6; i++) await fs.writeFile(`/m/src/d${i % 2}/f${i}.txt`, `file ${i}`);
  const controller = new AbortController();
  const remove = store.delete.bind(store);
  // The first delete of the move is the first of its source: the copy is done by then.
  store.delete = async (key, opts) => {
    controller.abort();
    if (opts?.signal?.aborted) throw opts.signal.reason;
    return remove(key, opts);
  };
  await fs.rename('/m/src', '/m/dst', { signal: controller.signal });
  expect(await fs.exists('/m/src')).toBe(false);
  expect(await fs.readdir('/m/dst', { recursive: true })).toEqual(['d0', 'd0/f0.txt', 'd0/f2.txt', 'd0/f4.txt', 'd1', 'd1/f1.txt', 'd1/f3.txt', 'd1/f5.txt']);
  expect((await fs.readFile('/m/dst/d1/f3.txt')).toString()).toBe('file 3');
  expect(await store.inner.stat('src')).toBeUndefined();
});

it('a copy across mounts that fails writing its destination names the destination', async () => {
  const { store, fail } = failing();
  const fs = make();
  await fs.mount('/from', 'memory://');
  await fs.mount('/to', store);
  await fs.writeFile('/from/big.bin', Buffer.alloc(64 * 1024, 1));
  fail('write');
  await expect(fs.copy('/from/big.bin', '/to/big.bin')).rejects.toMatchObject({ code: 'EIO', path: '/to/big.bin', mount: '/to' });
});

it('a copy -r that fails part-way removes what it made: the same copy without overwrite then succeeds', async () => {
  const { store } = failing();
  const write = store.write.bind(store);
  let broken = true;
  store.write = async (key, body, opts) => {
    if (broken && key.endsWith('f7.txt')) throw Object.assign(new Error('denied'), { code: 'EACCES' });
    return write(key, body, opts);
  };
  const fs = make();
  await fs.mount('/a', 'memory://');
  await fs.mount('/b', store);
  for (let i = 0; i < 12; i++) await fs.writeFile(`/a/src/d${i % 2}/f${i}.txt`, `file ${i}`);
  await fs.writeFile('/b/dst/kept.txt', 'there before');
  await expect(fs.copy('/a/src', '/b/dst', { recursive: true, overwrite: false })).rejects.toMatchObject({ code: 'EACCES', path: '/b/dst/d1/f7.txt' });
  expect(await fs.readdir('/b', { recursive: true })).toEqual(['dst', 'dst/kept.txt']);
  broken = false;
  await fs.copy('/a/src', '/b/dst', { recursive: true, overwrite: false });
  expect(await fs.readdir('/b/dst/d1')).toEqual(['f1.txt', 'f11.txt', 'f3.txt', 'f5.txt', 'f7.txt', 'f9.txt']);
  expect((await fs.readFile('/b/dst/d1/f7.txt')).toString()).toBe('file 7');
});

it('copy -r, load -r, rename and rm -r with one signal add no listener warning', async () => {
  const warn = vi.spyOn(process, 'emitWarning');
  try {
    const fs = make();
    await fs.mount('/a', 'memory://');
    await fs.mount('/b', 'memory://');
    for (let i = 0; i < 40; i++) await fs.writeFile(`/a/d/f${i}.txt`, `file ${i}`);
    const signal = new AbortController().signal;
    await fs.copy('/a/d', '/b/d', { recursive: true, signal });
    await fs.free('/b/d', { recursive: true });
    await fs.load('/b/d', { recursive: true, signal });
    await fs.rename('/a/d', '/a/e', { signal });
    await fs.rm('/b/d', { recursive: true, signal });
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([]);
  } finally {
    warn.mockRestore();
  }
});

it('a directory move that fails keeps the MUST_CACHE data of its source where it was', async () => {
  const cache = await tempDir('stratafs-failed-move-');
  const { store, fail, heal } = failing();
  const fs = new StrataFS({ cache: { disk: { dir: cache.dir, capacity: '64MiB' } }, retry: { attempts: 1, minDelay: 1, maxDelay: 2 } });
  open.push(fs);
  try {
    await fs.mount('/m', store);
    await fs.writeFile('/m/src/a.txt', 'in store');
    await fs.writeFile('/m/src/b.txt', 'in store too');
    await fs.writeFile('/m/src/cached-only.txt', 'only in cache', { writeType: 'MUST_CACHE' });
    fail('write', { after: 1 });
    await expect(fs.rename('/m/src', '/m/dst')).rejects.toMatchObject({ code: 'EIO' });
    heal();
    expect((await fs.readFile('/m/src/cached-only.txt')).toString()).toBe('only in cache');
    expect(await fs.exists('/m/dst')).toBe(false);
    await fs.rename('/m/src', '/m/dst');
    expect((await fs.readFile('/m/dst/cached-only.txt')).toString()).toBe('only in cache');
    expect(await store.inner.stat('dst/cached-only.txt')).toBeUndefined(); // still in the cache only
  } finally {
    await fs.close();
    await cache.cleanup();
  }
});

it('a rename that fails keeps the pin on its source', async () => {
  const { store } = failing({ rangeRead: true, list: true, copy: false, rename: true, directories: false });
  store.rename = async () => {
    throw Object.assign(new Error('denied'), { code: 'EACCES' });
  };
  const fs = make();
  await fs.mount('/m', store);
  await fs.writeFile('/m/a.txt', Buffer.alloc(10_000, 1));
  await fs.pin('/m/a.txt');
  await expect(fs.rename('/m/a.txt', '/m/b.txt')).rejects.toMatchObject({ code: 'EACCES' });
  await fs.writeFile('/m/a.txt', Buffer.alloc(10_000, 2));
  await fs.readFile('/m/a.txt');
  await fs.free('/m/a.txt');
  expect((await fs.stat('/m/a.txt')).cached).toBe(10_000);
});

describe('a directory move whose source the store fails to remove once its tree is copied', () => {
  const copiedThenDeletesFail = async (): Promise<{ fs: StrataFS; store: CountingStore }> => {
    const { store, fail, heal } = failing();
    const fs = make();
    await fs.mount('/m', store);
    for (let i = 0; i < 6; i++) await fs.writeFile(`/m/src/d${i % 2}/f${i}.txt`, `file ${i}`);
    fail('delete', { after: 2 });
    await expect(fs.rename('/m/src', '/m/dst')).rejects.toMatchObject({ code: 'EIO', op: 'rename', path: '/m/src' });
    heal();
    expect(await fs.readdir('/m/dst', { recursive: true })).toHaveLength(8);
    return { fs, store };
  };

  it('ends when called again once the store is back, instead of failing ENOTEMPTY', async () => {
    const { fs, store } = await copiedThenDeletesFail();
    await fs.rename('/m/src', '/m/dst');
    expect(await fs.exists('/m/src')).toBe(false);
    expect(await store.inner.stat('src')).toBeUndefined();
    expect(await fs.readdir('/m/dst', { recursive: true })).toEqual(['d0', 'd0/f0.txt', 'd0/f2.txt', 'd0/f4.txt', 'd1', 'd1/f1.txt', 'd1/f3.txt', 'd1/f5.txt']);
    for (let i = 0; i < 6; i++) expect((await fs.readFile(`/m/dst/d${i % 2}/f${i}.txt`)).toString()).toBe(`file ${i}`);
  });

  it('called again after what is left of the source changed, removes nothing of it', async () => {
    const { fs } = await copiedThenDeletesFail();
    const left = (await fs.readdir('/m/src', { recursive: true })) as string[];
    const file = left.find((name) => name.endsWith('.txt'))!;
    await fs.writeFile(`/m/src/${file}`, 'changed after the move failed');
    await expect(fs.rename('/m/src', '/m/dst')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    expect((await fs.readFile(`/m/src/${file}`)).toString()).toBe('changed after the move failed');
  });
});

it('a directory move whose source the store fails to remove keeps the pins with the copied tree', async () => {
  const { store, fail } = failing();
  const fs = make();
  await fs.mount('/m', store);
  await fs.writeFile('/m/src/a.bin', Buffer.alloc(10_000, 1));
  await fs.writeFile('/m/src/d/b.bin', Buffer.alloc(10_000, 2));
  await fs.pin('/m/src/d/b.bin');
  fail('delete');
  const error = await fs.rename('/m/src', '/m/dst').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'EIO', op: 'rename', path: '/m/src' });
  await fs.readFile('/m/dst/d/b.bin');
  await fs.free('/m', { recursive: true });
  expect((await fs.stat('/m/dst/d/b.bin')).cached).toBe(10_000);
});

it('a directory rename onto an empty directory that the store refuses leaves that directory', async () => {
  const { store } = failing({ rangeRead: true, list: true, copy: false, rename: true, directories: false });
  store.rename = async () => {
    throw Object.assign(new Error('denied'), { code: 'EACCES' });
  };
  const fs = make();
  await fs.mount('/m', store);
  await fs.writeFile('/m/src/a.txt', 'a');
  await fs.mkdir('/m/dst');
  await expect(fs.rename('/m/src', '/m/dst')).rejects.toMatchObject({ code: 'EACCES' });
  expect(await fs.readdir('/m')).toEqual(['dst', 'src']);
  expect(await store.inner.stat('dst/')).toBeDefined();
});

describe('a change that fails at the store after a write the store has not got yet', () => {
  let cache: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    cache = await tempDir('stratafs-failed-pending-');
  });
  afterEach(async () => {
    // Closed first (this hook runs before the file's own): a disk write on its way may not land in a removed dir.
    for (const fs of open.splice(0)) await fs.close();
    await cache.cleanup();
  });
  const withCache = (): StrataFS => {
    const fs = new StrataFS({ cache: { disk: { dir: cache.dir, capacity: '64MiB' } }, retry: { attempts: 1, minDelay: 1, maxDelay: 2 } });
    open.push(fs);
    return fs;
  };

  /** `path` written to the store, then again with MUST_CACHE (in the cache only), on a store whose deletes now fail. */
  const writtenTwiceThenDeletesFail = async (path: string): Promise<StrataFS> => {
    const { store, fail } = failing();
    const fs = withCache();
    await fs.mount('/m', store);
    await fs.writeFile(path, 'old, in store');
    await fs.writeFile(path, 'new, in cache only', { writeType: 'MUST_CACHE' });
    fail('delete');
    return fs;
  };

  it('an rm that fails leaves the file with what was last written, never the older version the store still holds', async () => {
    const fs = await writtenTwiceThenDeletesFail('/m/a.txt');
    await expect(fs.rm('/m/a.txt')).rejects.toMatchObject({ code: 'EIO' });
    expect((await fs.readFile('/m/a.txt')).toString()).toBe('new, in cache only');
  });

  it('an rm -r that fails leaves each file with what was last written, never the older version the store still holds', async () => {
    const fs = await writtenTwiceThenDeletesFail('/m/d/a.txt');
    await expect(fs.rm('/m/d', { recursive: true })).rejects.toMatchObject({ code: 'EIO' });
    expect((await fs.readFile('/m/d/a.txt')).toString()).toBe('new, in cache only');
  });

  it('a rename of a MUST_CACHE file that fails leaves it where it was, never its older version in the store at its old path', async () => {
    const fs = await writtenTwiceThenDeletesFail('/m/a.txt');
    await expect(fs.rename('/m/a.txt', '/m/b.txt')).rejects.toMatchObject({ code: 'EIO' });
    expect((await fs.readFile('/m/a.txt')).toString()).toBe('new, in cache only');
    expect(await fs.exists('/m/b.txt')).toBe(false);
  });
});
