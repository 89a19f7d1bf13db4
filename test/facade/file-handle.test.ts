/**
 * `StrataFileHandle` behaves like an `fs` FileHandle where API.md is silent: a current position
 * that reads without a position use and move, `fs`'s call forms of `read`, `EINVAL` for bad
 * arguments; and, as API.md says, `ESTALE` once the version it opened is gone (changed or removed).
 */
import { open as fsOpen, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, StrataError, StrataFS, type ByteRange, type StoreReadOptions, type StoreReadResult, type StrataFileHandle } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { catchError, randomBytes, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;

/** The bytes a read result holds, as text. */
function text(result: { bytesRead: number; buffer: ArrayBufferView }): string {
  const { buffer, bytesRead } = result;
  return Buffer.from(buffer.buffer, buffer.byteOffset, bytesRead).toString('latin1');
}

/** Asserts a StrataError `code` about a read of `path`. */
async function expectReadError(promise: Promise<unknown>, code: string, path: string): Promise<StrataError> {
  const error = await catchError(promise);
  expect(error.code).toBe(code);
  expect(error.path).toBe(path);
  expect(error.op).toBe('read');
  return error;
}

describe('StrataFileHandle', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let fs: StrataFS;
  let handle: StrataFileHandle;

  beforeEach(async () => {
    fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '16MiB' } } });
    cleanups.push(() => fs.close());
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/f.txt', 'abcdefgh');
    handle = await fs.open('/m/f.txt');
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  describe('current position', () => {
    it('reads without a position read on from where the last one stopped', async () => {
      const b = Buffer.alloc(4);
      expect(text(await handle.read(b))).toBe('abcd');
      expect(text(await handle.read(b))).toBe('efgh');
      expect(await handle.read(b)).toMatchObject({ bytesRead: 0 });
    });

    it('null, undefined and -1 mean the current position', async () => {
      const b = Buffer.alloc(3);
      expect(text(await handle.read(b, 0, 3, null))).toBe('abc');
      expect(text(await handle.read(b, 0, 3, undefined))).toBe('def');
      expect(text(await handle.read(b, 0, 3, -1))).toBe('gh');
      expect((await handle.read(b, 0, 3, null)).bytesRead).toBe(0);
    });

    it('a read at a given position, and readRange, leave the current position where it is', async () => {
      const b = Buffer.alloc(4);
      expect(text(await handle.read(b, 0, 2, 0))).toBe('ab');
      expect(text(await handle.read(b, 0, 4, 4))).toBe('efgh');
      expect(text(await handle.read(b, 0, 2, 2n))).toBe('cd'); // a bigint position, as fs documents
      expect(text(await handle.read(b))).toBe('abcd');
      expect((await handle.readRange(6, 2)).toString()).toBe('gh');
      expect(text(await handle.read(b, 0, 2, 1))).toBe('bc');
      expect(text(await handle.read(b))).toBe('efgh');
    });

    it('reads made at once take consecutive ranges in call order, as fs does', async () => {
      const reads = await Promise.all([handle.read(Buffer.alloc(3)), handle.read(Buffer.alloc(3)), handle.read(Buffer.alloc(3), 0, 3, 0), handle.read(Buffer.alloc(3))]);
      expect(reads.map(text)).toEqual(['abc', 'def', 'abc', 'gh']);
    });

    it('sequential reads across pages give back the whole file, cold and warm', async () => {
      const data = randomBytes(3 * PAGE + 5);
      await fs.writeFile('/m/big.bin', data, { writeType: 'THROUGH' });
      for (const pass of ['cold', 'warm']) {
        const h = await fs.open('/m/big.bin');
        const parts: Buffer[] = [];
        for (let i = 0; i < 10; i++) {
          const { bytesRead, buffer } = await h.read(Buffer.alloc(50_000));
          if (bytesRead === 0) break;
          parts.push(buffer.subarray(0, bytesRead));
        }
        expect(Buffer.concat(parts).equals(data), pass).toBe(true);
        await h.close();
      }
    });

    it('a failed read does not move the current position', async () => {
      class FailOnce extends CountingStore {
        fail = false;
        override async readWithInfo(key: string, range?: ByteRange, opts?: StoreReadOptions): Promise<StoreReadResult> {
          if (this.fail) {
            this.fail = false;
            throw new StrataError('EACCES', 'refused once');
          }
          return super.readWithInfo(key, range, opts);
        }
      }
      const store = new FailOnce();
      await fs.mount('/c', store);
      await fs.writeFile('/c/f.txt', 'abcdefgh', { writeType: 'THROUGH' });
      const h = await fs.open('/c/f.txt');
      store.fail = true;
      await expectReadError(h.read(Buffer.alloc(4)), 'EACCES', '/c/f.txt');
      expect(text(await h.read(Buffer.alloc(4)))).toBe('abcd');
      expect(text(await h.read(Buffer.alloc(4)))).toBe('efgh');
    });
  });

  describe('call forms of fs', () => {
    it('read() and read(undefined | null) read 16 KiB at most into a new Buffer at the current position', async () => {
      for (const call of [() => handle.read(), () => handle.read(undefined), () => handle.read(null)]) {
        const h = await fs.open('/m/f.txt');
        handle = h;
        const first = await call();
        expect(Buffer.isBuffer(first.buffer)).toBe(true);
        expect(first.buffer.byteLength).toBe(16 * 1024);
        expect(text(first)).toBe('abcdefgh');
        expect((await call()).bytesRead).toBe(0); // the position moved to the end
      }
    });

    it('read({ buffer, offset, length, position }) and read(buffer, { offset, length, position })', async () => {
      const b = Buffer.alloc(6, '.');
      const r = await handle.read({ buffer: b, offset: 1, length: 3, position: 2 });
      expect(r.buffer).toBe(b);
      expect(r.bytesRead).toBe(3);
      expect(b.toString()).toBe('.cde..');
      expect((await handle.read(b, { offset: 2, length: 2, position: 6 })).bytesRead).toBe(2);
      expect(b.toString()).toBe('.cgh..');
      expect(text(await handle.read({ buffer: Buffer.alloc(2) }))).toBe('ab'); // at the current position
      expect(text(await handle.read(Buffer.alloc(2), {}))).toBe('cd');
      expect(text(await handle.read(Buffer.alloc(2), { position: null }))).toBe('ef');
      expect(text(await handle.read({ position: 1 }))).toBe('bcdefgh'); // a new 16 KiB buffer
      expect(text(await handle.read(Buffer.alloc(8), { offset: 0, length: 1 }))).toBe('g');
    });

    it('reads into any TypedArray or DataView, offset and length in bytes', async () => {
      const u16 = new Uint16Array(2);
      const r = await handle.read(u16, 0, 4, 0);
      expect(r.buffer).toBe(u16);
      expect(Buffer.from(u16.buffer).toString()).toBe('abcd');
      const view = new DataView(new ArrayBuffer(6), 1, 4);
      expect((await handle.read(view, { position: 4 })).bytesRead).toBe(4);
      expect(Buffer.from(view.buffer, 1, 4).toString()).toBe('efgh');
      const u8 = new Uint8Array(3);
      expect((await handle.read(u8, 1, 2, 6)).bytesRead).toBe(2);
      expect(Buffer.from(u8).toString('latin1')).toBe('\0gh');
    });

    it('resolves the caller’s own buffer, and a length of 0 reads nothing (as fs, even past the buffer)', async () => {
      const b = Buffer.alloc(4);
      expect((await handle.read(b, 0, 4, 0)).buffer).toBe(b);
      expect(await handle.read(b, 9, 0, 0)).toEqual({ bytesRead: 0, buffer: b });
      expect(await handle.read(Buffer.alloc(0))).toMatchObject({ bytesRead: 0 });
      expect(text(await handle.read(b))).toBe('abcd'); // none of it moved the position
    });

    it('gives what an fs FileHandle gives for the same calls on the same file', async () => {
      const { dir, cleanup } = await tempDir();
      cleanups.push(cleanup);
      await writeFile(join(dir, 'f.txt'), 'abcdefgh');
      await fs.mount('/local', pathToFileURL(dir).href);
      type Handle = Pick<StrataFileHandle, 'read'>;
      type Step = (h: Handle) => Promise<{ bytesRead: number; buffer: ArrayBufferView }>;
      const scripts: Step[][] = [
        [(h) => h.read(Buffer.alloc(3)), (h) => h.read(Buffer.alloc(3), 0, 3, null), (h) => h.read(Buffer.alloc(3), 1, 2, -1), (h) => h.read(Buffer.alloc(3))],
        [(h) => h.read(Buffer.alloc(4), 0, 4, 2), (h) => h.read(Buffer.alloc(4)), (h) => h.read(Buffer.alloc(4), 0, 4, 7), (h) => h.read(Buffer.alloc(4), 2)],
        [(h) => h.read(), (h) => h.read({ position: 3 }), (h) => h.read({ buffer: Buffer.alloc(5), offset: 1 }), (h) => h.read(Buffer.alloc(4), { length: 2 }), (h) => h.read(Buffer.alloc(4), { position: 1, offset: 3 })],
        [(h) => h.read(Buffer.alloc(4), 0, 0, 0), (h) => h.read(Buffer.alloc(4), null, null, null), (h) => h.read(Buffer.alloc(4), { offset: null, length: null, position: null }), (h) => h.read(new Uint16Array(1), 0, 2, 100)],
        [(h) => h.read(Buffer.alloc(3), 0, 3, 100), (h) => h.read(Buffer.alloc(2), { position: 0 }), (h) => h.read(null), (h) => h.read(Buffer.alloc(2))],
      ];
      const run = async (h: Handle, script: Step[]): Promise<string[]> => {
        const out: string[] = [];
        for (const step of script) {
          const result = await step(h);
          out.push(`${result.bytesRead}:${text(result)}:${result.buffer.byteLength}`);
        }
        return out;
      };
      for (const [i, script] of scripts.entries()) {
        const ours = await fs.open('/local/f.txt');
        const theirs = await fsOpen(join(dir, 'f.txt'));
        try {
          expect(await run(ours, script), `script ${i}`).toEqual(await run(theirs as unknown as Handle, script));
        } finally {
          await theirs.close();
          await ours.close();
        }
      }
    });
  });

  describe('bad arguments', () => {
    const calls: Array<[string, (h: StrataFileHandle) => Promise<unknown>]> = [
      ['a string for the buffer', (h) => h.read('abc' as never)],
      ['an array for the buffer', (h) => h.read([1, 2] as never)],
      ['a number for the buffer', (h) => h.read(4 as never)],
      ['options with a string buffer', (h) => h.read({ buffer: 'abc' as never })],
      ['options with a null buffer', (h) => h.read({ buffer: null as never })],
      ['a negative offset', (h) => h.read(Buffer.alloc(4), -1)],
      ['a fractional offset', (h) => h.read(Buffer.alloc(4), 1.5)],
      ['a string offset', (h) => h.read(Buffer.alloc(4), '1' as never)],
      ['an offset past the buffer', (h) => h.read(Buffer.alloc(4), 5)],
      ['a negative length', (h) => h.read(Buffer.alloc(4), 0, -1)],
      ['a fractional length', (h) => h.read(Buffer.alloc(4), 0, 1.5)], // fs on Node 20 aborts the process
      ['a string length', (h) => h.read(Buffer.alloc(4), 0, '1' as never)],
      ['offset + length past the buffer', (h) => h.read(Buffer.alloc(4), 1, 4)],
      ['a length into an empty buffer', (h) => h.read(Buffer.alloc(0), 0, 1, 0)],
      ['a position of -2', (h) => h.read(Buffer.alloc(4), 0, 4, -2)],
      ['a fractional position', (h) => h.read(Buffer.alloc(4), 0, 4, 1.5)],
      ['a NaN position', (h) => h.read(Buffer.alloc(4), 0, 4, NaN)],
      ['a string position', (h) => h.read(Buffer.alloc(4), 0, 4, '1' as never)],
      ['an unsafe position', (h) => h.read(Buffer.alloc(4), 0, 4, 2 ** 53)],
      ['a negative bigint position', (h) => h.read(Buffer.alloc(4), 0, 4, -2n)],
      ['a bad position in options', (h) => h.read(Buffer.alloc(4), { position: -3 })],
      ['a bad length in options', (h) => h.read({ buffer: Buffer.alloc(4), length: 5 })],
      ['readRange at a negative position', (h) => h.readRange(-1, 2)],
      ['readRange with a fractional length', (h) => h.readRange(0, 1.5)],
    ];
    for (const [name, call] of calls) {
      it(`${name}: EINVAL (a StrataError with path and op), and the position does not move`, async () => {
        expect(text(await handle.read(Buffer.alloc(2)))).toBe('ab');
        await expectReadError(call(handle), 'EINVAL', '/m/f.txt');
        expect(text(await handle.read(Buffer.alloc(2)))).toBe('cd');
      });
    }
  });

  describe('close', () => {
    it('reads after close() fail with EINVAL in every form; close() is idempotent', async () => {
      await handle.close();
      await handle.close();
      for (const read of [() => handle.read(Buffer.alloc(4), 0, 4, 0), () => handle.read(Buffer.alloc(4)), () => handle.read(), () => handle.read({ position: 0 }), () => handle.readRange(0, 4)]) {
        await expectReadError(read(), 'EINVAL', '/m/f.txt');
      }
    });

    it('Symbol.asyncDispose closes it, as on an fs FileHandle (await using)', async () => {
      await handle[Symbol.asyncDispose]();
      await expectReadError(handle.read(Buffer.alloc(4), 0, 4, 0), 'EINVAL', '/m/f.txt');
    });
  });

  for (const kind of ['memory', 'local'] as const) {
    describe(`ESTALE once the version is gone (${kind} store)`, () => {
      let path: string;
      /** Replaces the object behind stratafs' back (another writer). */
      let overwriteInStore: (data: string) => Promise<void>;

      beforeEach(async () => {
        if (kind === 'memory') {
          const store = new MemoryStore();
          await fs.mount('/s', store);
          overwriteInStore = async (data) => void (await store.write('v.txt', Buffer.from(data)));
        } else {
          const { dir, cleanup } = await tempDir();
          cleanups.push(cleanup);
          await fs.mount('/s', pathToFileURL(dir).href);
          overwriteInStore = async (data) => {
            await writeFile(join(dir, 'v.txt'), data);
            await utimes(join(dir, 'v.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
          };
        }
        path = '/s/v.txt';
        await fs.writeFile(path, 'abcdefgh');
      });

      it('after rm: read and readRange fail with ESTALE (path, op, mount), readFile with ENOENT', async () => {
        const h = await fs.open(path);
        expect(text(await h.read(Buffer.alloc(2)))).toBe('ab');
        await fs.rm(path);
        const stale = await expectReadError(h.readRange(0, 4), 'ESTALE', path);
        expect(stale.mount).toBe('/s');
        await expectReadError(h.read(Buffer.alloc(4)), 'ESTALE', path);
        await expectReadError(h.read(Buffer.alloc(4), 0, 4, 0), 'ESTALE', path);
        await expectReadError(fs.readFile(path), 'ENOENT', path);
      });

      it('after rm of a file the handle never read (nothing cached): ESTALE', async () => {
        await fs.free(path);
        const h = await fs.open(path);
        await fs.rm(path);
        await expectReadError(h.readRange(0, 4), 'ESTALE', path);
      });

      it('after the file was replaced by a directory: ESTALE', async () => {
        await fs.free(path);
        const h = await fs.open(path);
        await fs.rm(path);
        await fs.mkdir(path);
        await fs.writeFile(`${path}/inner.txt`, 'x');
        await expectReadError(h.readRange(0, 4), 'ESTALE', path);
      });

      it('after an overwrite whose old pages were freed: ESTALE; readFile and a new handle read the new version', async () => {
        const h = await fs.open(path);
        expect((await h.readRange(0, 4)).toString()).toBe('abcd');
        await overwriteInStore('ABCDEFGHIJ');
        expect((await h.readRange(4, 4)).toString()).toBe('efgh'); // its pages are still cached: its version
        await fs.free(path);
        await expectReadError(h.readRange(0, 4), 'ESTALE', path);
        await expectReadError(h.read(Buffer.alloc(4)), 'ESTALE', path);
        expect((await fs.readFile(path)).toString()).toBe('ABCDEFGHIJ');
        const fresh = await fs.open(path);
        expect(text(await fresh.read(Buffer.alloc(16)))).toBe('ABCDEFGHIJ');
      });

      it('after an overwrite through stratafs: ESTALE', async () => {
        const h = await fs.open(path);
        await fs.writeFile(path, '12345678', { writeType: 'THROUGH' });
        await expectReadError(h.read(Buffer.alloc(4), 0, 4, 0), 'ESTALE', path);
      });
    });
  }
});

