/**
 * Test code: the checks the OSS and COS connector tests share beyond the conformance suites,
 * run against the wire-protocol test server through each official SDK — multipart uploads,
 * batch deletes, signatures and credentials, error mapping of the service's failure answers,
 * secrets, URIs and settings. Each connector's test file describes its case once
 * ({@link VendorCase}) and adds what is its own.
 * @module
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import type { StrataError } from '../../../src/errors.js';
import type { StoreSettings, UnderStore } from '../../../src/store/under-store.js';
import { listAll, mapLimit, readAll } from '../../conformance/store-suite.js';
import { expectCode } from '../helpers.js';

/** A connector store as these checks use it. */
export type VendorStore = UnderStore & { readonly uri: string; readonly bucket: string; close(): Promise<void>; copy(from: string, to: string): Promise<unknown>; deleteMany(keys: string[]): Promise<void> };

/** What the checks do with the connector's SDK directly, around the store. */
export interface VendorSdk {
  /** A store whose injected client gives up waiting for an answer after a fraction of a second. */
  impatientStore(): VendorStore;
  /** Starts a multipart upload of `fullKey` (and leaves it in progress). */
  startUpload(fullKey: string): Promise<void>;
  /** Keys of the multipart uploads in progress below `prefix`. */
  pendingUploads(prefix: string): Promise<string[]>;
  /** Stores one object (to seed many keys quickly). */
  seed(fullKey: string, body: string): Promise<void>;
}

/** A connector class. */
export interface VendorStoreClass {
  new (options: never): VendorStore;
  fromUri(uri: URL, settings: StoreSettings): VendorStore;
}

/** What the shared checks need to know about one connector. */
export interface VendorCase {
  /** The connector. */
  Store: VendorStoreClass;
  /** Constructor options of a store on a fresh prefix of the test bucket; `overrides` replace settings. */
  options(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** The service's smallest part. */
  minPartSize: number;
  /** The settings naming the key id and the secret, the secret `options()` carries, and the environment variables read without settings. */
  credentials: { idSetting: string; secretSetting: string; secret: string; env: readonly string[] };
  /** A valid bucket name the server does not have; `namedOnRead: false` when the SDK reports a GET of it as a missing key. */
  missingBucket: { name: string; namedOnRead: boolean };
  /** Settings (overrides) that point the store at a port where nothing listens. */
  unreachable: Record<string, unknown>;
  /** The SDK, used directly. */
  sdk: VendorSdk;
  /**
   * URIs: the settings every URI needs (`base`), URIs that parse with the `uri` the store
   * reports, URIs and settings refused with `EINVAL` with a fragment of the message.
   */
  uris: {
    base: StoreSettings;
    valid: ReadonlyArray<readonly [string, string]>;
    invalid: ReadonlyArray<readonly [string, string]>;
    invalidSettings: ReadonlyArray<readonly [Record<string, unknown>, string]>;
  };
}

/** The key prefix of a store, from its URI. */
export function prefixOf(store: VendorStore): string {
  return decodeURIComponent(new URL(store.uri).pathname.slice(1));
}

/** A fresh prefix for a test. */
export function freshPrefix(): string {
  return `t-${randomUUID()}`;
}

/**
 * The secrets among `secrets` that `error` lets out anywhere a user or a log could see them:
 * its message, its cause, `util.inspect` (hidden fields included) or its JSON.
 */
export function leakedSecrets(error: unknown, secrets: readonly string[]): string[] {
  const views = [String(error), String((error as { cause?: unknown }).cause), inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)];
  return secrets.filter((secret) => views.some((view) => view.includes(secret)));
}

/** The `StrataError` `call` fails with, which must have `code`. */
async function failure(code: string, call: () => Promise<unknown>): Promise<StrataError> {
  return (await expectCode(call(), code)) as StrataError;
}

/** A store of `c` made with `overrides`. */
function storeOf(c: VendorCase, overrides: Record<string, unknown> = {}): VendorStore {
  const Store = c.Store as unknown as new (options: Record<string, unknown>) => VendorStore;
  return new Store(c.options(overrides));
}

/** Runs `fn` with a store of `c` made with `overrides`, and closes it. */
async function withStore(c: VendorCase, overrides: Record<string, unknown>, fn: (store: VendorStore) => Promise<void>): Promise<void> {
  const store = storeOf(c, overrides);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** A stream of `data` in uneven chunks, of unknown length to its reader. */
function unevenStream(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      const sizes = [65_536, 300_007, 7, 1_000_003];
      for (let at = 0, i = 0; at < data.length; i++) {
        const n = sizes[i % sizes.length] as number;
        yield data.subarray(at, at + n);
        at += n;
      }
    })(),
  );
}

