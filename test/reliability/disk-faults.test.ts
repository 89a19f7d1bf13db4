/**
 * The disk cache damaged behind its back: every read still returns the right bytes (from the
 * store), the cache heals or turns itself off with one warning, nothing crashes.
 */
import { readdir, readFile as readFileLocal, rm, truncate, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { expectCode, randomBytes, readAll, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;

describe('disk cache faults', () => {
  let cache: Awaited<ReturnType<typeof tempDir>>;
  let store: CountingStore;
  let data: Buffer;
  const open: StrataFS[] = [];
  const make = (capacity: number | string = '16MiB'): StrataFS => {
    const fs = new StrataFS({ cache: { pageSize: PAGE, memory: false, disk: { dir: cache.dir, capacity } } });
    open.push(fs);
    return fs;
  };
  /** Waits until the background page writes have landed (the disk tier holds `pages` pages). */
  const settled = async (fs: StrataFS, pages: number): Promise<void> => {
    for (let i = 0; i < 200 && (fs.stats().disk?.pages ?? 0) < pages; i++) await new Promise((r) => setTimeout(r, 10));
  };
  const pageFiles = async (): Promise<string[]> => (await readdir(join(cache.dir, 'pages'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));

  beforeEach(async () => {
    cache = await tempDir('stratafs-diskfault-');
    store = new CountingStore('disk-faults');
    data = randomBytes(6 * PAGE);
    await store.inner.write('f.bin', data);
  });
  afterEach(async () => {
    for (const fs of open.splice(0)) await fs.close().catch(() => undefined);
    await chmod(cache.dir, 0o755).catch(() => undefined);
    await cache.cleanup();
  });

  for (const damage of ['truncated', 'zeroed', 'deleted'] as const) {
    it(`page files ${damage} behind its back are detected and refetched`, async () => {
      const fs = make();
      await fs.mount('/s', store);
      await fs.readFile('/s/f.bin');
      await fs.close();
      const files = await pageFiles();
      expect(files.length).toBe(6);
      for (const file of files.slice(0, 3)) {
        if (damage === 'truncated') await truncate(file, 100);
        else if (damage === 'zeroed') await writeFile(file, Buffer.alloc(PAGE + 64));
        else await rm(file);
      }
      store.reset();
      const again = make();
      await again.mount('/s', store);
      expect((await again.readFile('/s/f.bin')).equals(data)).toBe(true);
      expect(store.bytesRead).toBe(3 * PAGE);
      await settled(again, 6);
      store.reset();
      expect((await again.readFile('/s/f.bin')).equals(data)).toBe(true);
      expect(store.bytesRead).toBe(0); // healed
    });
  }

  for (const damage of ['removed', 'corrupted'] as const) {
    it(`an index ${damage} between runs is rebuilt, reads stay correct`, async () => {
      const fs = make();
      await fs.mount('/s', store);
      await fs.readFile('/s/f.bin');
      await fs.close();
      for (const suffix of ['', '-wal', '-shm']) await rm(join(cache.dir, 'index.sqlite' + suffix), { force: true });
      if (damage === 'corrupted') await writeFile(join(cache.dir, 'index.sqlite'), randomBytes(8192));
      const again = make();
      await again.mount('/s', store);
      expect((await again.readFile('/s/f.bin')).equals(data)).toBe(true);
    });
  }

  it('a capacity smaller than the data keeps reads correct and the cache under capacity', async () => {
    const fs = make(2 * PAGE);
    await fs.mount('/s', store);
    for (let i = 0; i < 3; i++) expect((await fs.readFile('/s/f.bin')).equals(data)).toBe(true);
    expect(fs.stats().disk!.used).toBeLessThanOrEqual(2 * PAGE);
  });

  it('a cache dir that becomes unusable turns the tier off with one warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const emit = vi.spyOn(process, 'emitWarning');
    try {
      const fs = make();
      await fs.mount('/s', store);
      await fs.readFile('/s/f.bin', { length: PAGE });
      await settled(fs, 1);
      // The pages dir is replaced by a file: every page write and read now fails underneath.
      await rm(join(cache.dir, 'pages'), { recursive: true, force: true });
      await writeFile(join(cache.dir, 'pages'), 'not a directory');
      for (let i = 0; i < 3; i++) {
        await fs.free('/s/f.bin').catch(() => undefined);
        expect((await fs.readFile('/s/f.bin')).equals(data)).toBe(true);
      }
      const ours = (): number => emit.mock.calls.filter((c) => String(c[0]).includes('disk cache')).length;
      for (let i = 0; i < 200 && ours() === 0; i++) await new Promise((r) => setTimeout(r, 10)); // the failing page writes run in the background
      for (let i = 0; i < 3; i++) expect((await fs.readFile('/s/f.bin')).equals(data)).toBe(true);
      expect(ours()).toBe(1);
    } finally {
      process.off('warning', onWarning);
      emit.mockRestore();
    }
  });

  it('damaged data of a pending write is EIO on every read, never its bytes; flush fails rather than wait', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const pending = randomBytes(20 * PAGE);
      const first = make();
      await first.mount('/s', store);
      await first.writeFile('/s/p.bin', pending, { writeType: 'MUST_CACHE' });
      await first.close();
      // One byte flipped in the journal's copy, and no pages of it left (pending pages are evictable).
      const [file] = await readdir(join(cache.dir, 'journal'));
      const path = join(cache.dir, 'journal', file!);
      const bytes = await readFileLocal(path);
      bytes[17 * PAGE + 5]! ^= 0xff;
      await writeFile(path, bytes);
      await rm(join(cache.dir, 'pages'), { recursive: true, force: true });

      const second = make();
      await second.mount('/s', store);
      const streamed = await readAll(second.createReadStream('/s/p.bin')).catch((error: unknown) => error);
      expect(streamed).toMatchObject({ code: 'EIO' });
      await expectCode(second.readFile('/s/p.bin', { offset: 17 * PAGE, length: 10 }), 'EIO');
      await expectCode(second.readFile('/s/p.bin', { offset: 0, length: 10 }), 'EIO'); // an undamaged part too: the file is checked whole
      await expectCode(second.readFile('/s/p.bin'), 'EIO');
      await expectCode(second.persist('/s/p.bin'), 'EIO');

      // A background upload the store refuses for good gives up at once, with one warning, and flush fails.
      const third = make();
      const refusing = new CountingStore('refusing');
      refusing.write = async () => {
        throw Object.assign(new Error('denied'), { code: 'EACCES' });
      };
      await third.mount('/r', refusing);
      await third.writeFile('/r/x.bin', pending, { writeType: 'ASYNC_THROUGH' });
      const started = Date.now();
      await expectCode(third.flush(), 'EACCES');
      await expectCode(third.flush(), 'EACCES');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(third.stats().pendingWrites).toBe(2); // the damaged one and this one
      expect(emit.mock.calls.filter((c) => String(c[0]).includes('/r/x.bin')).length).toBe(1);
    } finally {
      emit.mockRestore();
    }
  });
});