describe('a handle opened on a pending write (ASYNC_THROUGH, MUST_CACHE)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  for (const [writeType, upload] of [
    ['ASYNC_THROUGH', (fs: StrataFS) => fs.flush()],
    ['MUST_CACHE', (fs: StrataFS) => fs.persist('/m/p.bin')],
  ] as const) {
    it(`${writeType}: reads the same bytes once the write is uploaded and its pages are gone; ESTALE once the file is replaced`, async () => {
      const { dir, cleanup } = await tempDir();
      cleanups.push(cleanup);
      const fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '16MiB' }, disk: { dir, capacity: '64MiB' } } });
      cleanups.push(() => fs.close());
      await fs.mount('/m', new MemoryStore());
      const data = randomBytes(4 * PAGE);
      await fs.writeFile('/m/p.bin', data, { writeType });
      const handle = await fs.open('/m/p.bin');
      expect((await handle.readRange(0, 10)).equals(data.subarray(0, 10))).toBe(true);
      await upload(fs);
      await fs.free('/m/p.bin');
      expect((await handle.readRange(3 * PAGE, 100)).equals(data.subarray(3 * PAGE, 3 * PAGE + 100))).toBe(true);
      await fs.writeFile('/m/p.bin', randomBytes(4 * PAGE), { writeType: 'THROUGH' });
      await fs.free('/m/p.bin');
      await expectReadError(handle.readRange(2 * PAGE, 10), 'ESTALE', '/m/p.bin');
    });
  }
});
