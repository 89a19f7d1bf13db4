/**
 * `ASYNC_THROUGH` and `MUST_CACHE` writes larger than memory would hold comfortably (a model
 * checkpoint, a day of logs): a stream goes to the disk cache as it comes, one that cannot fit
 * fails as soon as that is known, and large pending data is uploaded and moved as a stream whose
 * damage is found before the store keeps anything.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open as openLocal, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StrataFS, type WriteData } from '../../src/index.js';
import { READ_WHOLE_BYTES } from '../../src/cache/pending-index.js';
import { CountingStore } from '../support/counting-store.js';
import { expectCode, tempDir } from '../support/helpers.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** `total` bytes in 64 KiB chunks of a pattern that changes every chunk, and the sha256 they make. */
function patterned(total: number, onChunk?: (produced: number) => Promise<void> | void): { stream: Readable; sha: string } {
  const hash = createHash('sha256');
  const chunkAt = (i: number): Buffer => Buffer.alloc(CHUNK, (i * 31 + 7) & 0xff);
  for (let i = 0; i * CHUNK < total; i++) hash.update(chunkAt(i).subarray(0, Math.min(CHUNK, total - i * CHUNK)));
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i * CHUNK < total; i++) {
      await onChunk?.(i * CHUNK);
      yield chunkAt(i).subarray(0, Math.min(CHUNK, total - i * CHUNK));
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), sha: hash.digest('hex') };
}

