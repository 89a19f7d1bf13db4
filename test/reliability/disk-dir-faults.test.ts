/**
 * The disk cache dir failing under the calls that use it: removed while in use, not writable
 * (`EROFS`, `EACCES`) or on a full disk (`ENOSPC`, injected where cache files are written). Reads
 * of stored files go on (the tier is skipped, with one warning naming the cause); writes that need
 * the dir fail with an error naming the dir and the cause; pending data is never reported as
 * uploaded or replaced when it is gone, and nothing acknowledged is lost while the dir exists.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { expectCode, randomBytes, readAll, tempDir } from '../support/helpers.js';

const fault = vi.hoisted(() => ({ code: undefined as string | undefined }));

vi.mock('../../src/cache/disk/cache-file.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/cache/disk/cache-file.js')>();
  return {
    ...original,
    // Every cache file write (pages and pending data) fails as the disk would while `fault.code` is set.
    writeCacheFile: async (path: string, data: Uint8Array, trailer: Buffer, sync: boolean) => {
      if (fault.code !== undefined) throw Object.assign(new Error(`${fault.code}: injected fault, open '${path}'`), { code: fault.code, path });
      await original.writeCacheFile(path, data, trailer, sync);
    },
    // The same for pending data written as its stream comes.
    streamCacheFile: async (path: string, ...rest: Parameters<typeof original.streamCacheFile> extends [string, ...infer R] ? R : never) => {
      if (fault.code !== undefined) throw Object.assign(new Error(`${fault.code}: injected fault, open '${path}'`), { code: fault.code, path });
      return original.streamCacheFile(path, ...rest);
    },
  };
});

const PAGE = 64 * 1024;
const WRITE_TYPES = ['MUST_CACHE', 'ASYNC_THROUGH'] as const;

/** The error of a call, or `'ok'`. */
async function outcome(call: Promise<unknown>): Promise<{ code?: string; message: string } | 'ok'> {
  return call.then(
    () => 'ok' as const,
    (error: { code?: string; message: string }) => ({ code: error.code, message: error.message }),
  );
}

function streamWrite(fs: StrataFS, path: string, data: Buffer, writeType: (typeof WRITE_TYPES)[number]): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = fs.createWriteStream(path, { writeType });
    stream.on('error', reject);
    stream.on('finish', resolve);
    stream.end(data);
  });
}

