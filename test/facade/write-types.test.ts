import { spawn } from 'node:child_process';
import { readFile as readLocal, readdir as readdirLocal } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStore, StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { expectCode, randomBytes, readAll, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;

/** A counting store whose writes fail with a dropped connection while `outage.down` is true (it starts down). */
function storeWithOutage(name: string): { store: CountingStore; outage: { down: boolean } } {
  const store = new CountingStore(name);
  const outage = { down: true };
  const realWrite = store.write.bind(store);
  store.write = async (key, body, opts) => {
    if (outage.down) throw Object.assign(new Error('service unavailable'), { code: 'ECONNRESET' });
    return realWrite(key, body, opts);
  };
  return { store, outage };
}

describe('disk tier and write types through the facade', () => {
  let cache: Awaited<ReturnType<typeof tempDir>>;
  let storeDir: Awaited<ReturnType<typeof tempDir>>;
  const open: StrataFS[] = [];
  const make = (options: ConstructorParameters<typeof StrataFS>[0] = {}): StrataFS => {
    const fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '8MiB' }, disk: { dir: cache.dir, capacity: '32MiB' } }, ...options });
    open.push(fs);
    return fs;
  };
  beforeEach(async () => {
    cache = await tempDir('stratafs-cache-');
    storeDir = await tempDir('stratafs-store-');
  });
  afterEach(async () => {
    for (const fs of open.splice(0)) await fs.close();
    await cache.cleanup();
    await storeDir.cleanup();
  });

  it('a new StrataFS on the same dir serves the pages that were there', async () => {
    const data = randomBytes(5 * PAGE);
    const store = new CountingStore('restart');
    await store.inner.write('a.bin', data);
    const first = make();
    await first.mount('/s', store);
    await first.readFile('/s/a.bin');
    await first.close();
    store.reset();
    const second = make();
    await second.mount('/s', store);
    expect((await second.readFile('/s/a.bin')).equals(data)).toBe(true);
    expect(store.bytesRead).toBe(0);
    expect(second.stats().disk!.pages).toBeGreaterThanOrEqual(5);
  });

  it('a changed object is not served from old disk pages after a restart', async () => {
    const store = new CountingStore('changed');
    await store.inner.write('a.bin', Buffer.alloc(2 * PAGE, 1));
    const first = make();
    await first.mount('/s', store);
    await first.readFile('/s/a.bin');
    await first.close();
    await store.inner.write('a.bin', Buffer.alloc(2 * PAGE, 2));
    const second = make();
    await second.mount('/s', store);
    expect([...new Set(await second.readFile('/s/a.bin'))]).toEqual([2]);
  });

  it('CACHE_PROMOTE moves disk pages up to memory, CACHE does not', async () => {
    const store = new CountingStore('promote');
    await store.inner.write('p.bin', randomBytes(2 * PAGE));
    const first = make();
    await first.mount('/s', store);
    await first.readFile('/s/p.bin');
    await first.close();
    const second = make();
    await second.mount('/s', store);
    await second.readFile('/s/p.bin');
    expect(second.stats().memory.pages).toBe(0);
    await second.readFile('/s/p.bin', { readType: 'CACHE_PROMOTE' });
    expect(second.stats().memory.pages).toBe(2);
    expect(store.bytesRead).toBe(2 * PAGE);
  });

  it('THROUGH writes the store only; CACHE_THROUGH caches what it wrote', async () => {
    const fs = make();
    const store = new CountingStore('through');
    await fs.mount('/s', store);
    await fs.writeFile('/s/t.bin', randomBytes(PAGE), { writeType: 'THROUGH' });
    expect((await fs.stat('/s/t.bin')).cached).toBe(0);
    await fs.writeFile('/s/c.bin', randomBytes(PAGE));
    expect((await fs.stat('/s/c.bin')).cached).toBe(PAGE);
    store.reset();
    await fs.readFile('/s/c.bin');
    expect(store.bytesRead).toBe(0);
  });

  it('MUST_CACHE data is kept once on disk: in the journal, with no copy of its pages in the disk tier, written or read', async () => {
    const fs = make();
    const store = new CountingStore('must-once');
    await fs.mount('/s', store);
    const data = randomBytes(3 * PAGE);
    await fs.writeFile('/s/m.bin', data, { writeType: 'MUST_CACHE' });
    expect((await fs.readFile('/s/m.bin')).equals(data)).toBe(true); // from memory
    await fs.close(); // the disk writes on their way land first
    const second = make();
    await second.mount('/s', store);
    expect(second.stats().disk).toMatchObject({ used: data.length, pages: 0 });
    expect(second.stats().pendingWrites).toBe(1);
    // Read from the journal, its pages are not copied to the disk tier either.
    expect((await second.readFile('/s/m.bin')).equals(data)).toBe(true);
    await second.close();
    const third = make();
    await third.mount('/s', store);
    expect(third.stats().disk).toMatchObject({ used: data.length, pages: 0 });
  });

  it('MUST_CACHE stays in the disk cache until persist', async () => {
    const fs = make();
    const store = new CountingStore('must');
    await fs.mount('/s', store);
    const data = randomBytes(3 * PAGE);
    await fs.writeFile('/s/m.bin', data, { writeType: 'MUST_CACHE' });
    expect(await store.inner.stat('m.bin')).toBeUndefined();
    expect((await fs.readFile('/s/m.bin')).equals(data)).toBe(true);
    expect(await fs.readdir('/s')).toEqual(['m.bin']);
    expect(fs.stats().pendingWrites).toBe(1);
    await fs.flush(); // flush is for ASYNC_THROUGH only
    expect(await store.inner.stat('m.bin')).toBeUndefined();
    await fs.persist('/s/m.bin');
    expect((await store.inner.stat('m.bin'))?.size).toBe(data.length);
    expect(fs.stats().pendingWrites).toBe(0);
    expect((await fs.readFile('/s/m.bin')).equals(data)).toBe(true);
  });

  for (const rename of [true, false]) {
    it(`rename moves MUST_CACHE data in the cache, still not in the store (a store ${rename ? 'with' : 'without'} its own rename)`, async () => {
      const fs = make();
      const store = new CountingStore(`must-move-${rename}`, { rangeRead: true, list: true, copy: rename, rename, directories: false });
      await fs.mount('/s', store);
      const a = randomBytes(2 * PAGE + 5);
      await store.inner.write('a.bin', Buffer.from('older, stored version'));
      await fs.writeFile('/s/a.bin', a, { writeType: 'MUST_CACHE' });
      await fs.rename('/s/a.bin', '/s/b.bin');
      expect(await fs.exists('/s/a.bin')).toBe(false);
      expect((await fs.readFile('/s/b.bin')).equals(a)).toBe(true);
      expect(await store.inner.stat('a.bin')).toBeUndefined();
      expect(await store.inner.stat('b.bin')).toBeUndefined();
      const c = randomBytes(PAGE);
      await fs.writeFile('/s/dir/c.bin', c, { writeType: 'MUST_CACHE' });
      await fs.rename('/s/dir', '/s/moved');
      expect(await fs.readdir('/s', { recursive: true })).toEqual(['b.bin', 'moved', 'moved/c.bin']);
      expect((await fs.readFile('/s/moved/c.bin')).equals(c)).toBe(true);
      expect(fs.stats().pendingWrites).toBe(2);
      await fs.persist('/s');
      expect((await store.inner.stat('b.bin'))?.size).toBe(a.length);
      expect((await store.inner.stat('moved/c.bin'))?.size).toBe(c.length);
      expect(await store.inner.stat('dir/c.bin')).toBeUndefined();
    });
  }

  for (const rename of [true, false]) {
    it(`rename of a directory keeps the MUST_CACHE data of a file over its older stored version (a store ${rename ? 'with' : 'without'} its own rename)`, async () => {
      const fs = make();
      const store = new CountingStore(`must-move-dir-${rename}`, { rangeRead: true, list: true, copy: rename, rename, directories: false });
      await fs.mount('/s', store);
      await fs.writeFile('/s/dir/f.bin', Buffer.from('older, stored version'));
      const data = randomBytes(PAGE + 3);
      await fs.writeFile('/s/dir/f.bin', data, { writeType: 'MUST_CACHE' });
      await fs.rename('/s/dir', '/s/moved');
      expect(await fs.readdir('/s', { recursive: true })).toEqual(['moved', 'moved/f.bin']);
      expect((await fs.stat('/s/moved/f.bin')).size).toBe(data.length);
      expect((await fs.readFile('/s/moved/f.bin')).equals(data)).toBe(true);
      expect(fs.stats().pendingWrites).toBe(1);
      await fs.persist('/s');
      expect((await fs.readFile('/s/moved/f.bin')).equals(data)).toBe(true);
      expect((await store.inner.stat('moved/f.bin'))?.size).toBe(data.length);
      expect(await store.inner.stat('dir')).toBeUndefined();
    });
  }

  it('a listing answered by the store before an upload landed still shows the uploaded file', async () => {
    const fs = make({ metadata: { syncInterval: 0 } });
    const store = new CountingStore('listing-upload');
    await fs.mount('/s', store);
    await fs.writeFile('/s/d/old.txt', 'x');
    await fs.writeFile('/s/d/f.bin', Buffer.from('stored, older version'), { writeType: 'THROUGH' });
    // Uploads wait for `landing`; listings are answered from the store as it was when asked, after `answered`.
    let land!: () => void;
    const landing = new Promise<void>((resolve) => (land = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const realWrite = store.write.bind(store);
    store.write = async (key, body, opts) => {
      await landing;
      return realWrite(key, body, opts);
    };
    const realList = store.list.bind(store);
    let listed!: () => void;
    const asked = new Promise<void>((resolve) => (listed = resolve));
    store.list = (prefix, opts) =>
      (async function* () {
        const then = [];
        for await (const info of realList(prefix, opts)) then.push(info);
        listed();
        await answered;
        yield* then;
      })();
    const data = randomBytes(PAGE + 7);
    await fs.writeFile('/s/d/f.bin', data, { writeType: 'ASYNC_THROUGH' });
    const flat = fs.readdir('/s/d', { withInfo: true });
    const deep = fs.readdir('/s', { withInfo: true, recursive: true });
    await asked;
    land();
    await fs.flush();
    answer();
    expect((await flat).map((i) => [i.name, i.size])).toEqual([['f.bin', data.length], ['old.txt', 1]]);
    expect((await deep).filter((i) => i.type === 'file').map((i) => [i.path, i.size])).toEqual([['/s/d/f.bin', data.length], ['/s/d/old.txt', 1]]);
  });

  it('while an upload that replaced a MUST_CACHE write lands, stat and reads never see the older write', async () => {
    const fs = make({ metadata: { syncInterval: -1 } });
    const store = new CountingStore('upload-replaces-must');
    await fs.mount('/s', store);
    for (let round = 0; round < 10; round++) {
      const older = randomBytes(3 * PAGE);
      const newer = randomBytes(PAGE + round);
      await fs.writeFile('/s/f.bin', older, { writeType: 'MUST_CACHE' });
      await fs.writeFile('/s/f.bin', newer, { writeType: 'ASYNC_THROUGH' });
      let done = false;
      const flushed = fs.flush().finally(() => (done = true));
      const sizes = new Set<number>();
      while (!done) {
        sizes.add((await fs.stat('/s/f.bin')).size);
        const entry = (await fs.readdir('/s', { withInfo: true })).find((i) => i.name === 'f.bin');
        sizes.add(entry?.size ?? -1);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await flushed;
      expect([...sizes]).toEqual([newer.length]);
      expect((await fs.readFile('/s/f.bin')).equals(newer)).toBe(true);
    }
  });

  it('MUST_CACHE fails with ENOSPC when it cannot fit', async () => {
    const fs = make({ cache: { pageSize: PAGE, disk: { dir: cache.dir, capacity: 4 * PAGE } } });
    await fs.mount('/s', 'memory://');
    await fs.writeFile('/s/a', randomBytes(3 * PAGE), { writeType: 'MUST_CACHE' });
    await expectCode(fs.writeFile('/s/b', randomBytes(3 * PAGE), { writeType: 'MUST_CACHE' }), 'ENOSPC');
    expect(await fs.exists('/s/b')).toBe(false);
  });

  it('flush fails with the code of an upload the store refuses for good, naming the file', async () => {
    const fs = make();
    const store = new CountingStore('refusing');
    store.write = async () => {
      throw Object.assign(new Error('denied'), { code: 'EACCES' });
    };
    await fs.mount('/s', store);
    await fs.writeFile('/s/dir/a.bin', 'data', { writeType: 'ASYNC_THROUGH' });
    const error = await expectCode(fs.flush(), 'EACCES');
    expect(error).toMatchObject({ path: '/s/dir/a.bin', mount: '/s' });
    expect(fs.stats().pendingWrites).toBe(1);
  });

  it('ASYNC_THROUGH returns before the upload, reads see it at once, flush uploads it', async () => {
    const fs = make();
    const store = new CountingStore('async');
    await fs.mount('/s', store);
    const data = randomBytes(2 * PAGE + 1);
    await fs.writeFile('/s/dir/a.bin', data, { writeType: 'ASYNC_THROUGH' });
    expect((await fs.readFile('/s/dir/a.bin')).equals(data)).toBe(true);
    expect((await fs.stat('/s/dir/a.bin')).size).toBe(data.length);
    expect(await fs.readdir('/s/dir')).toEqual(['a.bin']);
    await fs.flush();
    expect(fs.stats().pendingWrites).toBe(0);
    const stored = await store.inner.read('a.bin').catch(() => undefined);
    expect(stored).toBeUndefined();
    expect((await store.inner.stat('dir/a.bin'))?.size).toBe(data.length);
    expect(fs.stats().bytesToStore).toBeGreaterThanOrEqual(data.length);
  });

  it('a MUST_CACHE or ASYNC_THROUGH write deeper down shows its directories in every readdir above it', async () => {
    const fs = make();
    const store = new CountingStore('deep-pending');
    let land!: () => void;
    const gate = new Promise<void>((resolve) => (land = resolve));
    const write = store.write.bind(store);
    store.write = async (key, body, opts) => {
      await gate; // the uploads land only at the end: until then the writes are pending
      return write(key, body, opts);
    };
    await fs.mount('/s', store);
    await fs.writeFile('/s/d/sub/a.bin', 'a', { writeType: 'ASYNC_THROUGH' });
    await fs.writeFile('/s/e/sub/deeper/b.bin', 'b', { writeType: 'MUST_CACHE' });
    expect(await fs.readdir('/s')).toEqual(['d', 'e']);
    expect(await fs.readdir('/s/d')).toEqual(['sub']);
    expect(await fs.readdir('/s/e/sub')).toEqual(['deeper']);
    expect((await fs.readdir('/s/e', { withInfo: true })).map((i) => [i.name, i.type])).toEqual([['sub', 'directory']]);
    land();
  });

  it('while an ASYNC_THROUGH upload lands, readdir and readFile keep seeing the file', async () => {
    const fs = make();
    const store = new CountingStore('landing');
    let land!: () => void;
    const gate = new Promise<void>((resolve) => (land = resolve));
    const write = store.write.bind(store);
    store.write = async (key, body, opts) => {
      await gate;
      return write(key, body, opts);
    };
    await fs.mount('/s', store);
    const data = randomBytes(PAGE + 7);
    await fs.writeFile('/s/d/x.bin', data, { writeType: 'ASYNC_THROUGH' });
    expect((await fs.stat('/s/d')).type).toBe('directory'); // asked while the store has nothing there yet
    land();
    let flushed = false;
    const flushing = fs.flush().then(() => (flushed = true));
    const seen: string[] = [];
    while (!flushed) {
      await new Promise((r) => setImmediate(r));
      const [names, bytes] = await Promise.all([fs.readdir('/s/d').catch((e) => e.code), fs.readFile('/s/d/x.bin').catch((e) => e.code)]);
      seen.push(`${JSON.stringify(names)} ${Buffer.isBuffer(bytes) ? bytes.equals(data) : bytes}`);
    }
    await flushing;
    expect(new Set(seen)).toEqual(new Set(['["x.bin"] true']));
  });

  it('a readdir whose store stat answered before an ASYNC_THROUGH upload below landed still lists the directory', async () => {
    const fs = make();
    const store = new CountingStore('stat-across-landing');
    let land!: () => void;
    const landed = new Promise<void>((resolve) => (land = resolve));
    const write = store.write.bind(store);
    store.write = async (key, body, opts) => {
      await landed;
      return write(key, body, opts);
    };
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    let asked!: () => void;
    const wasAsked = new Promise<void>((resolve) => (asked = resolve));
    const stat = store.stat.bind(store);
    let slow = false;
    store.stat = async (key, opts) => {
      const found = await stat(key, opts); // what the store held when asked
      if (slow && key === 'd/sub') {
        asked();
        await answered; // the answer arrives late
      }
      return found;
    };
    await fs.mount('/s', store);
    await fs.writeFile('/s/d/sub/z.bin', 'z', { writeType: 'ASYNC_THROUGH' });
    slow = true;
    const listing = fs.readdir('/s/d/sub');
    await wasAsked;
    land();
    await fs.flush();
    answer();
    expect(await listing).toEqual(['z.bin']);
  });

  it('a persist of a MUST_CACHE file that is renamed meanwhile never uploads it under its old name', async () => {
    const fs = make();
    const store = new CountingStore('persist-during-rename');
    await fs.mount('/s', store);
    const data = randomBytes(PAGE + 3);
    await fs.writeFile('/s/d/z.bin', data, { writeType: 'MUST_CACHE' });
    let deleting!: () => void;
    const isDeleting = new Promise<void>((resolve) => (deleting = resolve));
    let goOn!: () => void;
    const mayGoOn = new Promise<void>((resolve) => (goOn = resolve));
    const remove = store.delete.bind(store);
    store.delete = async (key, opts) => {
      if (key === 'd/z.bin') {
        deleting();
        await mayGoOn; // the rename is on its way when the persist is asked for
      }
      return remove(key, opts);
    };
    const renaming = fs.rename('/s/d/z.bin', '/s/a.bin');
    await isDeleting;
    const persisting = fs.persist('/s/d/z.bin');
    goOn();
    await renaming;
    await persisting;
    expect(await store.inner.stat('d/z.bin')).toBeUndefined();
    expect(await fs.exists('/s/d/z.bin')).toBe(false);
    expect((await fs.readFile('/s/a.bin')).equals(data)).toBe(true);
    expect(fs.stats().pendingWrites).toBe(1);
    await fs.persist('/s/a.bin');
    expect((await readAll(await store.inner.read('a.bin'))).equals(data)).toBe(true);
    expect(fs.stats().pendingWrites).toBe(0);
  });

  it('overwriting a MUST_CACHE file again and again keeps only its newest data in the disk cache', async () => {
    const fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '1MiB' }, disk: { dir: cache.dir, capacity: 4 * PAGE } } });
    open.push(fs);
    const store = new CountingStore('must-cache-overwrites');
    await fs.mount('/s', store);
    for (let i = 0; i < 10; i++) await fs.writeFile('/s/f.bin', Buffer.alloc(PAGE, i), { writeType: 'MUST_CACHE' });
    await Promise.all([1, 2, 3].map((i) => fs.writeFile('/s/f.bin', Buffer.alloc(PAGE, 10 + i), { writeType: 'MUST_CACHE' })));
    expect(fs.stats().pendingWrites).toBe(1);
    expect(fs.stats().disk!.used).toBeLessThanOrEqual(PAGE);
    const last = await fs.readFile('/s/f.bin');
    await fs.persist('/s/f.bin');
    expect(fs.stats().pendingWrites).toBe(0);
    expect(store.count('write')).toBe(1);
    expect((await readAll(await store.inner.read('f.bin'))).equals(last)).toBe(true);
  });

  it('ASYNC_THROUGH survives a store outage and finishes when it returns', async () => {
    const fs = make({ retry: { attempts: 1, minDelay: 10, maxDelay: 20 } });
    const { store, outage } = storeWithOutage('outage');
    await fs.mount('/s', store);
    await fs.writeFile('/s/o.txt', 'survives', { writeType: 'ASYNC_THROUGH' });
    await new Promise((r) => setTimeout(r, 100));
    expect(await store.inner.stat('o.txt')).toBeUndefined();
    outage.down = false;
    await fs.flush();
    expect((await store.inner.stat('o.txt'))?.size).toBe(8);
  });

  it('close() does not wait for a store that is down: the write stays in the disk cache and the next StrataFS uploads it', async () => {
    const first = make({ retry: { attempts: 2, minDelay: 10, maxDelay: 20 } });
    const { store, outage } = storeWithOutage('down-at-close');
    await first.mount('/s', store);
    await first.writeFile('/s/kept.txt', 'kept', { writeType: 'ASYNC_THROUGH' });
    const started = Date.now();
    await first.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await store.inner.stat('kept.txt')).toBeUndefined();
    outage.down = false;
    const second = make();
    await second.mount('/s', store);
    await second.flush();
    expect((await store.inner.stat('kept.txt'))?.size).toBe(4);
  });

  it('persist() fails with the store\'s error when the store refuses the upload; the data stays in the cache', async () => {
    const fs = make({ retry: { attempts: 2, minDelay: 10, maxDelay: 20 } });
    const { store, outage } = storeWithOutage('persist-refused');
    await fs.mount('/s', store);
    await fs.writeFile('/s/m.txt', 'must', { writeType: 'MUST_CACHE' });
    const error = await expectCode(fs.persist('/s/m.txt'), 'EIO');
    expect(error.path).toBe('/s/m.txt');
    expect(fs.stats().pendingWrites).toBe(1);
    const refusing = store.write;
    store.write = async () => {
      throw Object.assign(new Error('denied'), { code: 'EACCES' });
    };
    const started = Date.now();
    await expectCode(fs.persist('/s'), 'EACCES');
    expect(Date.now() - started).toBeLessThan(5_000);
    store.write = refusing;
    outage.down = false;
    await fs.persist('/s');
    expect(fs.stats().pendingWrites).toBe(0);
    expect((await store.inner.stat('m.txt'))?.size).toBe(4);
  });

  it('ASYNC_THROUGH and MUST_CACHE without a disk tier are EINVAL', async () => {
    const fs = new StrataFS();
    open.push(fs);
    await fs.mount('/', 'memory://');
    await expectCode(fs.writeFile('/a', 'x', { writeType: 'ASYNC_THROUGH' }), 'EINVAL');
    await expectCode(fs.writeFile('/a', 'x', { writeType: 'MUST_CACHE' }), 'EINVAL');
  });

  it('an unusable disk dir is a clear error', async () => {
    const file = join(storeDir.dir, 'not-a-dir');
    await new LocalStore({ root: storeDir.dir }).write('not-a-dir', Buffer.from('x'));
    const fs = new StrataFS({ cache: { disk: { dir: file } } });
    const error = await expectCode(fs.mount('/', 'memory://'), 'ENOTDIR');
    expect(error.message).toContain('not-a-dir');
  });

  it('unmount does not wait for a store that is down: the write stays in the disk cache and the next mount uploads it', async () => {
    const fs = make({ retry: { attempts: 2, minDelay: 10, maxDelay: 20 } });
    const { store, outage } = storeWithOutage('down-at-unmount');
    await fs.mount('/s', store);
    await fs.writeFile('/s/kept.txt', 'kept', { writeType: 'ASYNC_THROUGH' });
    const started = Date.now();
    await fs.unmount('/s');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await store.inner.stat('kept.txt')).toBeUndefined();
    expect(fs.stats().pendingWrites).toBe(1);
    outage.down = false;
    await fs.mount('/s', store);
    await fs.flush();
    expect((await store.inner.stat('kept.txt'))?.size).toBe(4);
  });

  it('unmounting one of two twin mounts leaves the background uploads of the other going', async () => {
    const fs = make({ retry: { attempts: 2, minDelay: 10, maxDelay: 20 } });
    const { store, outage } = storeWithOutage('twins');
    await fs.mount('/a', store);
    await fs.mount('/b', store);
    await fs.writeFile('/b/f.txt', 'async data', { writeType: 'ASYNC_THROUGH' });
    await fs.unmount('/a');
    outage.down = false;
    await expect.poll(async () => (await store.inner.stat('f.txt'))?.size, { timeout: 15_000, interval: 200 }).toBe(10);
  });

  it('unmounting both of two twin mounts at once uploads their pending writes (neither leaves them to the other)', async () => {
    const fs = make({ retry: { attempts: 2, minDelay: 10, maxDelay: 20 } });
    const { store, outage } = storeWithOutage('twins-both');
    let attempts = 0;
    const failing = store.write.bind(store);
    store.write = (key, body, opts) => (attempts++, failing(key, body, opts));
    await fs.mount('/a', store);
    await fs.mount('/b', store);
    await fs.writeFile('/a/f.txt', 'async data', { writeType: 'ASYNC_THROUGH' });
    await expect.poll(() => attempts, { timeout: 5_000, interval: 20 }).toBeGreaterThan(0); // its background upload failed
    outage.down = false;
    await Promise.all([fs.unmount('/a'), fs.unmount('/b')]);
    expect((await store.inner.stat('f.txt'))?.size).toBe(10);
    expect(fs.stats().pendingWrites).toBe(0);
  });

  it('a read-only mount never uploads pending writes into its store; persist there is EROFS', async () => {
    const first = make({ retry: { attempts: 1, minDelay: 10, maxDelay: 20 } });
    const { store, outage } = storeWithOutage('read-only');
    await first.mount('/s', store);
    await first.writeFile('/s/a.txt', 'async', { writeType: 'ASYNC_THROUGH' });
    await first.writeFile('/s/m.txt', 'must', { writeType: 'MUST_CACHE' });
    await first.close();
    outage.down = false;
    const second = make();
    await second.mount('/s', store, { readOnly: true });
    await second.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(store.calls.filter((c) => c.op === 'write')).toEqual([]);
    expect((await second.readFile('/s/a.txt')).toString()).toBe('async'); // still readable from the cache
    await expectCode(second.persist('/s/m.txt'), 'EROFS');
    await second.unmount('/s');
    await second.mount('/s', store);
    await second.persist('/s');
    expect((await store.inner.stat('a.txt'))?.size).toBe(5);
    expect((await store.inner.stat('m.txt'))?.size).toBe(4);
  });

  it('another StrataFS on the dir uploads a pending write: a reader here moves on to the stored version', async () => {
    const { store, outage } = storeWithOutage('uploaded-elsewhere');
    outage.down = false;
    const writer = make();
    const reader = make({ cache: { pageSize: PAGE, memory: false, disk: { dir: cache.dir, capacity: '32MiB' } } });
    await writer.mount('/s', store);
    await reader.mount('/s', store);
    const data = randomBytes(3 * PAGE);
    outage.down = true; // the upload waits
    await writer.writeFile('/s/x.bin', data, { writeType: 'ASYNC_THROUGH' });
    await new Promise((r) => setTimeout(r, 1100)); // the reader's view of the journal refreshes
    expect((await reader.readFile('/s/x.bin')).equals(data)).toBe(true);
    outage.down = false;
    await writer.flush();
    for (let i = 0; i < 3; i++) expect((await reader.readFile('/s/x.bin', { offset: i * PAGE, length: PAGE })).equals(data.subarray(i * PAGE, (i + 1) * PAGE))).toBe(true);
    expect((await reader.readFile('/s/x.bin')).equals(data)).toBe(true);
  });

  it('two StrataFS on one disk dir keep their own memory:// stores apart', async () => {
    const a = make();
    await a.mount('/', 'memory://');
    await a.writeFile('/must.txt', 'only in a', { writeType: 'MUST_CACHE' });
    await a.writeFile('/same.txt', 'written by a');
    const b = make();
    await b.mount('/', 'memory://');
    await b.writeFile('/same.txt', 'written by b');
    await a.free('/same.txt');
    await b.free('/same.txt');
    expect((await a.readFile('/same.txt')).toString()).toBe('written by a');
    expect((await b.readFile('/same.txt')).toString()).toBe('written by b');
    expect(await b.readdir('/')).toEqual(['same.txt']);
    await b.persist('/');
    expect((await a.readFile('/must.txt')).toString()).toBe('only in a');
    expect(await a.readdir('/')).toEqual(['must.txt', 'same.txt']);
  });

  it("a pending write of another process's memory:// store is never taken for this one's", async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/facade/fixtures/memory-writer.ts', cache.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect({ code, out }).toEqual({ code: 0, out: 'written\n' });
    const fs = make();
    await fs.mount('/', 'memory://');
    expect(await fs.readdir('/')).toEqual([]);
    expect(await fs.exists('/only-here.txt')).toBe(false);
    await fs.persist('/');
    expect(await fs.exists('/only-here.txt')).toBe(false);
    expect(fs.stats().pendingWrites).toBe(1); // still in the disk cache: no store can take it
  });

  it('kill -9 during ASYNC_THROUGH loses nothing acknowledged', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/facade/fixtures/async-writer.ts', cache.dir, storeDir.dir, '50'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: number[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (const match of buffer.matchAll(/acked (\d+)/g)) if (!acked.includes(Number(match[1]))) acked.push(Number(match[1]));
        if (acked.length >= 10) resolve();
      });
      child.on('exit', () => reject(new Error('child exited early')));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await readdirLocal(storeDir.dir)).toEqual([]); // nothing uploaded yet: the store was slow
    const fs = make();
    await fs.mount('/data', `file://${storeDir.dir}`);
    for (const i of acked) expect((await fs.readFile(`/data/file-${i}.txt`)).toString()).toBe(`content of file ${i}`.repeat(100));
    await fs.flush();
    for (const i of acked) expect(await readLocal(join(storeDir.dir, `file-${i}.txt`), 'utf8')).toBe(`content of file ${i}`.repeat(100));
  });

  it('kill -9 while a directory move copies its tree leaves the MUST_CACHE data in the whole source', async () => {
    const before = make();
    await before.mount('/data', `file://${storeDir.dir}`);
    await before.writeFile('/data/src/d/in-store.txt', 'in the store');
    await before.writeFile('/data/src/b.txt', 'older, in the store');
    await before.writeFile('/data/src/b.txt', 'newer, in the cache only', { writeType: 'MUST_CACHE' });
    await before.writeFile('/data/src/must.txt', 'in the cache only', { writeType: 'MUST_CACHE' });
    await before.close();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/facade/fixtures/tree-mover.ts', cache.dir, storeDir.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('copying') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before it was killed`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const fs = make();
    await fs.mount('/data', `file://${storeDir.dir}`);
    expect((await fs.readFile('/data/src/must.txt')).toString()).toBe('in the cache only');
    expect((await fs.readFile('/data/src/b.txt')).toString()).toBe('newer, in the cache only');
    expect((await fs.readFile('/data/src/d/in-store.txt')).toString()).toBe('in the store');
    expect(await fs.exists('/data/dst/must.txt')).toBe(false);
    expect(await fs.exists('/data/dst/b.txt')).toBe(false);
    expect(fs.stats().pendingWrites).toBe(2);
  });
});
