/**
 * The GCS connector against the Cloud Storage emulator of firebase-tools on loopback (started by
 * test/support/gcs.global-setup.ts): the shared conformance suites, plus what is GCS's own —
 * URI and settings validation, resumable uploads, listings across pages, copies on a server
 * without the rewrite API, error mapping, no secret anywhere a user could see.
 *
 * The emulator creates buckets implicitly and never answers "bucket does not exist" nor 403,
 * so those answers come from a small loopback HTTP server speaking the JSON API's error format.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StrataFS } from '../../src/file-system.js';
import type { RawListOptions, RawListPage } from '../../src/store/object-store-base.js';
import { GcsStore, type GcsStoreOptions } from '../../src/store/gcs/index.js';
import { describeFacadeConformance } from '../conformance/facade-suite.js';
import { describeStoreConformance, listAll, readAll } from '../conformance/store-suite.js';
import { unknownSizeStream, everythingShown, catchError } from '../support/helpers.js';

const MiB = 1024 * 1024;
const BUCKET = 'stratafs-test';
const apiEndpoint = inject('gcsEndpoint');
const projectId = inject('gcsProjectId');

/** A new, empty store: the test bucket (the emulator creates it on first write) under a fresh random prefix. */
async function makeGcsStore(extra: Partial<GcsStoreOptions> = {}): Promise<GcsStore> {
  return new GcsStore({ bucket: BUCKET, prefix: `t-${randomUUID()}`, apiEndpoint, projectId, ...extra });
}

// Emulator limits (buckets made on first write, no compose, `ifGenerationMatch: 0` ignored,
// `prefixes` repeated on every page) hit no test of either suite: nothing is skipped.
describeStoreConformance('gcs', () => makeGcsStore());
describeFacadeConformance('gcs', () => makeGcsStore());




