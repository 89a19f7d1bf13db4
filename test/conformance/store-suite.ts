/**
 * The one conformance suite every {@link UnderStore} must pass whole: the behaviours of the
 * connector contract (API.md §6), gated on the store's capabilities like OpenDAL's behaviour
 * tests. A connector's test file calls
 *
 * ```ts
 * describeStoreConformance('s3', async () => new S3Store({ ...freshPrefix }), { skip: { 'title': 'why' } });
 * ```
 *
 * `makeStore` must return a NEW EMPTY store on each call (a fresh prefix, a fresh directory);
 * every test gets its own. `options.skip` maps a title of {@link STORE_CONFORMANCE_TITLES} to
 * the reason it is skipped (documented emulator bugs only). Tests whose capability the store
 * does not declare (`rangeRead`, `list`, `copy`, `rename`) are skipped at run time, by name.
 *
 * Titles (stable; reference them in `skip`):
 * - stat: root / file / marker directory / implicit directory / missing / below a file /
 *   key with a trailing slash is only a directory
 * - write: empty object / 5 MiB binary / unknown-size Readable / marker directory /
 *   stat matches write / overwrite changes content and version / overwrite same size changes version
 * - key: space / unicode NFC / unicode NFD / emoji and CJK / percent / plus / hash / question mark /
 *   equals / ampersand / encoded dot-dot / encoded slash / leading dash and dots
 * - read: missing key is ENOENT / range start / range middle / range end / range overrunning end /
 *   range past end is empty / range zero length / range offset without length / with info names
 *   what stat sees / with info of a range tells the whole size / with info of a missing key is ENOENT
 * - list: direct children once / nested prefix / marker-only directory / missing directory /
 *   partial name / recursive / 2000 keys complete / keys made outside that no path can name are skipped
 * - delete: file / missing key resolves / marker / last file of implicit directory / marker outlives files
 * - copy: identical bytes, source kept / into a new directory / keys with special characters
 * - rename: file / directory
 * - concurrency: 20 writers and readers on distinct keys / 20 writers and readers on one key
 * - atomicity: failed write keeps previous object / failed write of a new key leaves nothing /
 *   aborted write keeps previous object / pre-aborted write leaves nothing / body of another size
 *   than declared fails and keeps previous object / abort while the body waits for data ends the write
 * - abort: every call fails with an AbortError
 * @module
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObjectStoreBase } from '../../src/store/object-store-base.js';
import type { ObjectInfo, StoreCapabilities, UnderStore } from '../../src/store/under-store.js';

/** Options of {@link describeStoreConformance}. */
export interface StoreConformanceOptions {
  /** Test title -> reason: these tests are reported as skipped (keep for documented emulator bugs). */
  skip?: Record<string, string>;
}

/** Keys with characters that stores, SDKs and file systems tend to get wrong. */
export const SPECIAL_KEYS: ReadonlyArray<readonly [label: string, key: string]> = [
  ['space', 'with space/file name.txt'],
  ['unicode NFC', 'unicode-nfc/caf\u00e9-\u00e9t\u00e9.txt'],
  ['unicode NFD', 'unicode-nfd/cafe\u0301-e\u0301te\u0301.txt'],
  ['emoji and CJK', 'wide/\u{1F600} \u6587\u4EF6.bin'],
  ['percent', 'pct/100% done %41.txt'],
  ['plus', 'plus/a+b+c.txt'],
  ['hash', 'hash/#tag#.txt'],
  ['question mark', 'qmark/why?.txt'],
  ['equals', 'eq/k=v.txt'],
  ['ampersand', 'amp/a&b&c.txt'],
  ['encoded dot-dot', 'encdot/%2e%2e/%2E%2E.txt'],
  ['encoded slash', 'encslash/a%2Fb%2fc.txt'],
  ['leading dash and dots', 'dots/-x/..a/.hidden/...txt'],
];