/** Each kind of call a user makes, on `store`. */
function everyCall(store: VendorStore): Array<[string, () => Promise<unknown>]> {
  return [
    ['stat', () => store.stat('x.txt')],
    ['read', () => readAll(store.read('x.txt'))],
    ['list', () => listAll(store, '')],
    ['write', () => store.write('x.txt', Buffer.from('x'))],
    ['delete', () => store.delete('x.txt')],
  ];
}

/** Declares the shared checks for one connector. */
export function describeVendorStore(c: VendorCase): void {
  const probe = storeOf(c);
  const label = c.Store.name;
  const scheme = new URL(probe.uri).protocol.slice(0, -1);
  const fromUri = (uri: URL, settings: StoreSettings): VendorStore => c.Store.fromUri(uri, settings);
  const wrongSecret = 'wrong-ZZSECRETZZ-0123456789';
  describe(`${label}: multipart uploads`, () => {
    const parts = { partSize: c.minPartSize, multipartThreshold: c.minPartSize };
    const blocks = (n: number): Buffer[] => Array.from({ length: n }, () => randomBytes(c.minPartSize));

    it('round-trips a stream of unknown size in parts, readable by range across part boundaries', () =>
      withStore(c, parts, async (store) => {
        const data = randomBytes(3 * c.minPartSize + 12_345);
        const info = await store.write('big/stream.bin', unevenStream(data));
        expect(info).toMatchObject({ key: 'big/stream.bin', size: data.length, isDirectory: false });
        expect(info.etag?.toLowerCase()).toMatch(/-4$/); // a multipart etag: MD5 of the part MD5s, and the part count
        expect((await readAll(store.read('big/stream.bin'))).equals(data)).toBe(true);
        expect(await store.stat('big/stream.bin')).toMatchObject({ size: data.length, etag: info.etag });
        const across = await readAll(store.read('big/stream.bin', { offset: c.minPartSize - 10, length: 20 }));
        expect(across.equals(data.subarray(c.minPartSize - 10, c.minPartSize + 10))).toBe(true);
        expect(await c.sdk.pendingUploads(prefixOf(store))).toEqual([]);
      }));

    it('sends a Buffer above the threshold in parts and one at the threshold in one PUT', () =>
      withStore(c, parts, async (store) => {
        const big = randomBytes(2 * c.minPartSize + 1);
        expect((await store.write('buf.bin', big)).etag?.toLowerCase()).toMatch(/-3$/);
        expect((await readAll(store.read('buf.bin'))).equals(big)).toBe(true);
        const exact = randomBytes(c.minPartSize);
        expect((await store.write('exact.bin', exact)).etag?.toLowerCase()).toBe(createHash('md5').update(exact).digest('hex'));
      }));

    it('an upload in progress shows in the list of pending uploads (what the next checks rely on)', () =>
      withStore(c, {}, async (store) => {
        await c.sdk.startUpload(`${prefixOf(store)}/pending.bin`);
        expect(await c.sdk.pendingUploads(prefixOf(store))).toEqual([`${prefixOf(store)}/pending.bin`]);
      }));

    it('a stream failing after some parts keeps the previous object, reports the stream error and leaves no upload behind', () =>
      withStore(c, parts, async (store) => {
        await store.write('keep.bin', Buffer.from('previous'));
        const body = Readable.from(
          (async function* () {
            yield* blocks(3);
            throw Object.assign(new Error('source broke'), { code: 'ESOURCE' });
          })(),
        );
        const error = await failure('EIO', () => store.write('keep.bin', body));
        expect(error.message).toContain('source broke');
        expect((await readAll(store.read('keep.bin'))).toString()).toBe('previous');
        expect((await listAll(store, '', true)).map((i) => i.key)).toEqual(['keep.bin']);
        expect(await c.sdk.pendingUploads(prefixOf(store))).toEqual([]);
      }));

    it('an abort during a multipart upload keeps the previous object and leaves no upload behind', () =>
      withStore(c, parts, async (store) => {
        await store.write('abort.bin', Buffer.from('previous'));
        const controller = new AbortController();
        const body = Readable.from(
          (async function* () {
            yield* blocks(3);
            controller.abort();
            yield* blocks(3);
          })(),
        );
        await expect(store.write('abort.bin', body, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
        expect((await readAll(store.read('abort.bin'))).toString()).toBe('previous');
        expect(await c.sdk.pendingUploads(prefixOf(store))).toEqual([]);
      }));

    it('rejects a part size below the service minimum', () => {
      expect(() => storeOf(c, { partSize: c.minPartSize - 1 })).toThrow(/partSize/);
      expect(() => storeOf(c, { partSize: c.minPartSize, multipartThreshold: c.minPartSize - 1 })).toThrow(/multipartThreshold/);
    });
  });

  describe(`${label}: batch delete and copy`, () => {
    it('deleteMany removes more than 1,000 keys (several batch deletes) and ignores missing ones', () =>
      withStore(c, {}, async (store) => {
        const keys = Array.from({ length: 1_010 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`);
        await mapLimit(keys, 16, (key) => c.sdk.seed(`${prefixOf(store)}/${key}`, key));
        await store.write('kept.txt', Buffer.from('kept'));
        expect((await listAll(store, 'many')).length).toBe(keys.length);
        await store.deleteMany([...keys, 'many/never-existed.txt']);
        expect(await listAll(store, 'many')).toEqual([]);
        expect((await listAll(store, '', true)).map((i) => i.key)).toEqual(['kept.txt']);
      }));

    it('copies keys with spaces, non-ASCII characters, plus and percent signs (the copy-source header)', () =>
      withStore(c, {}, async (store) => {
        for (const [from, to] of [
          ['dir one/café ü.txt', 'dir two/naïve ü.txt'],
          ['a+b 100%.txt', 'c+d 50%.txt'],
        ] as const) {
          await store.write(from, Buffer.from(`payload of ${from}`));
          await store.copy(from, to);
          expect((await readAll(store.read(to))).toString()).toBe(`payload of ${from}`);
        }
      }));

    it('copy of a missing key is ENOENT', () => withStore(c, {}, async (store) => void (await failure('ENOENT', () => store.copy('nope.txt', 'dst.txt')))));

    it('copies a source the service refuses to copy at once (EntityTooLarge) in parts (UploadPartCopy), leaving no upload behind', async () => {
      // The test server refuses single copies above `copyLimit` (EntityTooLarge), as the services
      // do above 1 GiB (OSS) or 5 GiB (COS); the connector goes by the answer, not by its own limit.
      const limit = inject('wireServer').copyLimit;
      const Base = c.Store as unknown as new (options: Record<string, unknown>) => VendorStore;
      class SmallCopies extends Base {
        protected readonly copyPartSize = 1024 * 1024;
      }
      const store = new SmallCopies(c.options());
      try {
        const data = randomBytes(2 * limit + 1000);
        await store.write('src.bin', data);
        await store.copy('src.bin', 'dir/dst.bin');
        expect((await readAll(store.read('dir/dst.bin'))).equals(data)).toBe(true);
        expect((await store.stat('dir/dst.bin'))?.etag?.toLowerCase()).toMatch(/-5$/);
        expect((await readAll(store.read('src.bin'))).equals(data)).toBe(true);
        expect(await c.sdk.pendingUploads(prefixOf(store))).toEqual([]);
        // A store with the default part size copies it in parts too.
        const plain = storeOf(c, { prefix: prefixOf(store) });
        await plain.copy('src.bin', 'again.bin');
        expect((await readAll(plain.read('again.bin'))).equals(data)).toBe(true);
        expect(await c.sdk.pendingUploads(prefixOf(store))).toEqual([]);
      } finally {
        await store.close();
      }
    });
  });

  describe(`${label}: signatures, credentials and secrets`, () => {
    it('a request signed with a wrong secret is refused by the signature check: EACCES, nothing secret shown', () =>
      withStore(c, { [c.credentials.secretSetting]: wrongSecret }, async (store) => {
        for (const [op, call] of everyCall(store)) {
          const error = await failure('EACCES', call);
          expect(error.temporary, op).toBe(false);
          if (op !== 'stat') expect((error.cause as { code?: unknown }).code, op).toBe('SignatureDoesNotMatch'); // HEAD answers carry no document
          expect(leakedSecrets(error, [wrongSecret, 'StringToSign', 'SignatureProvided']), op).toEqual([]);
          expect(String(error.cause), op).not.toMatch(/q-signature=[0-9a-f]{8}|OSS [^:\s]+:[A-Za-z0-9+/]{8}/);
        }
        expect(inspect(store, { depth: Infinity, showHidden: true })).not.toContain(wrongSecret);
        expect(store.uri).not.toContain(wrongSecret);
      }));

    it('an access key the service does not know is EACCES (InvalidAccessKeyId)', () =>
      withStore(c, { [c.credentials.idSetting]: 'nobody-knows-this-key-id' }, async (store) => {
        const error = await failure('EACCES', () => store.write('x.txt', Buffer.from('x')));
        expect(error.temporary).toBe(false);
        expect((error.cause as { code?: unknown }).code).toBe('InvalidAccessKeyId');
      }));

    it('util.inspect, JSON and the uri of a working store show no secret', () =>
      withStore(c, {}, async (store) => {
        await store.write('a.txt', Buffer.from('a'));
        for (const shown of [inspect(store, { depth: Infinity, showHidden: true }), JSON.stringify(store), store.uri, String(store)]) expect(shown).not.toContain(c.credentials.secret);
      }));

    it('without credentials in settings or environment the first call is EACCES naming the variables', async () => {
      const saved = c.credentials.env.map((name) => [name, process.env[name]] as const);
      for (const name of c.credentials.env) delete process.env[name];
      try {
        const store = fromUri(new URL(`${scheme}://${probe.bucket}/x`), c.uris.base);
        expect((await failure('EACCES', () => store.stat('a.txt'))).message).toContain(c.credentials.env[0]);
      } finally {
        for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
      }
    });
  });

  describe(`${label}: error mapping of the service's answers`, () => {
    it('a missing bucket is ENOENT naming the bucket', () =>
      withStore(c, { bucket: c.missingBucket.name }, async (store) => {
        for (const [op, call] of everyCall(store).filter(([op]) => op !== 'delete')) {
          const error = await failure('ENOENT', call);
          if (op !== 'read' || c.missingBucket.namedOnRead) expect(error.message, op).toContain(`'${c.missingBucket.name}'`);
        }
      }));

    it('throttling and 5xx answers are temporary EIO; AccessDenied is EACCES', () =>
      withStore(c, {}, async (store) => {
        for (const fault of ['503-SlowDown', '500-InternalError', '429-TooManyRequests', '503-ServiceUnavailable']) {
          expect((await failure('EIO', () => readAll(store.read(`f/__fault-${fault}__`)))).temporary, fault).toBe(true);
        }
        expect((await failure('EACCES', () => readAll(store.read('f/__fault-403-AccessDenied__')))).temporary).toBe(false);
        expect((await failure('EIO', () => store.write('f/__fault-503-SlowDown__', Buffer.from('x')))).temporary).toBe(true);
      }));

    it('a read of a version that was replaced is ESTALE, also from a server that ignores If-Match', () =>
      withStore(c, {}, async (store) => {
        for (const key of ['v.bin', 'v/__ignores-if-match__']) {
          const first = await store.write(key, Buffer.from('first version'));
          await store.write(key, Buffer.from('second version'));
          const error = await failure('ESTALE', () => readAll(store.read(key, { offset: 0, length: 5 }, { ifMatch: first.etag })));
          expect(error.temporary ?? false, key).toBe(false);
        }
      }));

    it('a service that cannot be reached is a temporary EIO', () =>
      withStore(c, c.unreachable, async (store) => {
        for (const [op, call] of everyCall(store)) {
          const error = await failure('EIO', call);
          expect(error.temporary, op).toBe(true);
          expect(error.message, op).not.toMatch(/agent status|keepalive socket|headers: \{/); // the error, not the SDK's internal state
        }
      }));

    it('an answer that does not come in time is ETIMEDOUT, temporary', async () => {
      const store = c.sdk.impatientStore();
      try {
        expect((await failure('ETIMEDOUT', () => readAll(store.read('slow/__delay-3000__')))).temporary).toBe(true);
      } finally {
        await store.close();
      }
    });
  });

  describe(`${label}: URI and settings`, () => {
    it.each(c.uris.valid)('parses %s', (uri, expected) => {
      const store = fromUri(new URL(uri), c.uris.base);
      expect(store.uri).toBe(expected);
      expect(store.capabilities).toMatchObject({ rangeRead: true, list: true, copy: true, rename: false, directories: false });
    });

    it.each(c.uris.invalid)('rejects %s with EINVAL', (uri, fragment) => {
      expect(() => fromUri(new URL(uri), c.uris.base)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining(fragment) }));
    });

    it.each(c.uris.invalidSettings)('rejects settings %o with EINVAL naming the setting, never its value', (bad, name) => {
      const attempt = (): unknown => fromUri(new URL(`${scheme}://${probe.bucket}/x`), { ...c.uris.base, ...bad });
      expect(attempt).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining(name) }));
      expect(attempt).not.toThrow(/ZZSECRETZZ/);
    });

    it('the mount prefix is the root of every key', () =>
      withStore(c, {}, async (outer) =>
        withStore(c, { prefix: `${prefixOf(outer)}/nested` }, async (inner) => {
          await inner.write('f.txt', Buffer.from('inside'));
          expect((await readAll(outer.read('nested/f.txt'))).toString()).toBe('inside');
          expect((await listAll(outer, '')).map((i) => [i.key, i.isDirectory])).toEqual([['nested', true]]);
        }),
      ));
  });
}

/** Re-exported for the connector test files. */
export { failure };
