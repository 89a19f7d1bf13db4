/**
 * What the caches answer after changes a user makes around them: a file changed outside
 * stratafs, pinned files rewritten or renamed, pending writes uploaded by another StrataFS.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, StrataFS, type UnderStore } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { readAll, tempDir } from '../support/helpers.js';

const PAGE = 4096;
let unique = 0;
const fill = (n: number, pages = 4): Buffer => Buffer.alloc(pages * PAGE, n);

describe('cache coherence', () => {
  let cache: Awaited<ReturnType<typeof tempDir>>;
  const open: StrataFS[] = [];
  const make = (options: ConstructorParameters<typeof StrataFS>[0]): StrataFS => {
    const fs = new StrataFS(options);
    open.push(fs);
    return fs;
  };
  beforeEach(async () => {
    cache = await tempDir('stratafs-coherence-');
  });
  afterEach(async () => {
    for (const fs of open.splice(0)) await fs.close();
    await cache.cleanup();
  });

  for (const syncInterval of [60_000, -1]) {
    it(`a file changed outside, found changed by a read, is read at its new version by every kind of read (syncInterval ${syncInterval})`, async () => {
      const fs = make({ cache: { pageSize: PAGE }, metadata: { syncInterval } });
      const name = `coherence-${++unique}`;
      const outside = new MemoryStore({ name });
      await outside.write('f.bin', fill(1));
      await fs.mount('/m', `memory://${name}`);
      await fs.readFile('/m/f.bin', { offset: 0, length: PAGE }); // page 0 cached at version 1
      await outside.write('f.bin', fill(2));
      // The first read that meets the change may fail with ESTALE; the ones after it read version 2.
      await readAll(fs.createReadStream('/m/f.bin')).catch((error: unknown) => expect(error).toMatchObject({ code: 'ESTALE' }));
      expect((await readAll(fs.createReadStream('/m/f.bin'))).equals(fill(2))).toBe(true);
      const handle = await fs.open('/m/f.bin');
      expect((await handle.readRange(0, 4 * PAGE)).equals(fill(2))).toBe(true);
      await handle.close();
      await fs.load('/m/f.bin');
      expect((await fs.stat('/m/f.bin')).etag).toBe((await outside.stat('f.bin'))!.etag);
    });
  }

  it('a CACHE_PROMOTE read of a pinned file larger than the memory tier reads it (its pins are on disk)', async () => {
    const fs = make({ cache: { pageSize: PAGE, memory: { capacity: 2 * PAGE }, disk: { dir: cache.dir, capacity: 64 * PAGE } } });
    await fs.mount('/m', `memory://coherence-${++unique}`);
    const data = fill(7, 5);
    await fs.writeFile('/m/f', data);
    await fs.pin('/m/f');
    expect((await fs.readFile('/m/f', { readType: 'CACHE_PROMOTE' })).equals(data)).toBe(true);
    expect((await readAll(fs.createReadStream('/m/f', { readType: 'CACHE_PROMOTE' }))).equals(data)).toBe(true);
    const handle = await fs.open('/m/f', { readType: 'CACHE_PROMOTE' });
    expect((await handle.readRange(0, data.length)).equals(data)).toBe(true);
    await handle.close();
  });

  it('a pin of a directory holding mount points (or of a directory of the namespace above them) keeps their files too; unpin lets them go', async () => {
    const fs = make({ cache: { pageSize: PAGE, memory: { capacity: 16 * PAGE }, disk: { dir: cache.dir, capacity: 16 * PAGE } } });
    await fs.mount('/top/m', 'memory://');
    await fs.mount('/top/m/n', 'memory://');
    await fs.mount('/top/o', 'memory://');
    await fs.mount('/other', 'memory://');
    await fs.writeFile('/top/m/a.bin', fill(1, 2), { writeType: 'THROUGH' });
    await fs.writeFile('/top/m/n/b.bin', fill(2, 2), { writeType: 'THROUGH' });
    await fs.writeFile('/top/o/c.bin', fill(3, 2), { writeType: 'THROUGH' });
    const cached = async (): Promise<number[]> => Promise.all(['/top/m/a.bin', '/top/m/n/b.bin', '/top/o/c.bin'].map(async (path) => (await fs.stat(path)).cached));
    const press = async (): Promise<void> => {
      for (let i = 0; i < 8; i++) await fs.load(`/other/f${i}.bin`);
    };
    for (let i = 0; i < 8; i++) await fs.writeFile(`/other/f${i}.bin`, fill(10 + i, 4), { writeType: 'THROUGH' });
    await fs.pin('/top/m');
    await press();
    expect((await cached()).slice(0, 2)).toEqual([2 * PAGE, 2 * PAGE]);
    await fs.unpin('/top/m');
    await fs.pin('/top'); // no store holds /top: a directory of the namespace
    await press();
    expect(await cached()).toEqual([2 * PAGE, 2 * PAGE, 2 * PAGE]);
    await fs.unpin('/top');
    await press();
    expect(await cached()).toEqual([0, 0, 0]);
  });

  for (const disk of [false, true]) {
    const tier = disk ? 'disk' : 'memory';
    it(`rewriting a pinned file keeps its new version pinned, not the old ones (${tier} tier)`, async () => {
      const fs = make({ cache: { pageSize: PAGE, memory: { capacity: 16 * PAGE }, ...(disk ? { disk: { dir: cache.dir, capacity: 16 * PAGE } } : {}) } });
      await fs.mount('/m', `memory://coherence-${++unique}`);
      await fs.writeFile('/m/f', fill(1));
      await fs.pin('/m/f');
      for (let v = 2; v <= 7; v++) {
        await fs.writeFile('/m/f', fill(v));
        expect((await fs.readFile('/m/f')).equals(fill(v))).toBe(true);
      }
      const used = (): number => (disk ? fs.stats().disk!.used : fs.stats().memory.used);
      expect(used()).toBeLessThanOrEqual(4 * PAGE);
      expect((await fs.stat('/m/f')).cached).toBe(4 * PAGE);
      await fs.writeFile('/m/g', fill(9, 10));
      await fs.pin('/m/g'); // fits beside the one pinned version
    });

    it(`renaming a pinned file leaves no pinned pages behind (${tier} tier)`, async () => {
      const fs = make({ cache: { pageSize: PAGE, memory: { capacity: 16 * PAGE }, ...(disk ? { disk: { dir: cache.dir, capacity: 16 * PAGE } } : {}) } });
      await fs.mount('/m', `memory://coherence-${++unique}`);
      await fs.writeFile('/m/f', fill(1, 8));
      await fs.pin('/m/f');
      await fs.rename('/m/f', '/m/g');
      expect((await fs.readFile('/m/g')).equals(fill(1, 8))).toBe(true);
      await fs.unpin('/m/g'); // the pin moved with the file
      await fs.free('/m', { recursive: true });
      await fs.writeFile('/m/h', fill(2, 10));
      await fs.pin('/m/h'); // 10 of 16 pages: fits only if the 8 pinned pages of the old name are gone
    });
  }

  it('with syncInterval -1, free of a path cached as "not found" lets a file created outside be seen', async () => {
    const fs = make({ metadata: { syncInterval: -1 } });
    const name = `coherence-${++unique}`;
    const outside = new MemoryStore({ name });
    await fs.mount('/m', `memory://${name}`);
    expect(await fs.exists('/m/later')).toBe(false); // "not found" is kept
    await outside.write('later', Buffer.from('x'));
    expect(await fs.exists('/m/later')).toBe(false);
    await fs.free('/m/later');
    expect((await fs.readFile('/m/later')).toString()).toBe('x');
    await expect(fs.free('/m/still-missing')).rejects.toMatchObject({ code: 'ENOENT', path: '/m/still-missing' });
  });

  for (const disk of [false, true]) {
    it(`a renamed pinned file or directory stays pinned under its new name, and its old name is not pinned (${disk ? 'disk' : 'memory'} tier)`, async () => {
      const fs = make({ cache: { pageSize: PAGE, memory: { capacity: 16 * PAGE }, ...(disk ? { disk: { dir: cache.dir, capacity: 16 * PAGE } } : {}) } });
      await fs.mount('/m', `memory://coherence-${++unique}`);
      await fs.writeFile('/m/f', fill(1, 4));
      await fs.pin('/m/f');
      await fs.rename('/m/f', '/m/g');
      await fs.readFile('/m/g');
      await fs.free('/m', { recursive: true }); // pinned pages stay
      expect((await fs.stat('/m/g')).cached).toBe(4 * PAGE);
      await fs.writeFile('/m/f', fill(2, 4)); // a new file at the old name is not pinned
      await fs.free('/m/f');
      expect((await fs.stat('/m/f')).cached).toBe(0);

      await fs.writeFile('/m/d/a', fill(3, 2));
      await fs.pin('/m/d');
      await fs.rename('/m/d', '/m/e');
      await fs.readFile('/m/e/a');
      await fs.free('/m/e', { recursive: true });
      expect((await fs.stat('/m/e/a')).cached).toBe(2 * PAGE);
    });
  }

  for (const disk of [false, true]) {
    it(`a removed pinned file or directory takes its pin with it: what is made again at its path is not pinned (${disk ? 'disk' : 'memory'} tier)`, async () => {
      const fs = make({ cache: { pageSize: PAGE, memory: { capacity: 16 * PAGE }, ...(disk ? { disk: { dir: cache.dir, capacity: 16 * PAGE } } : {}) } });
      await fs.mount('/m', `memory://coherence-${++unique}`);
      await fs.writeFile('/m/f', fill(1, 4));
      await fs.pin('/m/f');
      await fs.rm('/m/f');
      await fs.writeFile('/m/f', fill(2, 4));
      await fs.free('/m/f');
      expect((await fs.stat('/m/f')).cached).toBe(0);

      await fs.writeFile('/m/d/a', fill(3, 2));
      await fs.pin('/m/d');
      await fs.rm('/m/d', { recursive: true });
      await fs.writeFile('/m/d/a', fill(4, 2));
      await fs.free('/m/d', { recursive: true });
      expect((await fs.stat('/m/d/a')).cached).toBe(0);

      // A file removed from a pinned directory: the directory's pin stays and covers its new file.
      await fs.writeFile('/m/top/x', fill(5, 2));
      await fs.pin('/m/top');
      await fs.rm('/m/top/x');
      await fs.writeFile('/m/top/x', fill(6, 2));
      await fs.free('/m/top', { recursive: true });
      expect((await fs.stat('/m/top/x')).cached).toBe(2 * PAGE);
    });
  }

  it('another StrataFS on the dir uploads a pending write: reads here never go back to the version before it', async () => {
    const store = new CountingStore(`coherence-${++unique}`);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const write = store.write.bind(store);
    store.write = async (key, body, opts) => {
      await gate;
      return write(key, body, opts);
    };
    await store.inner.write('x', fill(1));
    const options = { cache: { pageSize: PAGE, memory: { capacity: 64 * PAGE }, disk: { dir: cache.dir, capacity: 256 * PAGE } }, metadata: { syncInterval: 60_000 } };
    const writer = make(options);
    const reader = make(options);
    await writer.mount('/s', store);
    await reader.mount('/s', store);
    expect((await reader.readFile('/s/x')).equals(fill(1))).toBe(true);
    await writer.writeFile('/s/x', fill(2, 3), { writeType: 'ASYNC_THROUGH' });
    await new Promise((r) => setTimeout(r, 1100)); // the reader's view of the journal refreshes
    expect((await reader.readFile('/s/x')).equals(fill(2, 3))).toBe(true);
    release();
    await writer.flush();
    await new Promise((r) => setTimeout(r, 1100));
    expect((await reader.readFile('/s/x')).equals(fill(2, 3))).toBe(true);
    expect((await reader.stat('/s/x')).size).toBe(3 * PAGE);
  });

  it('a store with conditionalRead whose objects have no etag: an open handle fails with ESTALE once the object changed, never mixes versions', async () => {
    const inner = new MemoryStore();
    // Versions by size and mtime only: the store has nothing to compare an ifMatch with.
    const store: UnderStore = {
      uri: 'noetag://x',
      capabilities: { ...inner.capabilities, readInfo: false },
      stat: async (key, opts) => {
        const info = await inner.stat(key, opts);
        return info && { ...info, etag: undefined };
      },
      list: (key, opts) => inner.list(key, opts),
      read: (key, range, opts) => inner.read(key, range, { signal: opts?.signal }),
      write: async (key, body, opts) => ({ ...(await inner.write(key, body, opts)), etag: undefined }),
      delete: (key, opts) => inner.delete(key, opts),
    };
    const fs = make({ cache: { pageSize: 4096 }, metadata: { syncInterval: 0 } });
    await fs.mount('/m', store);
    await fs.writeFile('/m/f', Buffer.alloc(10_000, 'A'), { writeType: 'THROUGH' });
    const handle = await fs.open('/m/f');
    expect((await handle.readRange(0, 4096)).toString()).toBe('A'.repeat(4096));
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later mtime
    await inner.write('f', Buffer.alloc(10_000, 'B'));
    await expect(handle.readRange(4096, 5000)).rejects.toMatchObject({ code: 'ESTALE' });
    await handle.close();
  });

  it('a directory looked at before its last file is removed is gone with it, unless made with mkdir', async () => {
    const fs = make({ cache: { pageSize: PAGE } });
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/implicit/deep/a', '1');
    await fs.mkdir('/m/marked');
    await fs.writeFile('/m/marked/a', '1');
    expect((await fs.stat('/m/implicit')).type).toBe('directory');
    expect((await fs.stat('/m/implicit/deep')).type).toBe('directory');
    expect((await fs.stat('/m/marked')).type).toBe('directory');
    await fs.rm('/m/implicit/deep/a');
    await fs.rm('/m/marked/a');
    expect(await fs.exists('/m/implicit/deep')).toBe(false);
    expect(await fs.exists('/m/implicit')).toBe(false);
    expect(await fs.readdir('/m')).toEqual(['marked']);
    expect(await fs.readdir('/m/marked')).toEqual([]);
  });

  it('load of a file rewritten while it loads loads the new version instead of failing ESTALE', async () => {
    const fs = make({ cache: { pageSize: PAGE, memory: { capacity: 64 * PAGE } } });
    const store = new CountingStore(`load-rewritten-${unique++}`);
    await store.inner.write('f.bin', fill(1));
    let reading!: () => void;
    const isReading = new Promise<void>((resolve) => (reading = resolve));
    let goOn!: () => void;
    const mayGoOn = new Promise<void>((resolve) => (goOn = resolve));
    const readWithInfo = store.readWithInfo.bind(store);
    store.readWithInfo = async (key, range, opts) => {
      reading();
      await mayGoOn; // the first read answers once the file has been rewritten
      return readWithInfo(key, range, opts);
    };
    await fs.mount('/s', store);
    await fs.stat('/s/f.bin');
    const loading = fs.load('/s/f.bin');
    await isReading;
    await fs.writeFile('/s/f.bin', fill(2), { writeType: 'THROUGH' });
    goOn();
    await loading;
    store.reset();
    expect((await fs.readFile('/s/f.bin')).equals(fill(2))).toBe(true);
    expect(store.bytesRead).toBe(0);
  });

  it('a store without etags (a coarse mtime): an old version fetched late is not cached over a write made meanwhile', async () => {
    // Both versions have the same size and mtime, so the same version name: only the order tells them apart.
    const inner = new MemoryStore();
    const second = (info: { key: string; size: number; isDirectory: boolean; mtime?: Date } | undefined) =>
      info && { key: info.key, size: info.size, isDirectory: info.isDirectory, mtime: new Date(Math.floor(Date.now() / 1e6) * 1e6) };
    let lateBy = 0;
    const store: UnderStore = {
      uri: 'seconds://x',
      capabilities: { rangeRead: true, list: true, copy: false, rename: false, directories: false },
      stat: async (k) => second(await inner.stat(k)),
      list: (p, o) => inner.list(p, o),
      read: async (k, r) => {
        const body = await inner.read(k, r); // the bytes of the version there now...
        if (lateBy > 0) await new Promise((resolve) => setTimeout(resolve, lateBy)); // ...delivered late
        return body;
      },
      write: async (k, b) => second(await inner.write(k, b))!,
      delete: (k) => inner.delete(k),
    };
    for (const memory of [{ capacity: '1MiB' }, false] as const) {
      const fs = make({ cache: { pageSize: PAGE, memory } });
      await fs.mount('/s', store);
      const name = `f${unique++}`;
      await inner.write(name, fill(1));
      lateBy = 300;
      const early = fs.readFile(`/s/${name}`);
      await new Promise((resolve) => setTimeout(resolve, 100)); // its fetch is on its way
      await fs.writeFile(`/s/${name}`, fill(2));
      const after = fs.readFile(`/s/${name}`); // while the old fetch is still on its way
      expect([...new Set(await early)]).toEqual([1]);
      expect([...new Set(await after)]).toEqual([2]);
      lateBy = 0;
      expect([...new Set(await fs.readFile(`/s/${name}`))]).toEqual([2]);
    }
  });

  it('metadata misses count the lookups that ask the store, once each', async () => {
    const fs = make({ cache: { pageSize: PAGE }, metadata: { syncInterval: 0 } });
    await fs.mount('/m', `memory://coherence-${++unique}`);
    await fs.writeFile('/m/f', fill(1));
    const before = fs.stats();
    await fs.readFile('/m/f');
    const after = fs.stats();
    const asked = (after.storeRequests.stat ?? 0) - (before.storeRequests.stat ?? 0);
    expect(asked).toBe(1);
    expect(after.metadata.misses - before.metadata.misses).toBe(asked);
  });
});

describe('a copy whose source is rewritten outside while it is copied', () => {
  /** A view of a named memory store that runs `onRead` (once) at its `at`-th read. */
  class RewritingStore extends MemoryStore {
    reads = 0;
    at = 0;
    onRead: (() => Promise<void>) | undefined;
    override async readWithInfo(...args: Parameters<MemoryStore['readWithInfo']>): ReturnType<MemoryStore['readWithInfo']> {
      if (++this.reads === this.at && this.onRead) await this.onRead();
      return super.readWithInfo(...args);
    }
  }

  for (const pages of [3, 40]) {
    it(`copies it whole at its new version across mounts (${pages} pages)`, async () => {
      const fs = new StrataFS({ cache: { pageSize: PAGE } });
      try {
        const name = `copy-rewritten-${++unique}`;
        const outside = new MemoryStore({ name });
        const source = new RewritingStore({ name });
        await fs.mount('/src', source);
        await fs.mount('/dst', `memory://copy-target-${unique}`);
        await outside.write('d/f.bin', fill(1, pages));
        await fs.readFile('/src/d/f.bin', { offset: 0, length: PAGE }); // its stat and first page cached at version 1
        source.at = source.reads + 1;
        source.onRead = () => outside.write('d/f.bin', fill(2, pages + 1)).then(() => undefined);
        await fs.copy('/src/d', '/dst/d', { recursive: true });
        expect((await fs.readFile('/dst/d/f.bin')).equals(fill(2, pages + 1))).toBe(true);
      } finally {
        await fs.close();
      }
    });
  }
});