/** Every test title of the suite, stable, for `options.skip`. */
export const STORE_CONFORMANCE_TITLES = [
  'stat: root',
  'stat: file',
  'stat: marker directory',
  'stat: implicit directory',
  'stat: missing',
  'stat: below a file',
  'stat: key with a trailing slash is only a directory',
  'write: empty object',
  'write: 5 MiB binary',
  'write: unknown-size Readable',
  'write: marker directory',
  'write: stat matches write',
  'write: overwrite changes content and version',
  'write: overwrite same size changes version',
  ...SPECIAL_KEYS.map(([label]) => `key: ${label}`),
  'read: missing key is ENOENT',
  'read: range start',
  'read: range middle',
  'read: range end',
  'read: range overrunning end',
  'read: range past end is empty',
  'read: range zero length',
  'read: range offset without length',
  'read: with info names what stat sees',
  'read: with info of a range tells the whole size',
  'read: with info of a missing key is ENOENT',
  'read: a reader writing to what it read changes nothing stored',
  'read: conditional on the current version',
  'read: conditional on a replaced version is ESTALE',
  'list: direct children once',
  'list: nested prefix',
  'list: marker-only directory',
  'list: missing directory',
  'list: partial name',
  'list: recursive',
  'list: 2000 keys complete',
  'list: keys made outside that no path can name are skipped',
  'delete: file',
  'delete: missing key resolves',
  'delete: marker',
  'delete: last file of implicit directory',
  'delete: marker outlives files',
  'copy: identical bytes, source kept',
  'copy: into a new directory',
  'copy: keys with special characters',
  'rename: file',
  'rename: directory',
  'concurrency: 20 writers and readers on distinct keys',
  'concurrency: 20 writers and readers on one key',
  'atomicity: failed write keeps previous object',
  'atomicity: failed write of a new key leaves nothing',
  'atomicity: aborted write keeps previous object',
  'atomicity: pre-aborted write leaves nothing',
  'atomicity: body of another size than declared fails and keeps previous object',
  'atomicity: abort while the body waits for data ends the write',
  'abort: every call fails with an AbortError',
] as const;

/** One title of {@link STORE_CONFORMANCE_TITLES}. */
export type StoreConformanceTitle = (typeof STORE_CONFORMANCE_TITLES)[number];

/**
 * Stores `data` under `key` (relative to the store's root) as a tool other than stratafs would:
 * through the object store's own PUT, with no check of the key. `false` when the service refuses
 * the key (some emulators refuse `a//b`). Object stores only (see {@link ObjectStoreBase}).
 */
export async function putOutside(store: ObjectStoreBase, key: string, data: string): Promise<boolean> {
  const raw = store as unknown as { prefix: string; putObject(fullKey: string, body: Buffer, size: number, opts: object): Promise<unknown> };
  const body = Buffer.from(data);
  try {
    await raw.putObject(raw.prefix === '' ? key : `${raw.prefix}/${key}`, body, body.length, {});
    return true;
  } catch {
    return false;
  }
}

/** Reads a whole stream into one Buffer. */
export async function readAll(stream: Readable | Promise<Readable>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Collects a listing into an array. */
export async function listAll(store: UnderStore, prefix: string, recursive = false, signal?: AbortSignal): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of store.list(prefix, { recursive, signal })) out.push(info);
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function sortedKeys(infos: ObjectInfo[]): string[] {
  return infos.map((i) => i.key).sort();
}

function expectNoDuplicates(infos: ObjectInfo[]): void {
  const keys = infos.map((i) => i.key);
  expect(keys.length, `duplicates in ${JSON.stringify(keys)}`).toBe(new Set(keys).size);
}

/** A stream that yields `chunks` and then fails with `error`. */
function failingStream(chunks: Buffer[], error: Error): Readable {
  return Readable.from(
    (async function* () {
      for (const chunk of chunks) yield chunk;
      throw error;
    })(),
  );
}

/** A 5 MiB-ish stream of unknown length, in uneven chunks. */
function chunked(data: Buffer, sizes: number[]): Readable {
  return Readable.from(
    (function* () {
      let at = 0;
      let i = 0;
      while (at < data.length) {
        const n = sizes[i++ % sizes.length] as number;
        yield data.subarray(at, at + n);
        at += n;
      }
    })(),
  );
}

type Capability = keyof Pick<StoreCapabilities, 'rangeRead' | 'list' | 'copy' | 'rename' | 'conditionalRead'>;

/**
 * Declares one `describe` block that checks `makeStore()`'s stores against every behaviour of
 * the connector contract. See the module comment for the titles and the gating rules.
 */