describe('a disk cache dir that fails under its calls', () => {
  let cache: Awaited<ReturnType<typeof tempDir>>;
  let store: CountingStore;
  let data: Buffer;
  let warnings: string[];
  const open: StrataFS[] = [];
  const make = (): StrataFS => {
    const fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '4MiB' }, disk: { dir: cache.dir, capacity: '16MiB' } }, retry: { attempts: 2, minDelay: 1, maxDelay: 5 } });
    open.push(fs);
    return fs;
  };

  /** The disk cache warnings, once the background page writes have had their turn to fail. */
  const diskWarnings = async (): Promise<string[]> => {
    const ours = (): string[] => warnings.filter((w) => w.includes('disk cache failed'));
    for (let i = 0; i < 200 && ours().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    return ours();
  };

  beforeEach(async () => {
    cache = await tempDir('stratafs-dirfault-');
    store = new CountingStore('dir-faults');
    data = randomBytes(3 * PAGE);
    await store.inner.write('f.bin', data);
    warnings = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => void warnings.push(String(warning)));
  });
  afterEach(async () => {
    fault.code = undefined;
    for (const fs of open.splice(0)) await fs.close().catch(() => undefined);
    vi.restoreAllMocks();
    await cache.cleanup();
  });

  it('removed while in use: pending data reads and persists as EIO naming the dir, never as uploaded or replaced; new pending writes fail with EIO naming it', async () => {
    const fs = make();
    await fs.mount('/s', store);
    await fs.writeFile('/s/kept.bin', data, { writeType: 'MUST_CACHE' });
    await fs.writeFile('/s/moved.bin', data, { writeType: 'MUST_CACHE' });
    await rm(cache.dir, { recursive: true, force: true });

    await fs.free('/s/kept.bin'); // its pages in memory: the reads below go to its data in the dir
    for (const read of [fs.readFile('/s/kept.bin'), readAll(fs.createReadStream('/s/kept.bin'))]) {
      const failed = await outcome(read);
      expect(failed).toMatchObject({ code: 'EIO' });
      expect((failed as { message: string }).message).toContain(`disk cache dir ${cache.dir} is missing`);
    }
    expect(await outcome(fs.persist('/s/kept.bin'))).toMatchObject({ code: 'EIO' }); // not a success: the store never got it
    expect(await store.inner.stat('kept.bin')).toBeUndefined();
    expect(await outcome(fs.rename('/s/moved.bin', '/s/elsewhere.bin'))).toMatchObject({ code: 'EIO' });

    for (const writeType of WRITE_TYPES) {
      for (const write of [() => fs.writeFile(`/s/new-${writeType}.bin`, data, { writeType }), () => streamWrite(fs, `/s/stream-${writeType}.bin`, data, writeType)]) {
        const failed = await outcome(write());
        expect(failed).toMatchObject({ code: 'EIO' });
        expect((failed as { message: string }).message).toContain(`disk cache dir ${cache.dir} is missing (ENOENT)`);
      }
    }
    // Stored files are read from the store, the tier skipped with one warning naming the cause.
    expect((await fs.readFile('/s/f.bin')).equals(data)).toBe(true);
    expect((await readAll(fs.createReadStream('/s/f.bin'))).equals(data)).toBe(true);
    await fs.load('/s/f.bin');
    await fs.writeFile('/s/through.bin', data);
    expect((await fs.readFile('/s/through.bin')).equals(data)).toBe(true);
    expect(await diskWarnings()).toEqual([expect.stringContaining(`the disk cache dir ${cache.dir} is missing`)]);
    await fs.close();

    const again = make();
    await again.mount('/s', store);
    expect((await again.readFile('/s/f.bin')).equals(data)).toBe(true);
  });

  for (const code of ['EROFS', 'EACCES', 'ENOSPC'] as const) {
    it(`${code}: pending writes fail naming the dir and ${code}, the warning names ${code}; what was acknowledged stays readable and is kept`, async () => {
      const fs = make();
      await fs.mount('/s', store);
      const kept = randomBytes(2 * PAGE);
      await fs.writeFile('/s/kept.bin', kept, { writeType: 'MUST_CACHE' });
      fault.code = code;

      const expected = code === 'ENOSPC' ? { code: 'ENOSPC', text: `disk cache dir ${cache.dir} is on a full disk (ENOSPC)` } : { code: 'EIO', text: `disk cache dir ${cache.dir} cannot be written (${code})` };
      for (const writeType of WRITE_TYPES) {
        for (const write of [() => fs.writeFile(`/s/new-${writeType}.bin`, data, { writeType }), () => streamWrite(fs, `/s/stream-${writeType}.bin`, data, writeType)]) {
          const failed = await outcome(write());
          expect(failed).toMatchObject({ code: expected.code });
          expect((failed as { message: string }).message).toContain(expected.text);
        }
      }
      // Moving a pending file writes no data (its record takes the new name): it works, and it reads at its new name.
      await fs.rename('/s/kept.bin', '/s/moved.bin');
      await expectCode(fs.stat('/s/kept.bin'), 'ENOENT');
      expect((await fs.readFile('/s/moved.bin')).equals(kept)).toBe(true);
      expect((await readAll(fs.createReadStream('/s/moved.bin'))).equals(kept)).toBe(true);
      // Stored files are read from the store; the warning names the cause.
      await fs.free('/s/f.bin');
      expect((await fs.readFile('/s/f.bin')).equals(data)).toBe(true);
      const handle = await fs.open('/s/f.bin');
      const part = Buffer.alloc(100);
      await handle.read(part, 0, 100, PAGE);
      await handle.close();
      expect(part.equals(data.subarray(PAGE, PAGE + 100))).toBe(true);
      await fs.load('/s/f.bin');
      await fs.writeFile('/s/through.bin', data);
      expect(await diskWarnings()).toEqual([expect.stringContaining(`(${code})`)]);
      await fs.close();

      fault.code = undefined;
      const again = make();
      await again.mount('/s', store);
      expect(again.stats().pendingWrites).toBe(1);
      expect((await again.readFile('/s/moved.bin')).equals(kept)).toBe(true);
      await again.persist('/s/moved.bin');
      expect((await readAll(await store.inner.read('moved.bin'))).equals(kept)).toBe(true);
    });
  }
});