describe('a file removed or replaced by a directory outside while its stat is cached', () => {
  for (const replaced of [false, true]) {
    it(`a read finds it ${replaced ? 'a directory (EISDIR)' : 'gone (ENOENT)'}, and stat then agrees`, async () => {
      const fs = new StrataFS({ cache: { pageSize: PAGE } });
      try {
        const name = `gone-${++unique}`;
        const outside = new MemoryStore({ name });
        await fs.mount('/m', `memory://${name}`);
        await outside.write('f', fill(1));
        await fs.stat('/m/f'); // its stat cached, no page of it
        await outside.delete('f');
        if (replaced) await outside.write('f/inner', fill(2, 1));
        const code = replaced ? 'EISDIR' : 'ENOENT';
        await expect(fs.readFile('/m/f')).rejects.toMatchObject({ code, path: '/m/f' });
        if (replaced) expect((await fs.stat('/m/f')).type).toBe('directory');
        else await expect(fs.stat('/m/f')).rejects.toMatchObject({ code: 'ENOENT' });
        await expect(fs.open('/m/f')).rejects.toMatchObject({ code });
      } finally {
        await fs.close();
      }
    });
  }
});

describe('a listing newer than a cached stat', () => {
  for (const syncInterval of [60_000, -1]) {
    it(`stat agrees with the readdir that found a file changed outside (syncInterval ${syncInterval})`, async () => {
      const fs = new StrataFS({ metadata: { syncInterval } });
      try {
        const name = `listing-${++unique}`;
        const outside = new MemoryStore({ name });
        await fs.mount('/m', `memory://${name}`);
        await outside.write('d/f', Buffer.alloc(100, 1));
        await fs.stat('/m/d/f'); // cached at version 1
        const now = await outside.write('d/f', Buffer.alloc(200, 2));
        const [listed] = await fs.readdir('/m/d', { withInfo: true }); // listed first now: version 2
        expect(listed).toMatchObject({ size: 200, etag: now.etag });
        expect(await fs.stat('/m/d/f')).toMatchObject({ size: 200, etag: now.etag });
      } finally {
        await fs.close();
      }
    });
  }
});

describe('load of a directory whose listing is cached', () => {
  it('skips a file removed outside since it was listed, and its totals leave the progress', async () => {
    const fs = new StrataFS({ cache: { pageSize: PAGE } });
    try {
      const name = `load-gone-${++unique}`;
      const outside = new MemoryStore({ name });
      await fs.mount('/m', `memory://${name}`);
      await outside.write('d/gone', fill(1));
      await outside.write('d/kept', fill(2));
      expect(await fs.readdir('/m/d')).toEqual(['gone', 'kept']); // listing cached
      await outside.delete('d/gone');
      const seen: Array<{ bytes: number; totalBytes: number; files: number; totalFiles: number }> = [];
      await fs.load('/m/d', { onProgress: (p) => seen.push(p) });
      expect(seen.at(-1)).toEqual({ bytes: 4 * PAGE, totalBytes: 4 * PAGE, files: 1, totalFiles: 1 });
      expect((await fs.stat('/m/d/kept')).cached).toBe(4 * PAGE);
      await expect(fs.load('/m/d/gone')).rejects.toMatchObject({ code: 'ENOENT' }); // named itself: still an error
    } finally {
      await fs.close();
    }
  });
});