export function describeStoreConformance(name: string, makeStore: () => Promise<UnderStore>, options: StoreConformanceOptions = {}): void {
  const skip = options.skip ?? {};
  for (const title of Object.keys(skip)) {
    if (!(STORE_CONFORMANCE_TITLES as readonly string[]).includes(title)) throw new Error(`describeStoreConformance: unknown title in skip: ${JSON.stringify(title)}`);
  }

  describe(`store conformance: ${name}`, () => {
    let store: UnderStore;

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store?.close?.();
    });

    /** Declares a test; skipped by `options.skip` or, at run time, when a capability is missing. */
    const test = (title: StoreConformanceTitle, fn: () => Promise<void>, needs: Capability[] = [], timeout?: number): void => {
      if (skip[title] !== undefined) {
        it.skip(title, () => {});
        return;
      }
      it(
        title,
        async (ctx) => {
          for (const capability of needs) {
            if (!store.capabilities[capability]) ctx.skip(`store lacks capabilities.${capability}`);
          }
          await fn();
        },
        timeout,
      );
    };

    const put = (key: string, data: string | Buffer): Promise<ObjectInfo> => store.write(key, typeof data === 'string' ? Buffer.from(data) : data);
    const get = (key: string): Promise<Buffer> => readAll(store.read(key));

    // ---- stat -------------------------------------------------------------------------------

    test('stat: root', async () => {
      const root = await store.stat('');
      expect(root).toMatchObject({ key: '', isDirectory: true });
    });

    test('stat: file', async () => {
      await put('dir/file.txt', 'hello');
      const info = await store.stat('dir/file.txt');
      expect(info).toMatchObject({ key: 'dir/file.txt', size: 5, isDirectory: false });
    });

    test('stat: marker directory', async () => {
      await store.write('marked/', Buffer.alloc(0));
      const info = await store.stat('marked');
      expect(info).toMatchObject({ key: 'marked', isDirectory: true });
      await store.write('a/b/c/', Buffer.alloc(0));
      expect(await store.stat('a/b/c')).toMatchObject({ key: 'a/b/c', isDirectory: true });
    });

    test('stat: implicit directory', async () => {
      await put('imp/lic/it.txt', 'x');
      expect(await store.stat('imp')).toMatchObject({ key: 'imp', isDirectory: true });
      expect(await store.stat('imp/lic')).toMatchObject({ key: 'imp/lic', isDirectory: true });
    });

    test('stat: missing', async () => {
      await put('present.txt', 'x');
      expect(await store.stat('absent.txt')).toBeUndefined();
      expect(await store.stat('absent/deeper')).toBeUndefined();
      expect(await store.stat('present')).toBeUndefined(); // a prefix of a name is not a directory
    });

    test('stat: below a file', async () => {
      await put('file.txt', 'x');
      expect(await store.stat('file.txt/child')).toBeUndefined();
    });

    test('stat: key with a trailing slash is only a directory', async () => {
      await store.write('marked/', Buffer.alloc(0));
      await store.write('a/b/', Buffer.alloc(0));
      await put('imp/lic/it.txt', 'x');
      await put('file.txt', 'x');
      for (const key of ['marked', 'a', 'a/b', 'imp', 'imp/lic']) {
        const info = await store.stat(`${key}/`);
        expect(info, `${key}/`).toMatchObject({ key, size: 0, isDirectory: true }); // never the marker as a file, never a trailing '/'
      }
      expect(await store.stat('file.txt/')).toBeUndefined(); // a file is not a directory
      expect(await store.stat('absent/')).toBeUndefined();
      expect(await store.stat('imp/li/')).toBeUndefined(); // a prefix of a name is not a directory
    });

    // ---- write ------------------------------------------------------------------------------

    test('write: empty object', async () => {
      const info = await put('empty', Buffer.alloc(0));
      expect(info).toMatchObject({ key: 'empty', size: 0, isDirectory: false });
      expect(await store.stat('empty')).toMatchObject({ key: 'empty', size: 0, isDirectory: false });
      expect((await get('empty')).length).toBe(0);
    });

    test(
      'write: 5 MiB binary',
      async () => {
        const data = randomBytes(5 * 1024 * 1024 + 17);
        const info = await put('big/blob.bin', data);
        expect(info.size).toBe(data.length);
        const back = await get('big/blob.bin');
        expect(back.length).toBe(data.length);
        expect(back.equals(data)).toBe(true);
      },
      [],
      120_000,
    );

    test(
      'write: unknown-size Readable',
      async () => {
        const data = randomBytes(3 * 1024 * 1024 + 5);
        const info = await store.write('stream.bin', chunked(data, [65_536, 1, 100_000, 7]));
        expect(info).toMatchObject({ key: 'stream.bin', size: data.length, isDirectory: false });
        expect((await get('stream.bin')).equals(data)).toBe(true);
        const small = await store.write('small.txt', Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
        expect(small.size).toBe(4);
        expect((await get('small.txt')).toString()).toBe('abcd');
      },
      [],
      120_000,
    );

    test('write: marker directory', async () => {
      const info = await store.write('newdir/', Buffer.alloc(0));
      expect(info).toMatchObject({ key: 'newdir', isDirectory: true });
      expect(await store.stat('newdir')).toMatchObject({ key: 'newdir', isDirectory: true });
    });

    test('write: stat matches write', async () => {
      const written = await put('match.txt', 'some content');
      const stat = await store.stat('match.txt');
      expect(written.size).toBe(12);
      expect(stat?.size).toBe(written.size);
      if (written.etag !== undefined) expect(stat?.etag).toBe(written.etag);
      if (written.mtime !== undefined && stat?.mtime !== undefined) {
        expect(Math.abs(stat.mtime.getTime() - written.mtime.getTime())).toBeLessThan(2000);
      }
    });

    test('write: overwrite changes content and version', async () => {
      const first = await put('over.txt', 'one');
      const second = await put('over.txt', 'second value');
      expect((await get('over.txt')).toString()).toBe('second value');
      const stat = await store.stat('over.txt');
      expect(stat?.size).toBe(12);
      if (first.etag !== undefined && second.etag !== undefined) expect(second.etag).not.toBe(first.etag);
      if (stat?.etag !== undefined && second.etag !== undefined) expect(stat.etag).toBe(second.etag);
    });

    test('write: overwrite same size changes version', async () => {
      const first = await put('same.txt', 'AAAA');
      const second = await put('same.txt', 'BBBB');
      expect((await get('same.txt')).toString()).toBe('BBBB');
      const stat = await store.stat('same.txt');
      if (first.etag !== undefined) {
        expect(second.etag).toBeDefined();
        expect(second.etag).not.toBe(first.etag);
        expect(stat?.etag).toBe(second.etag);
      } else {
        expect(first.mtime !== undefined || stat?.mtime !== undefined, 'a store without etags must report mtime').toBe(true);
      }
    });

    // ---- special keys -----------------------------------------------------------------------

    for (const [label, key] of SPECIAL_KEYS) {
      test(`key: ${label}` as StoreConformanceTitle, async () => {
        const body = Buffer.from(`content of ${key}`);
        const info = await put(key, body);
        expect(info.key).toBe(key);
        expect((await get(key)).equals(body)).toBe(true);
        expect(await store.stat(key)).toMatchObject({ key, size: body.length, isDirectory: false });
        if (store.capabilities.list) {
          const dir = key.slice(0, key.lastIndexOf('/'));
          const listed = await listAll(store, dir);
          expect(listed.map((i) => i.key)).toContain(key);
          const all = await listAll(store, '', true);
          expect(all.filter((i) => !i.isDirectory).map((i) => i.key)).toEqual([key]);
        }
        await store.delete(key);
        expect(await store.stat(key)).toBeUndefined();
      });
    }

    // ---- read -------------------------------------------------------------------------------

    const rangeData = randomBytes(1000);
    const rangeCase = (title: StoreConformanceTitle, offset: number, length: number | undefined, expected: Buffer): void => {
      test(
        title,
        async () => {
          await put('range.bin', rangeData);
          const range = length === undefined ? { offset } : { offset, length };
          const got = await readAll(store.read('range.bin', range));
          expect(got.length).toBe(expected.length);
          expect(got.equals(expected)).toBe(true);
        },
        ['rangeRead'],
      );
    };

    test('read: missing key is ENOENT', async () => {
      await expect(readAll(store.read('no/such/key.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
    rangeCase('read: range start', 0, 10, rangeData.subarray(0, 10));
    rangeCase('read: range middle', 123, 456, rangeData.subarray(123, 579));
    rangeCase('read: range end', 990, 10, rangeData.subarray(990));
    rangeCase('read: range overrunning end', 995, 100, rangeData.subarray(995));
    test(
      'read: range past end is empty',
      async () => {
        await put('range.bin', rangeData);
        expect((await readAll(store.read('range.bin', { offset: 1000, length: 10 }))).length).toBe(0);
        expect((await readAll(store.read('range.bin', { offset: 5000 }))).length).toBe(0);
      },
      ['rangeRead'],
    );
    rangeCase('read: range zero length', 10, 0, Buffer.alloc(0));
    rangeCase('read: range offset without length', 600, undefined, rangeData.subarray(600));

    /** `readWithInfo` is optional: its tests skip at run time on stores without it. */
    const withInfo = (title: StoreConformanceTitle, fn: (read: NonNullable<UnderStore['readWithInfo']>) => Promise<void>): void =>
      test(title, async () => {
        if (!store.readWithInfo) return void expect(store.capabilities.readInfo ?? false).toBe(false);
        await fn(store.readWithInfo.bind(store));
      });
    withInfo('read: with info names what stat sees', async (read) => {
      await put('info.bin', rangeData);
      await put('info.bin', rangeData.subarray(0, 900)); // a second version
      const { body, info } = await read('info.bin');
      expect((await readAll(body)).equals(rangeData.subarray(0, 900))).toBe(true);
      const stat = await store.stat('info.bin');
      expect(info).toMatchObject({ key: 'info.bin', size: 900, isDirectory: false });
      // Stores that declare readInfo name the version served; the others may leave it out.
      if (store.capabilities.readInfo) expect(info.etag).toBe(stat!.etag);
      else if (info.etag !== undefined) expect(info.etag).toBe(stat!.etag);
    });
    withInfo('read: with info of a range tells the whole size', async (read) => {
      if (!store.capabilities.rangeRead) return;
      await put('info.bin', rangeData);
      const { body, info } = await read('info.bin', { offset: 100, length: 50 });
      expect((await readAll(body)).equals(rangeData.subarray(100, 150))).toBe(true);
      expect(info.size).toBe(rangeData.length);
    });
    withInfo('read: with info of a missing key is ENOENT', async (read) => {
      await expect(read('no/such/key.txt')).rejects.toMatchObject({ code: 'ENOENT' });
    });

    test('read: a reader writing to what it read changes nothing stored', async () => {
      const data = randomBytes(3000);
      await put('own.bin', data);
      for await (const chunk of await store.read('own.bin')) (chunk as Buffer).fill(0);
      expect((await get('own.bin')).equals(data)).toBe(true);
    });
    test(
      'read: conditional on the current version',
      async () => {
        const info = await put('cond.bin', rangeData);
        expect((await readAll(store.read('cond.bin', undefined, { ifMatch: info.etag }))).equals(rangeData)).toBe(true);
        expect((await readAll(store.read('cond.bin', { offset: 10, length: 20 }, { ifMatch: info.etag }))).equals(rangeData.subarray(10, 30))).toBe(true);
      },
      ['conditionalRead'],
    );
    test(
      'read: conditional on a replaced version is ESTALE',
      async () => {
        const first = await put('cond.bin', rangeData);
        const second = await put('cond.bin', rangeData.subarray(0, 900));
        expect(second.etag).not.toBe(first.etag);
        const failed = (range?: { offset: number; length: number }): Promise<unknown> => readAll(store.read('cond.bin', range, { ifMatch: first.etag })).then(() => 'read', (error: unknown) => error);
        expect(await failed()).toMatchObject({ code: 'ESTALE' });
        expect(await failed({ offset: 10, length: 20 })).toMatchObject({ code: 'ESTALE' });
        // Past the end of the (smaller) current version: a changed object, not an empty range.
        expect(await failed({ offset: 950, length: 20 })).toMatchObject({ code: 'ESTALE' });
        expect((await readAll(store.read('cond.bin', { offset: 0, length: 4 }, { ifMatch: second.etag }))).equals(rangeData.subarray(0, 4))).toBe(true);
        expect((await readAll(store.read('cond.bin', { offset: 950, length: 20 }, { ifMatch: second.etag }))).length).toBe(0);
      },
      ['conditionalRead'],
    );

    // ---- list -------------------------------------------------------------------------------

    const tree = async (): Promise<void> => {
      await put('a.txt', 'aa');
      await put('b.txt', 'bbb');
      await put('sub/c.txt', 'c');
      await put('sub/deep/d.txt', 'dddd');
      await store.write('marker/', Buffer.alloc(0));
      await store.write('both/', Buffer.alloc(0));
      await put('both/x.txt', 'x');
    };

    test(
      'list: direct children once',
      async () => {
        await tree();
        const listed = await listAll(store, '');
        expectNoDuplicates(listed);
        expect(sortedKeys(listed)).toEqual(['a.txt', 'b.txt', 'both', 'marker', 'sub']);
        const byKey = new Map(listed.map((i) => [i.key, i]));
        expect(byKey.get('a.txt')).toMatchObject({ size: 2, isDirectory: false });
        expect(byKey.get('b.txt')).toMatchObject({ size: 3, isDirectory: false });
        for (const dir of ['both', 'marker', 'sub']) expect(byKey.get(dir)?.isDirectory, dir).toBe(true);
      },
      ['list'],
    );

    test(
      'list: nested prefix',
      async () => {
        await tree();
        const sub = await listAll(store, 'sub');
        expectNoDuplicates(sub);
        expect(sortedKeys(sub)).toEqual(['sub/c.txt', 'sub/deep']);
        expect(sub.find((i) => i.key === 'sub/c.txt')).toMatchObject({ size: 1, isDirectory: false });
        expect(sub.find((i) => i.key === 'sub/deep')?.isDirectory).toBe(true);
        expect(sortedKeys(await listAll(store, 'sub/deep'))).toEqual(['sub/deep/d.txt']);
        expect(sortedKeys(await listAll(store, 'both'))).toEqual(['both/x.txt']);
        // A directory named with its trailing slash (as `stat('d/')` answers) lists the same.
        expect(sortedKeys(await listAll(store, 'sub/'))).toEqual(['sub/c.txt', 'sub/deep']);
      },
      ['list'],
    );

    test(
      'list: marker-only directory',
      async () => {
        await tree();
        expect(await listAll(store, 'marker')).toEqual([]);
      },
      ['list'],
    );

    test(
      'list: missing directory',
      async () => {
        await tree();
        expect(await listAll(store, 'nothing-here')).toEqual([]);
      },
      ['list'],
    );

    test(
      'list: partial name',
      async () => {
        await tree();
        expect(await listAll(store, 'su')).toEqual([]);
        expect(await listAll(store, 'a')).toEqual([]);
      },
      ['list'],
    );

    test(
      'list: recursive',
      async () => {
        await tree();
        const all = await listAll(store, '', true);
        expectNoDuplicates(all);
        const files = all.filter((i) => !i.isDirectory);
        expect(sortedKeys(files)).toEqual(['a.txt', 'b.txt', 'both/x.txt', 'sub/c.txt', 'sub/deep/d.txt']);
        expect(files.find((i) => i.key === 'sub/deep/d.txt')?.size).toBe(4);
        const dirs = sortedKeys(all.filter((i) => i.isDirectory));
        expect(dirs).toContain('marker');
        for (const dir of dirs) expect(['both', 'marker', 'sub', 'sub/deep']).toContain(dir);
        const below = await listAll(store, 'sub', true);
        expect(sortedKeys(below.filter((i) => !i.isDirectory))).toEqual(['sub/c.txt', 'sub/deep/d.txt']);
        for (const dir of below.filter((i) => i.isDirectory)) expect(dir.key).toBe('sub/deep');
      },
      ['list'],
    );

    test(
      'list: 2000 keys complete',
      async () => {
        const keys = Array.from({ length: 2003 }, (_, i) => `many/k-${String(i).padStart(5, '0')}`);
        await mapLimit(keys, 32, (key, i) => put(key, String(i)));
        const listed = await listAll(store, 'many');
        expectNoDuplicates(listed);
        expect(listed.length).toBe(keys.length);
        expect(sortedKeys(listed)).toEqual(keys);
        const recursive = await listAll(store, '', true);
        const files = recursive.filter((i) => !i.isDirectory);
        expect(files.length).toBe(keys.length);
        expect(new Set(files.map((i) => i.key)).size).toBe(keys.length);
      },
      ['list'],
      180_000,
    );

    test(
      'list: keys made outside that no path can name are skipped',
      async () => {
        if (!(store instanceof ObjectStoreBase)) return; // only object stores hold such keys
        await put('odd/ok', 'ok');
        // Empty segments: at the end (a marker of `t/`), inside, and right below the directory.
        for (const key of ['odd/t//', 'odd/a//b', 'odd//x', 'odd/e//f/']) await putOutside(store, key, 'outside');
        const wellFormed = (infos: ObjectInfo[]): void => {
          expectNoDuplicates(infos);
          for (const info of infos) expect(info.key, JSON.stringify(info.key)).toMatch(/^[^/]+(\/[^/]+)*$/);
        };
        const children = await listAll(store, 'odd');
        wellFormed(children);
        expect(children.filter((i) => !i.isDirectory).map((i) => i.key)).toEqual(['odd/ok']);
        for (const dir of ['odd/t', 'odd/a', 'odd/e']) {
          const below = await listAll(store, dir);
          wellFormed(below);
          expect(below.filter((i) => !i.isDirectory)).toEqual([]);
        }
        const all = await listAll(store, '', true);
        wellFormed(all);
        expect(all.filter((i) => !i.isDirectory).map((i) => i.key)).toEqual(['odd/ok']);
      },
      ['list'],
    );

    // ---- delete -----------------------------------------------------------------------------

    test('delete: file', async () => {
      await put('del/one.txt', '1');
      await put('del/two.txt', '2');
      await store.delete('del/one.txt');
      expect(await store.stat('del/one.txt')).toBeUndefined();
      await expect(readAll(store.read('del/one.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await get('del/two.txt')).toString()).toBe('2');
    });

    test('delete: missing key resolves', async () => {
      await expect(store.delete('never/was.txt')).resolves.toBeUndefined();
      await expect(store.delete('never-was.txt')).resolves.toBeUndefined();
      await expect(store.delete('never-dir/')).resolves.toBeUndefined();
    });

    test('delete: marker', async () => {
      await store.write('gone/', Buffer.alloc(0));
      expect((await store.stat('gone'))?.isDirectory).toBe(true);
      await store.delete('gone/');
      expect(await store.stat('gone')).toBeUndefined();
      if (store.capabilities.list) expect(await listAll(store, '')).toEqual([]);
    });

    test('delete: last file of implicit directory', async () => {
      await put('implicit/only.txt', 'x');
      await store.delete('implicit/only.txt');
      const after = await store.stat('implicit');
      if (store.capabilities.directories) expect(after?.isDirectory).toBe(true);
      else expect(after).toBeUndefined();
    });

    test('delete: marker outlives files', async () => {
      await store.write('kept/', Buffer.alloc(0));
      await put('kept/f.txt', 'x');
      await store.delete('kept/f.txt');
      expect(await store.stat('kept')).toMatchObject({ key: 'kept', isDirectory: true });
      if (store.capabilities.list) expect(await listAll(store, 'kept')).toEqual([]);
    });

    // ---- copy / rename ----------------------------------------------------------------------

    test(
      'copy: identical bytes, source kept',
      async () => {
        const data = randomBytes(100_000);
        await put('src.bin', data);
        const info = await store.copy!('src.bin', 'dst.bin');
        expect(info).toMatchObject({ key: 'dst.bin', size: data.length, isDirectory: false });
        expect((await get('dst.bin')).equals(data)).toBe(true);
        expect((await get('src.bin')).equals(data)).toBe(true);
        expect(await store.stat('dst.bin')).toMatchObject({ size: data.length });
      },
      ['copy'],
    );

    test(
      'copy: keys with special characters',
      async () => {
        await mapLimit(SPECIAL_KEYS, 4, async ([, key]) => {
          const copy = `${key.slice(0, key.lastIndexOf('/'))}/copy of ${key.slice(key.lastIndexOf('/') + 1)}`;
          await put(key, key);
          expect(await store.copy!(key, copy)).toMatchObject({ key: copy, size: Buffer.byteLength(key), isDirectory: false });
          expect((await get(copy)).toString()).toBe(key);
          expect((await get(key)).toString()).toBe(key);
        });
      },
      ['copy'],
    );

    test(
      'copy: into a new directory',
      async () => {
        await put('from.txt', 'payload');
        await store.copy!('from.txt', 'new/dir/to.txt');
        expect((await get('new/dir/to.txt')).toString()).toBe('payload');
        expect((await store.stat('new/dir'))?.isDirectory).toBe(true);
      },
      ['copy'],
    );

    test(
      'rename: file',
      async () => {
        await put('old.txt', 'moving');
        await store.rename!('old.txt', 'moved/new.txt');
        expect(await store.stat('old.txt')).toBeUndefined();
        expect((await get('moved/new.txt')).toString()).toBe('moving');
      },
      ['rename'],
    );

    test(
      'rename: directory',
      async () => {
        await put('d1/x.txt', 'x');
        await put('d1/sub/y.txt', 'yy');
        await store.write('d1/empty/', Buffer.alloc(0));
        await put('d1-sibling.txt', 'not moved');
        await store.rename!('d1', 'd2');
        expect(await store.stat('d1')).toBeUndefined();
        expect(await store.stat('d1/x.txt')).toBeUndefined();
        expect((await get('d2/x.txt')).toString()).toBe('x');
        expect((await get('d2/sub/y.txt')).toString()).toBe('yy');
        expect((await store.stat('d2/empty'))?.isDirectory).toBe(true);
        expect((await get('d1-sibling.txt')).toString()).toBe('not moved');
      },
      ['rename'],
    );

    // ---- concurrency ------------------------------------------------------------------------

    test('concurrency: 20 writers and readers on distinct keys', async () => {
      const values = Array.from({ length: 20 }, (_, i) => randomBytes(32_768 + i));
      await Promise.all(
        values.map(async (value, i) => {
          await put(`conc/${i}.bin`, value);
          const back = await get(`conc/${i}.bin`);
          expect(back.equals(value)).toBe(true);
        }),
      );
      await Promise.all(values.map(async (value, i) => expect((await get(`conc/${i}.bin`)).equals(value)).toBe(true)));
    });

    test('concurrency: 20 writers and readers on one key', async () => {
      const size = 65_536;
      const fill = (i: number): Buffer => Buffer.alloc(size, i);
      await put('shared.bin', fill(0));
      const isWhole = (buf: Buffer): boolean => buf.length === size && buf.every((b) => b === buf[0]) && (buf[0] as number) <= 20;
      const writers = Array.from({ length: 20 }, (_, i) => put('shared.bin', fill(i + 1)));
      const readers = Array.from({ length: 20 }, async () => isWhole(await get('shared.bin')));
      const [written, read] = await Promise.all([Promise.all(writers), Promise.all(readers)]);
      for (const info of written) expect(info.size).toBe(size);
      expect(read.every(Boolean), 'a reader saw a mix of versions').toBe(true);
      const final = await get('shared.bin');
      expect(isWhole(final)).toBe(true);
      expect(final[0]).toBeGreaterThan(0);
      expect((await store.stat('shared.bin'))?.size).toBe(size);
    });

    // ---- atomicity --------------------------------------------------------------------------

    test('atomicity: failed write keeps previous object', async () => {
      await put('keep.txt', 'previous');
      const body = failingStream([Buffer.alloc(100_000, 1), Buffer.alloc(100_000, 2)], new Error('source broke'));
      await expect(store.write('keep.txt', body)).rejects.toBeTruthy();
      expect((await get('keep.txt')).toString()).toBe('previous');
      expect((await store.stat('keep.txt'))?.size).toBe(8);
      if (store.capabilities.list) expect(sortedKeys(await listAll(store, '', true))).toEqual(['keep.txt']);
    });

    test('atomicity: failed write of a new key leaves nothing', async () => {
      const body = failingStream([Buffer.alloc(50_000, 3)], new Error('source broke'));
      await expect(store.write('dir/fresh.txt', body)).rejects.toBeTruthy();
      expect(await store.stat('dir/fresh.txt')).toBeUndefined();
      if (store.capabilities.list) {
        const files = (await listAll(store, '', true)).filter((i) => !i.isDirectory);
        expect(files).toEqual([]);
      }
    });

    test('atomicity: aborted write keeps previous object', async () => {
      await put('abort.txt', 'previous');
      const controller = new AbortController();
      const body = Readable.from(
        (async function* () {
          yield Buffer.alloc(100_000, 1);
          controller.abort();
          yield Buffer.alloc(100_000, 2);
        })(),
      );
      await expect(store.write('abort.txt', body, { signal: controller.signal })).rejects.toBeTruthy();
      expect((await get('abort.txt')).toString()).toBe('previous');
      if (store.capabilities.list) expect(sortedKeys(await listAll(store, '', true))).toEqual(['abort.txt']);
    });

    test('atomicity: pre-aborted write leaves nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(store.write('pre.txt', Buffer.from('data'), { signal: controller.signal })).rejects.toBeTruthy();
      expect(await store.stat('pre.txt')).toBeUndefined();
      await expect(store.write('pre2.txt', Readable.from([Buffer.from('data')]), { signal: controller.signal })).rejects.toBeTruthy();
      expect(await store.stat('pre2.txt')).toBeUndefined();
    });

    test('atomicity: body of another size than declared fails and keeps previous object', async () => {
      await put('sized.bin', 'previous');
      const data = randomBytes(200_000);
      const cases: Array<[string, () => Readable | Buffer, number]> = [
        ['a stream shorter than declared', () => chunked(data, [65_536, 7]), data.length + 1],
        ['a stream longer than declared', () => chunked(data, [65_536, 7]), data.length - 1],
        ['an empty stream declared non-empty', () => Readable.from([]), 10],
        ['a Buffer of another length', () => data, data.length + 100],
      ];
      for (const [label, body, size] of cases) {
        const error = await store.write('sized.bin', body(), { size }).then(
          () => undefined,
          (e: unknown) => e as { code?: string },
        );
        expect(error?.code, label).toBe('EINVAL');
        expect((await get('sized.bin')).toString(), label).toBe('previous');
        const fresh = await store.write('sized-new.bin', body(), { size }).then(
          () => 'written',
          (e: unknown) => (e as { code?: string }).code,
        );
        expect(fresh, label).toBe('EINVAL');
        expect(await store.stat('sized-new.bin'), label).toBeUndefined();
      }
      const exact = await store.write('sized.bin', chunked(data, [65_536, 7]), { size: data.length });
      expect(exact.size).toBe(data.length);
      expect((await get('sized.bin')).equals(data)).toBe(true);
    });

    test('atomicity: abort while the body waits for data ends the write', async () => {
      await put('stalled.bin', 'previous');
      for (const size of [undefined, 900_000]) {
        const body = new Readable({ read() {} }); // a writer that stops sending and never ends
        body.push(randomBytes(300_000));
        const controller = new AbortController();
        const write = store.write('stalled.bin', body, { signal: controller.signal, size });
        await new Promise((resolve) => setTimeout(resolve, 100));
        controller.abort();
        await expect(write, `size ${size}`).rejects.toMatchObject({ name: 'AbortError' });
        await new Promise((resolve) => setImmediate(resolve));
        expect(body.destroyed, `size ${size}`).toBe(true);
        expect((await get('stalled.bin')).toString()).toBe('previous');
        if (store.capabilities.list) expect(sortedKeys(await listAll(store, '', true))).toEqual(['stalled.bin']);
      }
    });

    test('abort: every call fails with an AbortError', async () => {
      await put('kept.txt', 'kept');
      const controller = new AbortController();
      controller.abort(new Error('the caller stopped'));
      const signal = controller.signal;
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['stat', () => store.stat('kept.txt', { signal })],
        ['read', () => readAll(store.read('kept.txt', undefined, { signal }))],
        ['write', () => store.write('new.txt', Buffer.from('x'), { signal })],
        ['delete', () => store.delete('kept.txt', { signal })],
      ];
      if (store.capabilities.list) calls.push(['list', () => listAll(store, '', true, signal)]);
      for (const [op, call] of calls) {
        const name = await call().then(
          () => 'succeeded',
          (e: unknown) => (e as Error).name,
        );
        expect({ op, name }).toEqual({ op, name: 'AbortError' });
      }
      expect((await get('kept.txt')).toString()).toBe('kept');
      expect(await store.stat('new.txt')).toBeUndefined();
    });
  });
}
