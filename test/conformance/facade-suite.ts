/**
 * The facade conformance suite: API.md §3 through `StrataFS`, over any store, mounted at `/`
 * and at a nested mount point below a `memory://` root, with the page cache on. Every
 * connector runs it with one line:
 *
 *   describeFacadeConformance('s3', makeS3Store);
 *
 * `makeStore` must return a new, empty store on each call. Tests of what a store without
 * `capabilities.list` cannot do (list a directory: `readdir`, `rm`, `copy` and `rename` of a
 * directory) are skipped at run time on such a store.
 */
import { getEventListeners } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StrataFS, type StoreCapabilities, type StrataFileHandle, type UnderStore } from '../../src/index.js';
import { ObjectStoreBase } from '../../src/store/object-store-base.js';
import { putOutside } from './store-suite.js';
import { expectCode, randomBytes, readAll } from '../support/helpers.js';

/** Options of {@link describeFacadeConformance}. */
export interface FacadeSuiteOptions {
  /** Test title -> reason: these run as `it.skip` (documented emulator limits only). */
  skip?: Record<string, string>;
}

const PAGE = 64 * 1024;

/** Registers the facade suite for one store factory. */
export function describeFacadeConformance(name: string, makeStore: () => Promise<UnderStore>, options: FacadeSuiteOptions = {}): void {
  for (const layout of ['root', 'nested'] as const) {
    describe(`facade over ${name} mounted ${layout === 'root' ? 'at /' : 'at /mnt/data'}`, () => {
      let fs: StrataFS;
      let store: UnderStore;
      const base = layout === 'root' ? '' : '/mnt/data';
      const p = (rel: string): string => `${base}/${rel}`;
      /** Declares a test; skipped by `options.skip` or, at run time, when the store lacks a capability it `needs`. */
      const test = (title: string, fn: () => Promise<void>, needs: Array<keyof StoreCapabilities> = []): void => {
        if (options.skip?.[title]) it.skip(title, fn);
        else {
          it(title, async (ctx) => {
            for (const capability of needs) if (!store.capabilities[capability]) ctx.skip(`store lacks capabilities.${capability}`);
            await fn();
          });
        }
      };

      beforeEach(async () => {
        store = await makeStore();
        fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '32MiB' } }, metadata: { syncInterval: 60_000 } });
        if (layout === 'nested') await fs.mount('/', 'memory://');
        await fs.mount(base || '/', store);
      });
      afterEach(async () => {
        await fs.close();
      });

      test('writes and reads every kind of data', async () => {
        await fs.writeFile(p('s.txt'), 'text');
        await fs.writeFile(p('b.bin'), Buffer.from([1, 2, 3]));
        await fs.writeFile(p('u.bin'), new Uint8Array([4, 5]));
        await fs.writeFile(p('r.bin'), Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
        await fs.writeFile(p('i.bin'), (async function* () { yield new Uint8Array([9]); yield new Uint8Array([8]); })());
        expect((await fs.readFile(p('s.txt'))).toString()).toBe('text');
        expect([...(await fs.readFile(p('b.bin')))]).toEqual([1, 2, 3]);
        expect([...(await fs.readFile(p('u.bin')))]).toEqual([4, 5]);
        expect((await fs.readFile(p('r.bin'))).toString()).toBe('abcd');
        expect([...(await fs.readFile(p('i.bin')))]).toEqual([9, 8]);
      });

      test('a stream of strings is written as their bytes', async () => {
        await fs.writeFile(p('s.txt'), 'old');
        const info = await fs.writeFile(p('s.txt'), Readable.from(['new ', 'ü']));
        expect(info.size).toBe(6);
        expect((await fs.readFile(p('s.txt'))).toString()).toBe('new ü');
        expect((await fs.stat(p('s.txt'))).size).toBe(6);
        const decoded = Readable.from([Buffer.from('héllo', 'latin1')], { objectMode: false });
        decoded.setEncoding('latin1');
        await fs.writeFile(p('l.txt'), decoded);
        expect((await fs.readFile(p('l.txt'))).toString('latin1')).toBe('héllo');
        await expectCode(fs.writeFile(p('s.txt'), Readable.from([1, 2])), 'EINVAL');
        expect((await fs.readFile(p('s.txt'))).toString()).toBe('new ü');
      });

      test('writeFile returns the info stat reports', async () => {
        const info = await fs.writeFile(p('dir/f.txt'), 'hello');
        expect(info).toMatchObject({ path: p('dir/f.txt'), name: 'f.txt', type: 'file', size: 5, mount: base || '/' });
        const stat = await fs.stat(p('dir/f.txt'));
        expect(stat).toMatchObject({ path: p('dir/f.txt'), type: 'file', size: 5 });
        expect(stat.etag).toBe(info.etag);
        expect((await fs.stat(p('dir'))).type).toBe('directory');
      });

      test('multi-page binary data round-trips, ranges included', async () => {
        const data = randomBytes(5 * PAGE + 123);
        await fs.writeFile(p('big.bin'), data);
        await fs.free(p('big.bin'));
        expect((await fs.readFile(p('big.bin'))).equals(data)).toBe(true);
        const range = await fs.readFile(p('big.bin'), { offset: PAGE - 10, length: 2 * PAGE });
        expect(range.equals(data.subarray(PAGE - 10, 3 * PAGE - 10))).toBe(true);
        expect((await fs.readFile(p('big.bin'), { offset: data.length - 5, length: 100 })).equals(data.subarray(-5))).toBe(true);
        expect((await fs.readFile(p('big.bin'), { offset: data.length + 10 })).length).toBe(0);
        expect((await fs.readFile(p('big.bin'), { offset: 3, length: 0 })).length).toBe(0);
      });

      test('a second read costs no store bytes', async () => {
        const data = randomBytes(3 * PAGE);
        await fs.writeFile(p('warm.bin'), data, { writeType: 'THROUGH' });
        expect((await fs.readFile(p('warm.bin'))).equals(data)).toBe(true);
        const before = fs.stats().bytesFromStore;
        expect(before).toBeGreaterThanOrEqual(data.length);
        expect((await fs.readFile(p('warm.bin'))).equals(data)).toBe(true);
        expect(fs.stats().bytesFromStore).toBe(before);
        expect((await fs.stat(p('warm.bin'))).cached).toBe(data.length);
      });

      test('overwrite is seen at once, never the old bytes', async () => {
        await fs.writeFile(p('v.txt'), 'version-one');
        expect((await fs.readFile(p('v.txt'))).toString()).toBe('version-one');
        await fs.writeFile(p('v.txt'), 'v2');
        expect((await fs.readFile(p('v.txt'))).toString()).toBe('v2');
        expect((await fs.stat(p('v.txt'))).size).toBe(2);
        await expectCode(fs.writeFile(p('v.txt'), 'v3', { overwrite: false }), 'EEXIST');
        expect((await fs.readFile(p('v.txt'))).toString()).toBe('v2');
      });

      test('stat, exists and missing paths', async () => {
        await expectCode(fs.stat(p('missing')), 'ENOENT');
        expect(await fs.exists(p('missing'))).toBe(false);
        await fs.writeFile(p('here'), 'x');
        expect(await fs.exists(p('here'))).toBe(true);
        await expectCode(fs.readFile(p('missing')), 'ENOENT');
        const root = await fs.stat(base || '/');
        expect(root.type).toBe('directory');
      });

      test('readdir: sorted names, info, recursive', async () => {
        await fs.writeFile(p('d/b.txt'), 'b');
        await fs.writeFile(p('d/a.txt'), 'a');
        await fs.writeFile(p('d/sub/c.txt'), 'c');
        await fs.mkdir(p('d/empty'));
        expect(await fs.readdir(p('d'))).toEqual(['a.txt', 'b.txt', 'empty', 'sub']);
        const infos = await fs.readdir(p('d'), { withInfo: true });
        expect(infos.map((i) => [i.name, i.type])).toEqual([
          ['a.txt', 'file'],
          ['b.txt', 'file'],
          ['empty', 'directory'],
          ['sub', 'directory'],
        ]);
        expect(infos[0]!.path).toBe(p('d/a.txt'));
        // A `withInfo` only known at run time types as `string[] | FileInfo[]`, as in API.md.
        const withInfo: boolean = infos.length > 0;
        expect(await fs.readdir(p('d'), { withInfo })).toEqual(infos);
        expect(await fs.readdir(p('d'), { recursive: true })).toEqual(['a.txt', 'b.txt', 'empty', 'sub', 'sub/c.txt']);
        await expectCode(fs.readdir(p('d/a.txt')), 'ENOTDIR');
        await expectCode(fs.readdir(p('nope')), 'ENOENT');
      }, ['list']);

      test('mkdir: plain, recursive, existing, missing parent', async () => {
        await fs.mkdir(p('m'));
        expect((await fs.stat(p('m'))).type).toBe('directory');
        await expectCode(fs.mkdir(p('m')), 'EEXIST');
        await fs.mkdir(p('m'), { recursive: true });
        await expectCode(fs.mkdir(p('x/y/z')), 'ENOENT');
        await fs.mkdir(p('x/y/z'), { recursive: true });
        expect((await fs.stat(p('x/y'))).type).toBe('directory');
        await fs.writeFile(p('file'), '1');
        await expectCode(fs.mkdir(p('file')), 'EEXIST');
        await expectCode(fs.mkdir(p('file/sub'), { recursive: true }), 'ENOTDIR');
      });

      test('files and directories do not collide', async () => {
        await fs.writeFile(p('f'), '1');
        await expectCode(fs.writeFile(p('f/child'), '2'), 'ENOTDIR');
        await fs.mkdir(p('dir'));
        await expectCode(fs.writeFile(p('dir'), '3'), 'EISDIR');
        await expectCode(fs.readFile(p('dir')), 'EISDIR');
      });

      test('readdir and recursive readdir show the same directories when keys made outside hold empty segments', async () => {
        if (!(store instanceof ObjectStoreBase)) return; // only object stores hold such keys
        await fs.writeFile(p('odd/ok'), 'ok');
        // Keys no path can name (empty segments): their nameable directories are still directories.
        const made = await Promise.all(['odd/a//b', 'odd/t//', 'odd/e/f//g'].map((key) => putOutside(store as ObjectStoreBase, key, 'outside')));
        if (!made.every(Boolean)) return; // the server refuses such keys: nothing to show
        const fresh = new StrataFS({ cache: { memory: false }, metadata: { syncInterval: 0 } });
        try {
          if (layout === 'nested') await fresh.mount('/', 'memory://');
          await fresh.mount(base || '/', store);
          expect(await fresh.readdir(p('odd'))).toEqual(['a', 'e', 'ok', 't']);
          expect(await fresh.readdir(p('odd/e'))).toEqual(['f']);
          expect(await fresh.readdir(p('odd'), { recursive: true })).toEqual(['a', 'e', 'e/f', 'ok', 't']);
          for (const dir of ['odd/a', 'odd/t', 'odd/e/f']) expect((await fresh.stat(p(dir))).type).toBe('directory');
        } finally {
          await fresh.close();
        }
      });

      test('rm: files, empty and full directories, force', async () => {
        await fs.writeFile(p('r/a'), '1');
        await fs.writeFile(p('r/s/b'), '2');
        await expectCode(fs.rm(p('r')), 'ENOTEMPTY');
        await fs.rm(p('r/a'));
        expect(await fs.exists(p('r/a'))).toBe(false);
        await fs.rm(p('r'), { recursive: true });
        expect(await fs.exists(p('r'))).toBe(false);
        expect(await fs.exists(p('r/s/b'))).toBe(false);
        await expectCode(fs.rm(p('r')), 'ENOENT');
        await fs.rm(p('r'), { force: true });
        await fs.mkdir(p('e'));
        await fs.rm(p('e'));
        expect(await fs.exists(p('e'))).toBe(false);
      }, ['list']);

      test('rename: file, replace, directory tree', async () => {
        await fs.writeFile(p('a.txt'), 'A');
        await fs.rename(p('a.txt'), p('moved/b.txt'));
        expect(await fs.exists(p('a.txt'))).toBe(false);
        expect((await fs.readFile(p('moved/b.txt'))).toString()).toBe('A');
        await fs.writeFile(p('c.txt'), 'C');
        await fs.rename(p('c.txt'), p('moved/b.txt'));
        expect((await fs.readFile(p('moved/b.txt'))).toString()).toBe('C');
        await fs.writeFile(p('tree/x/1'), 'one');
        await fs.writeFile(p('tree/2'), 'two');
        await fs.rename(p('tree'), p('tree2'));
        expect(await fs.exists(p('tree'))).toBe(false);
        expect(await fs.readdir(p('tree2'), { recursive: true })).toEqual(['2', 'x', 'x/1']);
        expect((await fs.readFile(p('tree2/x/1'))).toString()).toBe('one');
        await fs.writeFile(p('full/f'), 'f');
        await expectCode(fs.rename(p('tree2'), p('full')), 'ENOTEMPTY');
        await expectCode(fs.rename(p('nothing'), p('x')), 'ENOENT');
      }, ['list']);

      test('two renames of one file or directory at once: one moves it, the other fails ENOENT', async () => {
        await fs.writeFile(p('claim.txt'), 'job');
        const files = await Promise.allSettled([fs.rename(p('claim.txt'), p('one.txt')), fs.rename(p('claim.txt'), p('two.txt'))]);
        expect(files.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: string }).code)).sort()).toEqual(['ENOENT', 'ok']);
        expect([await fs.exists(p('claim.txt')), await fs.exists(p('one.txt')), await fs.exists(p('two.txt'))].filter(Boolean)).toHaveLength(1);
        await fs.writeFile(p('d/x'), 'x');
        await fs.writeFile(p('d/sub/y'), 'y');
        const dirs = await Promise.allSettled([fs.rename(p('d'), p('e')), fs.rename(p('d'), p('f'))]);
        expect(dirs.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: string }).code)).sort()).toEqual(['ENOENT', 'ok']);
        expect(await fs.exists(p('d'))).toBe(false);
        const moved = (await fs.exists(p('e'))) ? 'e' : 'f';
        expect(await fs.exists(p(moved === 'e' ? 'f' : 'e'))).toBe(false);
        expect(await fs.readdir(p(moved), { recursive: true })).toEqual(['sub', 'sub/y', 'x']);
      }, ['list']);

      test('rename: a directory has a marker at its destination only where it had one', async () => {
        await fs.writeFile(p('implicit/x/1'), 'one'); // no directory made: implicit on an object store
        await fs.mkdir(p('marked/m'), { recursive: true });
        await fs.writeFile(p('marked/m/2'), 'two');
        await fs.rename(p('implicit'), p('implicit2'));
        await fs.rename(p('marked'), p('marked2'));
        await fs.rm(p('implicit2/x/1'));
        await fs.rm(p('marked2/m/2'));
        // Without its last file, a directory of an object store stays only if it has a marker.
        const real = store.capabilities.directories === true; // a missing flag counts as false
        expect(await fs.exists(p('implicit2'))).toBe(real);
        expect(await fs.exists(p('implicit2/x'))).toBe(real);
        expect(await fs.readdir(p('marked2'))).toEqual(['m']);
        expect(await fs.readdir(p('marked2/m'))).toEqual([]);
      }, ['list']);

      test('copies without overwrite to one new name at once: one wins, the others fail EEXIST', async () => {
        await fs.writeFile(p('one.txt'), 'one');
        await fs.writeFile(p('two.txt'), 'two');
        const results = await Promise.allSettled([
          fs.copy(p('one.txt'), p('new.txt'), { overwrite: false }),
          fs.copy(p('two.txt'), p('new.txt'), { overwrite: false }),
          fs.writeFile(p('new.txt'), 'three', { overwrite: false }),
        ]);
        const outcomes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: string }).code));
        expect([...outcomes].sort()).toEqual(['EEXIST', 'EEXIST', 'ok']);
        const winner = ['one', 'two', 'three'][outcomes.indexOf('ok')];
        expect((await fs.readFile(p('new.txt'))).toString()).toBe(winner);
      });

      test('copy: file, no overwrite, directory tree', async () => {
        await fs.writeFile(p('src/a'), 'a');
        await fs.writeFile(p('src/sub/b'), 'bb');
        await fs.copy(p('src/a'), p('a-copy'));
        expect((await fs.readFile(p('a-copy'))).toString()).toBe('a');
        expect((await fs.readFile(p('src/a'))).toString()).toBe('a');
        await expectCode(fs.copy(p('src/a'), p('a-copy'), { overwrite: false }), 'EEXIST');
        await expectCode(fs.copy(p('src'), p('dst')), 'EISDIR');
        await fs.copy(p('src'), p('dst'), { recursive: true });
        expect(await fs.readdir(p('dst'), { recursive: true })).toEqual(['a', 'sub', 'sub/b']);
        expect((await fs.readFile(p('dst/sub/b'))).toString()).toBe('bb');
      }, ['list']);

      test('copy -r: conflicts are found before anything is copied, the first in path order', async () => {
        for (const name of ['a', 'b', 'c', 'd', 'sub/e']) await fs.writeFile(p(`src/${name}`), name);
        await fs.mkdir(p('dst/c'), { recursive: true }); // a file of the source over a directory: EISDIR
        await fs.writeFile(p('dst/d'), 'old'); // over a file, without overwrite: EEXIST
        for (let i = 0; i < 3; i++) {
          const error = await expectCode(fs.copy(p('src'), p('dst'), { recursive: true, overwrite: false }), 'EISDIR');
          expect(error.message).toContain('dst/c');
          expect(error.path).toBe(p('dst/c')); // the destination in the way, as a single file's copy names it
        }
        expect(await fs.readdir(p('dst'), { recursive: true })).toEqual(['c', 'd']);
        await fs.rm(p('dst/c'), { recursive: true });
        expect((await expectCode(fs.copy(p('src'), p('dst'), { recursive: true, overwrite: false }), 'EEXIST')).path).toBe(p('dst/d'));
        expect(await fs.readdir(p('dst'), { recursive: true })).toEqual(['d']);
        await fs.copy(p('src'), p('dst'), { recursive: true });
        expect(await fs.readdir(p('dst'), { recursive: true })).toEqual(['a', 'b', 'c', 'd', 'sub', 'sub/e']);
        expect((await fs.readFile(p('dst/d'))).toString()).toBe('d');
      }, ['list']);

      test('copy across mounts', async () => {
        await fs.mount('/other', 'memory://');
        await fs.writeFile(p('x/data.bin'), randomBytes(3 * PAGE));
        await fs.copy(p('x'), '/other/x', { recursive: true });
        expect((await fs.readFile('/other/x/data.bin')).equals(await fs.readFile(p('x/data.bin')))).toBe(true);
        await fs.copy('/other/x/data.bin', p('back.bin'));
        expect((await fs.stat(p('back.bin'))).size).toBe(3 * PAGE);
        await expectCode(fs.rename(p('back.bin'), '/other/back.bin'), 'EXDEV');
      }, ['list']);

      test('open: random access reads and the version it opened', async () => {
        const data = randomBytes(4 * PAGE);
        await fs.writeFile(p('h.bin'), data, { writeType: 'THROUGH' });
        const handle = await fs.open(p('h.bin'));
        expect(handle.size).toBe(data.length);
        expect(handle.path).toBe(p('h.bin'));
        const buffer = Buffer.alloc(100);
        const { bytesRead } = await handle.read(buffer, 10, 50, 2 * PAGE - 20);
        expect(bytesRead).toBe(50);
        expect(buffer.subarray(10, 60).equals(data.subarray(2 * PAGE - 20, 2 * PAGE + 30))).toBe(true);
        expect((await handle.readRange(data.length - 4, 10)).equals(data.subarray(-4))).toBe(true);
        expect((await handle.read(buffer, 0, 10, data.length)).bytesRead).toBe(0);
        await fs.writeFile(p('h.bin'), randomBytes(4 * PAGE));
        await expectCode(handle.read(Buffer.alloc(10), 0, 10, 3 * PAGE), 'ESTALE');
        await handle.close();
        // Replaced by a smaller version: a read past its end is a changed file too, not a short one.
        const shrunk = await fs.open(p('h.bin'));
        await fs.writeFile(p('h.bin'), randomBytes(PAGE));
        await expectCode(shrunk.read(Buffer.alloc(10), 0, 10, 3 * PAGE), 'ESTALE');
        await expectCode(shrunk.readRange(0, 10), 'ESTALE');
        await shrunk.close();
        await expectCode(fs.open(p('missing')), 'ENOENT');
      });

      test('handles and read streams stop reading once their mount is unmounted or their StrataFS closed (a stream feeding a write close() waits for reads on)', async () => {
        const data = randomBytes(8 * PAGE);
        await fs.writeFile(p('u.bin'), data, { writeType: 'THROUGH' });
        const opened = async (): Promise<{ handle: StrataFileHandle; stream: Readable }> => {
          const handle = await fs.open(p('u.bin'));
          expect((await handle.readRange(0, 10)).equals(data.subarray(0, 10))).toBe(true);
          const stream = fs.createReadStream(p('u.bin'), { highWaterMark: 1000 });
          await new Promise((resolve) => stream.once('readable', resolve));
          expect((stream.read() as Buffer).equals(data.subarray(0, 1000))).toBe(true);
          return { handle, stream };
        };
        const requests = (): number => Object.values(fs.stats().storeRequests).reduce((a, b) => a + b, 0);
        const expectStopped = async ({ handle, stream }: { handle: StrataFileHandle; stream: Readable }): Promise<void> => {
          const before = requests();
          const failure = await expectCode(handle.read(Buffer.alloc(10), 0, 10, 5 * PAGE), 'EINVAL');
          expect(failure.path).toBe(p('u.bin'));
          await expectCode(handle.readRange(0, 10), 'EINVAL');
          await expectCode(readAll(stream), 'EINVAL');
          expect(requests()).toBe(before); // nothing asked of a store that may be closed, nothing cached for it again
        };
        const first = await opened();
        await fs.unmount(base || '/');
        await expectStopped(first);
        await fs.mount(base || '/', store);
        const second = await opened();
        const copying = fs.createReadStream(p('u.bin'), { highWaterMark: 1000 });
        const copied = pipeline(copying, fs.createWriteStream(p('copy.bin')));
        await new Promise((resolve) => copying.once('data', resolve));
        await fs.close();
        await copied; // close() lets a write on its way finish: the stream feeding it reads on
        expect((await store.stat('copy.bin'))?.size).toBe(data.length);
        await expectStopped(second);
      });

      test('many calls at once under one long-lived signal: no MaxListenersExceededWarning, nothing left on it', async () => {
        const warnings: string[] = [];
        const onWarning = (warning: Error): void => void warnings.push(warning.name);
        process.on('warning', onWarning);
        try {
          const { signal } = new AbortController();
          const names = Array.from({ length: 30 }, (_, i) => p(`many/f${i}`));
          await Promise.all(names.map((name) => fs.writeFile(name, randomBytes(1000), { signal, writeType: 'THROUGH' })));
          await fs.free(p('many'), { recursive: true });
          const read = await Promise.all(names.map((name) => fs.readFile(name, { signal })));
          expect(read.every((data) => data.length === 1000)).toBe(true);
          await Promise.all(names.map(() => fs.readdir(p('many'), { signal })));
          await Promise.all(names.map((name) => fs.rm(name, { signal })));
          await new Promise((resolve) => setImmediate(resolve)); // warnings arrive on a later tick
          expect(warnings).not.toContain('MaxListenersExceededWarning');
          expect(getEventListeners(signal, 'abort')).toHaveLength(0);
        } finally {
          process.off('warning', onWarning);
        }
      }, ['list']);

      test('streams: ranges in, visible only after finish out', async () => {
        const data = randomBytes(3 * PAGE + 7);
        await fs.writeFile(p('st.bin'), data);
        expect((await readAll(fs.createReadStream(p('st.bin')))).equals(data)).toBe(true);
        expect((await readAll(fs.createReadStream(p('st.bin'), { start: 5, end: PAGE + 5 }))).equals(data.subarray(5, PAGE + 6))).toBe(true);
        expect((await readAll(fs.createReadStream(p('st.bin'), { start: 5, end: Infinity }))).equals(data.subarray(5))).toBe(true); // fs's default end
        const writer = fs.createWriteStream(p('w.bin'));
        writer.write(data.subarray(0, 1000));
        await new Promise((r) => setTimeout(r, 20));
        expect(await fs.exists(p('w.bin'))).toBe(false);
        writer.end(data.subarray(1000));
        await new Promise<void>((resolve, reject) => {
          writer.on('finish', resolve);
          writer.on('error', reject);
        });
        expect((await fs.readFile(p('w.bin'))).equals(data)).toBe(true);
        const failed = fs.createReadStream(p('absent'));
        await expect(readAll(failed)).rejects.toMatchObject({ code: 'ENOENT' });
      });

      test("a FileInfo is the caller's: changing it, its mtime included, changes nothing later answers", async () => {
        await fs.writeFile(p('fi.txt'), 'hello');
        const first = await fs.stat(p('fi.txt'));
        const mtime = first.mtime?.getTime();
        first.mtime?.setTime(0);
        Object.assign(first, { size: 999, type: 'directory', etag: 'changed' });
        const again = await fs.stat(p('fi.txt'));
        expect(again).toMatchObject({ size: 5, type: 'file' });
        expect(again.etag).not.toBe('changed');
        expect(again.mtime?.getTime()).toBe(mtime);
        expect((await fs.readFile(p('fi.txt'))).toString()).toBe('hello');
      });

      test('a path below a file is ENOTDIR, as in fs', async () => {
        await fs.writeFile(p('nd/f.txt'), 'file');
        const below = p('nd/f.txt/x');
        await expectCode(fs.stat(below), 'ENOTDIR');
        await expectCode(fs.stat(p('nd/f.txt/x/y')), 'ENOTDIR');
        await expectCode(fs.readFile(below), 'ENOTDIR');
        await expectCode(fs.readdir(below), 'ENOTDIR');
        await expectCode(fs.open(below), 'ENOTDIR');
        await expectCode(fs.rm(below), 'ENOTDIR');
        await expectCode(fs.rm(below, { force: true }), 'ENOTDIR');
        await expectCode(fs.rename(below, p('nd/y')), 'ENOTDIR');
        await expectCode(fs.copy(below, p('nd/y')), 'ENOTDIR');
        await expectCode(fs.writeFile(below, 'x'), 'ENOTDIR');
        await expectCode(fs.mkdir(below), 'ENOTDIR');
        await expectCode(fs.mkdir(p('nd/f.txt/x/y')), 'ENOTDIR');
        await expectCode(fs.writeFile(p('nd/f.txt/x/'), 'x'), 'ENOTDIR');
        await expectCode(fs.writeFile(p('nd/f.txt/x/.'), 'x'), 'ENOTDIR');
        await expect(readAll(fs.createReadStream(below))).rejects.toMatchObject({ code: 'ENOTDIR' });
        expect(await fs.exists(below)).toBe(false);
        await expectCode(fs.stat(p('nd/missing/x')), 'ENOENT');
        await fs.rm(p('nd/missing/x'), { force: true });
        expect((await fs.readFile(p('nd/f.txt'))).toString()).toBe('file');
      });

      test('a trailing slash names a directory: fine on one, ENOTDIR on a file', async () => {
        await fs.writeFile(p('ts/file.txt'), 'data');
        expect((await fs.stat(p('ts/'))).type).toBe('directory');
        expect((await fs.stat(p('ts/.'))).type).toBe('directory');
        expect(await fs.readdir(p('ts/'))).toEqual(['file.txt']);
        await expectCode(fs.stat(p('ts/file.txt/')), 'ENOTDIR');
        expect(await fs.exists(p('ts/file.txt/'))).toBe(false);
        await expectCode(fs.readFile(p('ts/file.txt/')), 'ENOTDIR');
        await expectCode(fs.open(p('ts/file.txt/.')), 'ENOTDIR');
        await expectCode(readAll(fs.createReadStream(p('ts/file.txt/'))), 'ENOTDIR');
        await expectCode(fs.writeFile(p('ts/file.txt/'), 'x'), 'ENOTDIR');
        await expectCode(fs.writeFile(p('ts/new/'), 'x'), 'EISDIR');
        await expectCode(fs.mkdir(p('ts/file.txt/'), { recursive: true }), 'ENOTDIR');
        await expectCode(fs.mkdir(p('ts/file.txt'), { recursive: true }), 'EEXIST');
        await expectCode(fs.rm(p('ts/file.txt/')), 'ENOTDIR');
        await expectCode(fs.rename(p('ts/file.txt/'), p('ts/moved.txt')), 'ENOTDIR');
        await expectCode(fs.rename(p('ts/file.txt'), p('ts/moved/')), 'ENOTDIR');
        await expectCode(fs.copy(p('ts/file.txt'), p('ts/copied/')), 'ENOTDIR');
        expect(await fs.readdir(p('ts'))).toEqual(['file.txt']);
        expect((await fs.readFile(p('ts/file.txt'))).toString()).toBe('data');
        expect(await fs.exists(p('ts/new'))).toBe(false);
      }, ['list']);

      test('streams: a piped write of many chunks arrives whole', async () => {
        const data = randomBytes(16 * PAGE + 3);
        const chunks = Array.from({ length: Math.ceil(data.length / 16384) }, (_, i) => data.subarray(i * 16384, (i + 1) * 16384));
        await pipeline(Readable.from(chunks), fs.createWriteStream(p('piped.bin')));
        expect((await fs.readFile(p('piped.bin'))).equals(data)).toBe(true);
      });

      test('an aborted write leaves the previous file', async () => {
        await fs.writeFile(p('keep.txt'), 'original');
        const controller = new AbortController();
        const body = new Readable({ read() {} });
        const write = fs.writeFile(p('keep.txt'), body, { signal: controller.signal });
        body.push(Buffer.alloc(1000, 1));
        setTimeout(() => controller.abort(), 20);
        await expect(write).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
        body.destroy();
        expect((await fs.readFile(p('keep.txt'))).toString()).toBe('original');
        const failing = new Readable({
          read() {
            this.destroy(new Error('source broke'));
          },
        });
        await expect(fs.writeFile(p('keep.txt'), failing)).rejects.toBeTruthy();
        expect((await fs.readFile(p('keep.txt'))).toString()).toBe('original');
      });

      test('a call aborted for a reason of the caller fails with an AbortError carrying it', async () => {
        await fs.writeFile(p('a/f.txt'), 'text');
        const reason = new Error('the caller stopped');
        const controller = new AbortController();
        controller.abort(reason);
        const signal = controller.signal;
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['stat', () => fs.stat(p('a/f.txt'), { signal })],
          ['readFile', () => fs.readFile(p('a/f.txt'), { signal })],
          ['readdir', () => fs.readdir(p('a'), { signal })],
          ['open', () => fs.open(p('a/f.txt'), { signal })],
          ['writeFile', () => fs.writeFile(p('a/g.txt'), 'x', { signal })],
          ['mkdir', () => fs.mkdir(p('b'), { signal })],
          ['copy', () => fs.copy(p('a/f.txt'), p('a/h.txt'), { signal })],
          ['rm', () => fs.rm(p('a/f.txt'), { signal })],
          ['load', () => fs.load(p('a/f.txt'), { signal })],
        ];
        for (const [op, call] of calls) {
          const error = await call().then(
            () => new Error(`${op} succeeded`),
            (e: unknown) => e as Error & { code?: string },
          );
          expect({ op, name: error.name, code: (error as { code?: string }).code, cause: error.cause }).toEqual({ op, name: 'AbortError', code: 'ABORT_ERR', cause: reason });
        }
        expect(await fs.readdir(p('a'))).toEqual(['f.txt']);
      }, ['list']);

      test('stats count hits, misses and store requests', async () => {
        await fs.writeFile(p('s.bin'), randomBytes(2 * PAGE), { writeType: 'THROUGH' });
        const before = fs.stats();
        await fs.readFile(p('s.bin'));
        await fs.readFile(p('s.bin'));
        const after = fs.stats();
        expect(after.misses - before.misses).toBe(2);
        expect(after.hits - before.hits).toBe(2);
        expect(after.storeRequests.read! - (before.storeRequests.read ?? 0)).toBe(1);
        expect(after.mounts[base || '/']!.bytesFromStore).toBeGreaterThanOrEqual(2 * PAGE);
      });

      if (layout === 'nested') {
        test('the parent namespace shows the mount point', async () => {
          expect(await fs.readdir('/')).toContain('mnt');
          expect(await fs.readdir('/mnt')).toEqual(['data']);
          expect((await fs.stat('/mnt/data')).mount).toBe('/mnt/data');
          await expectCode(fs.rm('/mnt', { recursive: true }), 'EBUSY');
          await expectCode(fs.unmount('/'), 'EBUSY');
          await fs.writeFile('/outside.txt', 'root');
          expect(await fs.readdir(p(''))).not.toContain('outside.txt');
        }, ['list']);
      }
    });
  }
}