/** A loopback server that answers every request with `status` and a JSON-API error body. */
async function startErrorServer(status: number, message: string, reason: string): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe('GcsStore: URI and settings', () => {
  it('reads gs:// and gcs:// URIs into bucket and prefix', () => {
    const a = GcsStore.fromUri(new URL('gs://my-bucket/data/2024/'), { apiEndpoint, projectId });
    expect(a.bucket).toBe('my-bucket');
    expect(a.uri).toBe('gs://my-bucket/data/2024');
    expect(GcsStore.fromUri(new URL('gcs://other.example.com'), {}).uri).toBe('gs://other.example.com');
    expect(GcsStore.fromUri(new URL('gs://b_1/a%20b'), {}).uri).toBe('gs://b_1/a%20b');
  });

  it('rejects bad URIs with EINVAL', () => {
    const bad = ['gs://UPPER/x', 'gs://ab', 'gs://goog-bucket', 'gs://-dash', 'gs://b1b:443/x', 'gs://b1b/x?alt=media', 'gs://b1b/a//b', 'az://b1b', 'gs:///x'];
    for (const uri of bad) expect(() => GcsStore.fromUri(new URL(uri), {}), uri).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('rejects unknown settings by name, never echoing a value', () => {
    let error: unknown;
    try {
      GcsStore.fromUri(new URL('gs://b1b'), { apiEndpoint, privateKey: 'TOP-SECRET-VALUE' });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'EINVAL' });
    expect((error as Error).message).toContain('privateKey');
    expect(everythingShown(error)).not.toContain('TOP-SECRET-VALUE');
    expect(() => GcsStore.fromUri(new URL('gs://b1b'), { bucket: 'other' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('rejects bad values with EINVAL', () => {
    const cases: Array<Record<string, unknown>> = [
      { credentials: 'a JSON string' },
      { credentials: { client_email: 'a@b', private_key: 'k' }, keyFilename: '/some/key.json' },
      { apiEndpoint: 'ftp://127.0.0.1' },
      { apiEndpoint: 'not a url' },
      { projectId: '' },
      { resumableThreshold: 'lots' },
      { storage: { notAStorage: true } },
    ];
    for (const settings of cases) {
      expect(() => new GcsStore({ bucket: BUCKET, ...(settings as Partial<GcsStoreOptions>) }), JSON.stringify(Object.keys(settings))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
  });

  it('mounts gs:// and gcs:// URIs', async () => {
    const fs = new StrataFS();
    try {
      const prefix = `t-${randomUUID()}`;
      await fs.mount('/g', `gs://${BUCKET}/${prefix}`, { options: { apiEndpoint, projectId } });
      await fs.mount('/g2', `gcs://${BUCKET}/${prefix}`, { options: { apiEndpoint, projectId } });
      await fs.writeFile('/g/dir/hello.txt', 'hello gcs');
      expect((await fs.readFile('/g2/dir/hello.txt')).toString()).toBe('hello gcs');
      expect(await fs.readdir('/g2')).toEqual(['dir']);
      expect(JSON.stringify(fs.mounts())).toContain(`gs://${BUCKET}/${prefix}`);
    } finally {
      await fs.close();
    }
  });

  it('an injected Storage wins over the other settings', async () => {
    const storage = new Storage({ apiEndpoint, projectId });
    const store = new GcsStore({ bucket: BUCKET, prefix: `t-${randomUUID()}`, storage, apiEndpoint: 'http://127.0.0.1:9' });
    expect(await store.stat('x.txt')).toBeUndefined();
    expect(storage.retryOptions).toMatchObject({ autoRetry: true, maxRetries: 3 }); // its own retry policy, untouched
    await store.write('x.txt', Buffer.from('through the injected client'));
    expect((await readAll(store.read('x.txt'))).toString()).toBe('through the injected client');
  });
});

describe('GcsStore: uploads', () => {
  it('round-trips a stream of unknown size above the resumable threshold', { timeout: 120_000 }, async () => {
    const store = await makeGcsStore();
    const data = randomBytes(24 * MiB + 12_345);
    const info = await store.write('big/stream.bin', unknownSizeStream(data));
    expect(info).toMatchObject({ key: 'big/stream.bin', size: data.length, isDirectory: false });
    expect(await store.stat('big/stream.bin')).toMatchObject({ size: data.length, etag: info.etag });
    expect((await readAll(store.read('big/stream.bin'))).equals(data)).toBe(true);
    const tail = await readAll(store.read('big/stream.bin', { offset: data.length - 100_000, length: 200_000 }));
    expect(tail.equals(data.subarray(data.length - 100_000))).toBe(true);
  });

  it('a resumable upload whose source fails leaves the previous object, or nothing', { timeout: 60_000 }, async () => {
    const store = await makeGcsStore({ resumableThreshold: '256KiB' });
    await store.write('keep.bin', Buffer.from('previous'));
    const failing = (): Readable =>
      Readable.from(
        (async function* () {
          for (let i = 0; i < 6; i++) yield randomBytes(200_000);
          throw new Error('source broke');
        })(),
      );
    await expect(store.write('keep.bin', failing())).rejects.toBeTruthy();
    expect((await readAll(store.read('keep.bin'))).toString()).toBe('previous');
    await expect(store.write('fresh.bin', failing())).rejects.toBeTruthy();
    expect(await store.stat('fresh.bin')).toBeUndefined();
  });
});

describe('GcsStore: listings and copies on the emulator', () => {
  /** Lists in pages of two keys, so one listing spans many pages. */
  class SmallPages extends GcsStore {
    protected override listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
      return super.listPage(fullPrefix, { ...opts, maxKeys: opts.maxKeys ?? 2 });
    }
  }

  it('yields each directory once although the emulator repeats prefixes on every page', async () => {
    const store = new SmallPages({ bucket: BUCKET, prefix: `t-${randomUUID()}`, apiEndpoint, projectId });
    for (const key of ['a', 'b', 'c', 'd', 'e', 'x/1', 'y/2']) await store.write(key, Buffer.from(key));
    await store.write('z/', Buffer.alloc(0));
    const listed = await listAll(store, '');
    expect(listed.map((i) => i.key).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'x', 'y', 'z']);
    expect(listed.filter((i) => i.isDirectory).map((i) => i.key).sort()).toEqual(['x', 'y', 'z']);
    expect((await listAll(store, '', true)).filter((i) => !i.isDirectory)).toHaveLength(7);
  });

  it('copies through the client where the server lacks the rewrite API, small and resumable', { timeout: 60_000 }, async () => {
    const store = await makeGcsStore({ resumableThreshold: '256KiB' });
    const small = randomBytes(1000);
    const large = randomBytes(MiB + 3);
    await store.write('small.bin', small);
    await store.write('large.bin', large);
    expect(await store.copy('small.bin', 'copies/small.bin')).toMatchObject({ key: 'copies/small.bin', size: small.length });
    expect(await store.copy('large.bin', 'copies/large.bin')).toMatchObject({ key: 'copies/large.bin', size: large.length });
    expect((await readAll(store.read('copies/small.bin'))).equals(small)).toBe(true);
    expect((await readAll(store.read('copies/large.bin'))).equals(large)).toBe(true);
    expect((await readAll(store.read('large.bin'))).equals(large)).toBe(true);
    await expect(store.copy('missing.bin', 'copies/missing.bin')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('GcsStore: errors', () => {
  let missingBucket: Awaited<ReturnType<typeof startErrorServer>>;
  let forbidden: Awaited<ReturnType<typeof startErrorServer>>;
  let unavailable: Awaited<ReturnType<typeof startErrorServer>>;
  beforeAll(async () => {
    missingBucket = await startErrorServer(404, 'The specified bucket does not exist.', 'notFound');
    forbidden = await startErrorServer(403, 'tester@example.iam.gserviceaccount.com does not have storage.objects.get access.', 'forbidden');
    unavailable = await startErrorServer(503, 'Service Unavailable', 'backendError');
  });
  afterAll(async () => {
    await Promise.all([missingBucket.close(), forbidden.close(), unavailable.close()]);
  });

  it('a missing bucket is ENOENT naming it, for every operation', async () => {
    const store = new GcsStore({ bucket: 'no-such-bucket', apiEndpoint: missingBucket.endpoint, projectId });
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['stat', () => store.stat('a/b.txt')],
      ['list', () => listAll(store, '')],
      ['read', () => store.read('a/b.txt')],
      ['write', () => store.write('a/b.txt', Buffer.from('x'))],
    ];
    for (const [op, attempt] of attempts) {
      const error = await catchError(attempt());
      expect(error.code, op).toBe('ENOENT');
      expect(error.message, op).toContain("bucket 'no-such-bucket' does not exist");
    }
  });

  it('a refused request is EACCES', async () => {
    const store = new GcsStore({ bucket: BUCKET, apiEndpoint: forbidden.endpoint, projectId });
    for (const attempt of [() => store.stat('x.txt'), () => listAll(store, ''), () => store.write('x.txt', Buffer.from('x')), () => store.read('x.txt')]) {
      expect((await catchError(attempt())).code).toBe('EACCES');
    }
  });

  it('an unavailable service is a temporary EIO', async () => {
    const storage = new Storage({ apiEndpoint: unavailable.endpoint, projectId, retryOptions: { autoRetry: false } });
    const error = await catchError(listAll(new GcsStore({ bucket: BUCKET, storage }), ''));
    expect(error.code).toBe('EIO');
    expect(error.temporary).toBe(true);
  });

  it('an unreachable endpoint fails within seconds with the default options, a temporary EIO', { timeout: 180_000 }, async () => {
    // The SDK's own retries (up to 3 per request, 2 to 9 s apart) under the facade's made this 47 s.
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const store = new GcsStore({ bucket: BUCKET, apiEndpoint: endpoint, projectId });
    let started = Date.now();
    const error = await catchError(store.stat('x.txt'));
    expect(error.code).toBe('EIO');
    expect(error.temporary).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    const fs = new StrataFS();
    try {
      await fs.mount('/g', `gs://${BUCKET}/x`, { options: { apiEndpoint: endpoint, projectId } });
      started = Date.now();
      expect((await catchError(fs.stat('/g/x.txt'))).code).toBe('EIO');
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await fs.close();
    }
  });

  it('a key that cannot be used is EACCES, and the key shows nowhere', async () => {
    const privateKey = '-----BEGIN PRIVATE KEY-----\nTHIS-IS-NOT-A-REAL-KEY-0123456789\n-----END PRIVATE KEY-----\n';
    const store = new GcsStore({ bucket: BUCKET, apiEndpoint, projectId, credentials: { client_email: 'tester@example.iam.gserviceaccount.com', private_key: privateKey } });
    const error = await catchError(store.stat('x.txt'));
    expect(error.code).toBe('EACCES');
    for (const shown of [everythingShown(error), inspect(store, { depth: 10, showHidden: true }), JSON.stringify(store), store.uri]) {
      expect(shown).not.toContain('THIS-IS-NOT-A-REAL-KEY');
    }
  });

  it('a keyFilename that cannot be read or holds no key is EACCES naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stratafs-gcs-key-'));
    try {
      const broken = join(dir, 'broken.json');
      await writeFile(broken, '{ "type": "service_account", }');
      const pem = join(dir, 'key.pem');
      await writeFile(pem, '-----BEGIN PRIVATE KEY-----\nNOT-A-KEY\n-----END PRIVATE KEY-----\n');
      for (const [keyFilename, why] of [[join(dir, 'missing.json'), 'cannot be read (ENOENT)'], [dir, 'cannot be read'], [broken, 'does not hold a usable service account key'], [pem, 'does not hold a usable service account key']] as const) {
        const store = new GcsStore({ bucket: BUCKET, apiEndpoint, projectId, keyFilename });
        const error = await catchError(store.stat('x.txt'));
        expect(error.code, keyFilename).toBe('EACCES');
        expect(error.message, keyFilename).toContain(`GCS keyFilename '${keyFilename}' ${why}`);
        expect(everythingShown(error)).not.toContain('NOT-A-KEY');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