/** Bytes of the files below `dir`. */
async function bytesBelow(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

describe('large ASYNC_THROUGH and MUST_CACHE writes', () => {
  let cache: Awaited<ReturnType<typeof tempDir>>;
  const open: StrataFS[] = [];
  const make = (capacity = '64MiB'): StrataFS => {
    const fs = new StrataFS({ cache: { memory: { capacity: '4MiB' }, disk: { dir: cache.dir, capacity } } });
    open.push(fs);
    return fs;
  };
  beforeEach(async () => {
    cache = await tempDir('stratafs-large-pending-');
  });
  afterEach(async () => {
    for (const fs of open.splice(0)) await fs.close();
    await cache.cleanup();
  });

  for (const writeType of ['ASYNC_THROUGH', 'MUST_CACHE'] as const) {
    it(`${writeType}: a stream is on disk as it comes, not gathered in memory first`, async () => {
      const fs = make();
      await fs.mount('/s', new CountingStore());
      let onDiskAt8MiB = -1;
      const source = patterned(24 * MiB, async (produced) => {
        if (produced === 8 * MiB) onDiskAt8MiB = await bytesBelow(join(cache.dir, 'tmp'));
      });
      await fs.writeFile('/s/big.bin', source.stream as WriteData, { writeType });
      // Most of the first 8 MiB was in the cache dir's temp file before the rest was produced.
      expect(onDiskAt8MiB).toBeGreaterThanOrEqual(4 * MiB);
      expect(sha(await fs.readFile('/s/big.bin'))).toBe(source.sha);
    });

    it(`${writeType}: a stream that cannot fit fails with ENOSPC once it is past the capacity, not at its end, and leaves nothing`, async () => {
      const fs = make('16MiB');
      await fs.mount('/s', new CountingStore());
      let produced = 0;
      const source = patterned(256 * MiB, (at) => void (produced = at));
      await expectCode(fs.writeFile('/s/huge.bin', source.stream as WriteData, { writeType }), 'ENOSPC');
      expect(produced).toBeLessThan(32 * MiB);
      expect(fs.stats().pendingWrites).toBe(0);
      expect(await bytesBelow(join(cache.dir, 'tmp'))).toBe(0);
      await expectCode(fs.stat('/s/huge.bin'), 'ENOENT');
    });
  }

  it('a large ASYNC_THROUGH write is uploaded whole, as a stream', async () => {
    const store = new CountingStore();
    const bodies: string[] = [];
    const write = store.write.bind(store);
    store.write = (key, body, opts) => {
      bodies.push(Buffer.isBuffer(body) ? 'buffer' : 'stream');
      return write(key, body, opts);
    };
    const fs = make();
    await fs.mount('/s', store);
    const source = patterned(READ_WHOLE_BYTES + 3 * MiB);
    await fs.writeFile('/s/big.bin', source.stream as WriteData, { writeType: 'ASYNC_THROUGH' });
    await fs.flush();
    expect(bodies).toEqual(['stream']);
    expect(sha(await store.inner.read('big.bin').then((body) => body.toArray()).then((chunks) => Buffer.concat(chunks)))).toBe(source.sha);
    expect(sha(await fs.readFile('/s/big.bin'))).toBe(source.sha);
  });

  it('large pending data damaged on disk is never uploaded: the store keeps its old object, flush fails with EIO', async () => {
    const store = new CountingStore();
    await store.inner.write('big.bin', Buffer.from('old'));
    const outage = { down: true };
    const write = store.write.bind(store);
    store.write = async (key, body, opts) => {
      if (outage.down) throw Object.assign(new Error('service unavailable'), { code: 'ECONNRESET' });
      return write(key, body, opts);
    };
    const fs = make();
    await fs.mount('/s', store);
    await fs.writeFile('/s/big.bin', patterned(READ_WHOLE_BYTES + 3 * MiB).stream as WriteData, { writeType: 'ASYNC_THROUGH' });
    // One byte near the end of the data file flips while the store is down.
    const [file] = await readdir(join(cache.dir, 'journal'));
    const handle = await openLocal(join(cache.dir, 'journal', file!), 'r+');
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, READ_WHOLE_BYTES + 3 * MiB - 10);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, READ_WHOLE_BYTES + 3 * MiB - 10);
    await handle.close();
    outage.down = false;
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }): void => void (warning.code === 'STRATAFS_UPLOAD' && warnings.push(warning.message));
    process.on('warning', onWarning);
    try {
      await expectCode(fs.flush(), 'EIO');
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([expect.stringContaining('/s/big.bin')]);
    expect((await store.inner.read('big.bin').then((body) => body.toArray())).toString()).toBe('old');
  });

  it.skipIf(!existsSync('/proc/self/fd'))('an upload of large pending data the store refuses before reading it leaves no file of the cache open', async () => {
    const store = new CountingStore();
    store.write = async () => {
      throw Object.assign(new Error('service unavailable'), { code: 'ECONNRESET' });
    };
    const fs = new StrataFS({ cache: { memory: { capacity: '4MiB' }, disk: { dir: cache.dir, capacity: '64MiB' } }, retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    open.push(fs);
    await fs.mount('/s', store);
    await fs.writeFile('/s/big.bin', patterned(READ_WHOLE_BYTES + MiB).stream as WriteData, { writeType: 'MUST_CACHE' });
    await expectCode(fs.persist('/s/big.bin'), 'EIO');
    const journal = join(cache.dir, 'journal');
    const openFiles = async (): Promise<string[]> =>
      (await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')))).filter((target) => target.startsWith(journal));
    expect(await openFiles()).toEqual([]);
  });

  it('a large MUST_CACHE file renamed within its directory tree keeps its bytes', async () => {
    const store = new CountingStore('rename-large', { rangeRead: true, list: true, copy: false, rename: false, directories: false });
    const fs = make();
    await fs.mount('/s', store);
    const source = patterned(READ_WHOLE_BYTES + 3 * MiB);
    await fs.mkdir('/s/a');
    await fs.writeFile('/s/a/big.bin', source.stream as WriteData, { writeType: 'MUST_CACHE' });
    await fs.rename('/s/a', '/s/b');
    await fs.rename('/s/b/big.bin', '/s/b/moved.bin');
    expect(sha(await fs.readFile('/s/b/moved.bin'))).toBe(source.sha);
    await expectCode(fs.stat('/s/a/big.bin'), 'ENOENT');
    expect(fs.stats().pendingWrites).toBe(1);
    await fs.persist('/s/b/moved.bin');
    expect(sha(Buffer.concat(await store.inner.read('b/moved.bin').then((body) => body.toArray())))).toBe(source.sha);
  });

  it('a MUST_CACHE file larger than half the disk cache is renamed in place: its data is not copied, and it is under one name', async () => {
    const store = new CountingStore();
    const fs = make('32MiB');
    await fs.mount('/s', store);
    const source = patterned(20 * MiB);
    await fs.writeFile('/s/a/big.bin', source.stream as WriteData, { writeType: 'MUST_CACHE' });
    const files = await readdir(join(cache.dir, 'journal'));
    await fs.rename('/s/a/big.bin', '/s/a/renamed.bin');
    await fs.rename('/s/a', '/s/b');
    expect(await readdir(join(cache.dir, 'journal'))).toEqual(files);
    expect(fs.stats().pendingWrites).toBe(1);
    await expectCode(fs.stat('/s/a/big.bin'), 'ENOENT');
    expect(sha(await fs.readFile('/s/b/renamed.bin'))).toBe(source.sha);
    await fs.close();
    // A new StrataFS on the dir finds it under its new name only.
    const again = make('32MiB');
    await again.mount('/s', store);
    expect(again.stats().pendingWrites).toBe(1);
    expect(await again.readdir('/s', { recursive: true })).toEqual(['b', 'b/renamed.bin']);
  });
});
