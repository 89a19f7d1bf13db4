/**
 * A cold read (`readFile`, whole or a range, or a stream) on a store that names the version it
 * serves (`capabilities.readInfo`) costs one request: the GET's answer is the `stat`, its body
 * the first pages. Everything else (a file with cached pages, a directory, a missing key, a
 * range past the end, a pending write) keeps the `stat` path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;
const READ_INFO = { rangeRead: true, list: true, copy: true, rename: true, directories: false, conditionalRead: true, readInfo: true };

describe('cold reads opened by one GET', () => {
  let fs: StrataFS;
  let store: CountingStore;

  async function setup(options: ConstructorParameters<typeof StrataFS>[0] = {}, capabilities = READ_INFO): Promise<void> {
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '16MiB' } }, ...options });
    store = new CountingStore(undefined, capabilities);
    await fs.mount('/s', store);
  }
  afterEach(() => fs?.close());

  it('a cold readFile makes one read and no stat; its answer serves the next stat and readFile', async () => {
    await setup();
    const data = randomBytes(5 * PAGE + 7);
    const written = await store.inner.write('a.bin', data);
    expect((await fs.readFile('/s/a.bin')).equals(data)).toBe(true);
    expect(store.calls).toEqual([{ op: 'read', key: 'a.bin', range: undefined }]);
    expect(store.bytesRead).toBe(data.length);
    store.reset();
    const info = await fs.stat('/s/a.bin');
    expect(info).toMatchObject({ size: data.length, etag: written.etag, type: 'file', mtime: written.mtime });
    expect((await fs.readFile('/s/a.bin')).equals(data)).toBe(true);
    expect(store.calls).toEqual([]);
  });

  it('without readInfo the cold read stats first', async () => {
    await setup({}, { ...READ_INFO, readInfo: false });
    const data = randomBytes(PAGE);
    await store.inner.write('a.bin', data);
    expect((await fs.readFile('/s/a.bin')).equals(data)).toBe(true);
    expect(store.calls.map((c) => c.op)).toEqual(['stat', 'read']);
  });

  it('ten concurrent cold readFiles of one file cost one read of its bytes', async () => {
    await setup();
    const data = randomBytes(8 * PAGE);
    await store.inner.write('c.bin', data);
    store.delayMs = 20;
    const results = await Promise.all(Array.from({ length: 10 }, () => fs.readFile('/s/c.bin')));
    for (const got of results) expect(got.equals(data)).toBe(true);
    expect(store.count('read')).toBe(1);
    expect(store.bytesRead).toBe(data.length);
  });

  it('directories and missing keys keep their errors (EISDIR, ENOENT)', async () => {
    await setup();
    await store.inner.write('dir/inner.txt', Buffer.from('x'));
    await store.inner.write('marker/', Buffer.alloc(0));
    await expect(fs.readFile('/s/dir')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(fs.readFile('/s/marker')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(fs.readFile('/s/nope.txt')).rejects.toMatchObject({ code: 'ENOENT' });
    store.reset();
    // The negative answer is cached like any stat: no second request.
    await expect(fs.readFile('/s/nope.txt')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(store.calls).toEqual([]);
  });

  it('a cold range read is one GET of the pages it covers; a file with cached pages takes the stat path', async () => {
    await setup({ metadata: { syncInterval: 0 } });
    const data = randomBytes(4 * PAGE);
    await store.inner.write('r.bin', data);
    expect((await fs.readFile('/s/r.bin', { offset: PAGE + 5, length: 10 })).equals(data.subarray(PAGE + 5, PAGE + 15))).toBe(true);
    expect(store.calls).toEqual([{ op: 'read', key: 'r.bin', range: { offset: PAGE, length: PAGE } }]);
    store.reset();
    // Pages of this file are cached: a stat (cheap) decides whether they are still current, and
    // only the pages around the cached one are read.
    expect((await fs.readFile('/s/r.bin')).equals(data)).toBe(true);
    expect(store.calls.map((c) => c.op)).toEqual(['stat', 'read', 'read']);
    expect(store.bytesRead).toBe(3 * PAGE);
  });

  it('on a store without ranged reads, only a whole-file read opens by its GET', async () => {
    await setup({}, { ...READ_INFO, rangeRead: false });
    const data = randomBytes(3 * PAGE);
    await store.inner.write('w.bin', data);
    expect((await fs.readFile('/s/w.bin', { offset: PAGE, length: 10 })).equals(data.subarray(PAGE, PAGE + 10))).toBe(true);
    expect(store.calls.map((c) => c.op)).toEqual(['stat', 'read']);
    await fs.free('/s/w.bin');
    store.reset();
    expect((await fs.readFile('/s/w.bin')).equals(data)).toBe(true);
    expect(store.calls).toEqual([{ op: 'read', key: 'w.bin', range: undefined }]);
  });

  it('a range past the end of a cold file is empty, found by a stat', async () => {
    await setup();
    await store.inner.write('short.bin', randomBytes(100));
    expect((await fs.readFile('/s/short.bin', { offset: 5 * PAGE })).length).toBe(0);
    expect((await fs.readFile('/s/short.bin', { offset: 50, length: 10_000 })).length).toBe(50);
  });

  it('a cold stream is opened by the GET of its first batch of pages', async () => {
    await setup();
    const data = randomBytes(3 * PAGE + 9);
    await store.inner.write('s.bin', data);
    const chunks: Buffer[] = [];
    for await (const chunk of fs.createReadStream('/s/s.bin', { start: 10 })) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(10))).toBe(true);
    expect(store.calls.map((c) => c.op)).toEqual(['read']);
    store.reset();
    const tail: Buffer[] = [];
    await fs.free('/s/s.bin');
    for await (const chunk of fs.createReadStream('/s/s.bin', { start: 2 * PAGE, end: 2 * PAGE + 4 })) tail.push(chunk as Buffer);
    expect(Buffer.concat(tail).equals(data.subarray(2 * PAGE, 2 * PAGE + 5))).toBe(true);
    expect(store.calls).toEqual([{ op: 'read', key: 's.bin', range: { offset: 2 * PAGE, length: PAGE } }]);
  });

  it('a file changed in the store is read at its new version, never mixed with cached pages', async () => {
    await setup({ metadata: { syncInterval: 0 } });
    await store.inner.write('v.bin', Buffer.alloc(3 * PAGE, 1));
    expect([...new Set(await fs.readFile('/s/v.bin'))]).toEqual([1]);
    await store.inner.write('v.bin', Buffer.alloc(3 * PAGE, 2));
    expect([...new Set(await fs.readFile('/s/v.bin'))]).toEqual([2]);
  });

  it('an empty file is one read and an empty Buffer', async () => {
    await setup();
    await store.inner.write('e.bin', Buffer.alloc(0));
    expect((await fs.readFile('/s/e.bin')).length).toBe(0);
    expect(store.calls.map((c) => c.op)).toEqual(['read']);
  });

  it('an abort during the opening GET rejects with AbortError and leaves nothing behind', async () => {
    await setup();
    const data = randomBytes(2 * PAGE);
    await store.inner.write('a.bin', data);
    store.delayMs = 200;
    const controller = new AbortController();
    const reading = fs.readFile('/s/a.bin', { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    store.delayMs = 0;
    store.reset();
    // Nothing of the aborted read was kept: the next read opens the file again, in one GET.
    expect((await fs.readFile('/s/a.bin')).equals(data)).toBe(true);
    expect(store.calls.map((c) => c.op)).toEqual(['read']);
  });

  it('a temporary failure of the opening GET is retried', async () => {
    await setup({ retry: { attempts: 3, minDelay: 1, maxDelay: 5 } });
    const data = randomBytes(PAGE + 1);
    await store.inner.write('t.bin', data);
    const real = store.readWithInfo.bind(store);
    let failures = 1;
    store.readWithInfo = async (key, range, opts) => {
      if (failures-- > 0) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      return real(key, range, opts);
    };
    expect((await fs.readFile('/s/t.bin')).equals(data)).toBe(true);
    expect(failures).toBe(-1);
  });

  it('a pending ASYNC_THROUGH write is read from the journal, not the store', async () => {
    const cache = await tempDir();
    try {
      await setup({ cache: { pageSize: PAGE, disk: { dir: cache.dir } }, retry: { attempts: 1, minDelay: 10, maxDelay: 20 } });
      const realWrite = store.write.bind(store);
      let down = true;
      store.write = async (key, body, opts) => {
        if (down) throw Object.assign(new Error('service unavailable'), { code: 'ECONNRESET' }); // the upload stays pending
        return realWrite(key, body, opts);
      };
      const data = randomBytes(2 * PAGE);
      await fs.writeFile('/s/p.bin', data, { writeType: 'ASYNC_THROUGH' });
      await fs.free('/s/p.bin');
      store.reset();
      expect((await fs.readFile('/s/p.bin')).equals(data)).toBe(true);
      expect(store.count('read')).toBe(0);
      down = false;
      await fs.flush();
    } finally {
      await fs.close();
      await cache.cleanup();
    }
  });
});
