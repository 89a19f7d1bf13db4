/**
 * The S3 connector against a real S3 server (s3rver on loopback, started by
 * test/support/s3.global-setup.ts): the shared conformance suites, plus what is S3's own —
 * multipart uploads, batch deletes, error mapping, URI and settings validation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { CreateBucketCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StrataError } from '../../src/errors.js';
import { StrataFS } from '../../src/index.js';
import { copyInParts } from '../../src/store/s3/copy.js';
import { S3Store } from '../../src/store/s3/index.js';
import { describeFacadeConformance } from '../conformance/facade-suite.js';
import { describeStoreConformance, listAll, readAll } from '../conformance/store-suite.js';
import { S3RVER_CREDENTIALS } from '../support/s3-server.js';
import { TEST_BUCKET, ensureBucket, freshPrefix, makeS3Client, makeS3Store, s3ClientConfig } from '../support/s3.js';
import { unknownSizeStream, everythingShown, catchError } from '../support/helpers.js';

const MiB = 1024 * 1024;

describeStoreConformance('s3', () => makeS3Store());

describeFacadeConformance('s3', () => makeS3Store());

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}



/** The S3 operation an HTTP request is (as S3's access logs name it). */
function operationOf(req: IncomingMessage): string {
  const url = new URL(req.url ?? '/', 'http://x');
  const q = url.searchParams;
  const id = q.get('x-id');
  if (id !== null) return id;
  if (q.has('list-type')) return 'ListObjectsV2';
  if (q.has('delete')) return 'DeleteObjects';
  if (q.has('uploads')) return req.method === 'POST' ? 'CreateMultipartUpload' : 'ListMultipartUploads';
  if (q.has('uploadId')) return req.method === 'POST' ? 'CompleteMultipartUpload' : req.method === 'DELETE' ? 'AbortMultipartUpload' : 'UploadPart';
  if (req.method === 'HEAD') return 'HeadObject';
  if (req.method === 'GET') return 'GetObject';
  if (req.method === 'PUT') return 'x-amz-copy-source' in req.headers ? 'CopyObject' : 'PutObject';
  return `${req.method} ${url.search}`;
}

/**
 * A loopback proxy in front of the run's s3rver that records the operation of each request
 * (what S3's access logs would show), to check how the connector talks to S3.
 */
async function recordingProxy(): Promise<{ endpoint: string; requests: string[]; deleteBatches: number[]; close: () => Promise<void> }> {
  const target = new URL(inject('s3Endpoint'));
  const requests: string[] = [];
  const deleteBatches: number[] = [];
  const server = createServer((req, res) => {
    const operation = operationOf(req);
    requests.push(operation);
    if (operation === 'DeleteObjects') {
      const body: Buffer[] = [];
      req.on('data', (chunk: Buffer) => body.push(chunk));
      req.on('end', () => deleteBatches.push(Buffer.concat(body).toString().split('<Key>').length - 1));
    }
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    deleteBatches,
    close: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}


describe('S3Store: multipart uploads', () => {
  it('round-trips a stream of unknown size above the threshold as a multipart upload', { timeout: 120_000 }, async () => {
    const proxy = await recordingProxy();
    const store = await makeS3Store({ endpoint: proxy.endpoint, multipartThreshold: 5 * MiB, partSize: 5 * MiB, queueSize: 2 });
    try {
      const data = randomBytes(12 * MiB + 12_345);
      const info = await store.write('big/stream.bin', unknownSizeStream(data));
      expect(info).toMatchObject({ key: 'big/stream.bin', size: data.length, isDirectory: false });
      // three parts: 5 MiB, 5 MiB and the rest
      expect(proxy.requests.filter((r) => r !== 'HeadObject')).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload']);
      const back = await readAll(store.read('big/stream.bin'));
      expect(back.equals(data)).toBe(true);
      expect(await store.stat('big/stream.bin')).toMatchObject({ size: data.length, etag: info.etag });
      const middle = await readAll(store.read('big/stream.bin', { offset: 5 * MiB - 10, length: 20 }));
      expect(middle.equals(data.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('uploads a Buffer above the threshold in parts, and one up to it in a single PUT', { timeout: 120_000 }, async () => {
    const proxy = await recordingProxy();
    const store = await makeS3Store({ endpoint: proxy.endpoint, multipartThreshold: '5MiB', partSize: '5MiB' });
    try {
      const data = randomBytes(11 * MiB);
      const info = await store.write('buf.bin', data);
      expect(info.size).toBe(data.length);
      expect(proxy.requests.filter((r) => r === 'UploadPart').length).toBe(3);
      expect((await readAll(store.read('buf.bin'))).equals(data)).toBe(true);
      proxy.requests.length = 0;
      const small = randomBytes(5 * MiB);
      expect(await store.write('small.bin', small)).toMatchObject({ size: small.length, etag: md5(small) });
      expect(await store.write('small-stream.bin', unknownSizeStream(small))).toMatchObject({ size: small.length, etag: md5(small) });
      expect(proxy.requests.filter((r) => r !== 'HeadObject')).toEqual(['PutObject', 'PutObject']);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('a stream failing after some parts keeps the previous object and reports the stream error', { timeout: 120_000 }, async () => {
    const store = await makeS3Store({ multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    try {
      await store.write('keep.bin', Buffer.from('previous'));
      const body = Readable.from(
        (async function* () {
          for (let i = 0; i < 3; i++) yield randomBytes(4 * MiB);
          throw Object.assign(new Error('source broke'), { code: 'ESOURCE' });
        })(),
      );
      const error = await catchError(store.write('keep.bin', body));
      expect(error.message).toContain('source broke'); // not the abort's own error
      expect((await readAll(store.read('keep.bin'))).toString()).toBe('previous');
      expect((await listAll(store, '', true)).map((i) => i.key)).toEqual(['keep.bin']);
    } finally {
      await store.close();
    }
  });

  it('an abort during a multipart upload keeps the previous object', { timeout: 120_000 }, async () => {
    const store = await makeS3Store({ multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    try {
      await store.write('abort.bin', Buffer.from('previous'));
      const controller = new AbortController();
      const body = Readable.from(
        (async function* () {
          for (let i = 0; i < 4; i++) yield randomBytes(4 * MiB);
          controller.abort();
          for (let i = 0; i < 4; i++) yield randomBytes(4 * MiB);
        })(),
      );
      await expect(store.write('abort.bin', body, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect((await readAll(store.read('abort.bin'))).toString()).toBe('previous');
      expect((await listAll(store, '', true)).map((i) => i.key)).toEqual(['abort.bin']);
    } finally {
      await store.close();
    }
  });

  it('close() and unmount() abort the multipart upload of a write stream never ended, before they close the store, and the stream fails', { timeout: 120_000 }, async () => {
    const proxy = await recordingProxy();
    await ensureBucket();
    const fs = new StrataFS();
    try {
      // Mounted by URI: the store is stratafs's own, and close() closes it (its client with it).
      await fs.mount('/s3', `s3://${TEST_BUCKET}/${freshPrefix()}`, { options: { ...s3ClientConfig(proxy.endpoint), multipartThreshold: '5MiB', partSize: '5MiB' } });
      const stream = fs.createWriteStream('/s3/open.bin');
      const failed = new Promise<Error>((resolve) => stream.on('error', resolve));
      stream.write(randomBytes(11 * MiB)); // two parts go; the writer then never ends the stream
      while (proxy.requests.filter((r) => r === 'UploadPart').length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      await fs.close();
      expect(proxy.requests.filter((r) => r !== 'HeadObject' && r !== 'ListObjectsV2')).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'AbortMultipartUpload']);
      expect(await failed).toMatchObject({ name: 'StrataError', code: 'EINVAL', message: expect.stringContaining('this StrataFS is closed') });
      const again = new StrataFS();
      proxy.requests.length = 0;
      try {
        await again.mount('/s3', `s3://${TEST_BUCKET}/${freshPrefix()}`, { options: { ...s3ClientConfig(proxy.endpoint), multipartThreshold: '5MiB', partSize: '5MiB' } });
        const open = again.createWriteStream('/s3/open.bin');
        const unmounted = new Promise<Error>((resolve) => open.on('error', resolve));
        open.write(randomBytes(11 * MiB));
        while (proxy.requests.filter((r) => r === 'UploadPart').length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
        await again.unmount('/s3');
        expect(proxy.requests.filter((r) => r !== 'HeadObject' && r !== 'ListObjectsV2')).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'AbortMultipartUpload']);
        expect(await unmounted).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('the mount was unmounted during the operation') });
      } finally {
        await again.close();
      }
    } finally {
      await fs.close();
      await proxy.close();
    }
  });

  // s3rver 3.7.1 bug: it has no AbortMultipartUpload (answers 405) nor ListMultipartUploads, so
  // the parts of an aborted upload can neither be dropped nor seen there. On S3 this passes.
  it.skip('a failed multipart upload leaves no pending upload behind (s3rver: no AbortMultipartUpload)', async () => {
    const store = await makeS3Store({ multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    const client = makeS3Client();
    try {
      const body = Readable.from(
        (async function* () {
          yield randomBytes(6 * MiB);
          throw new Error('source broke');
        })(),
      );
      await expect(store.write('pending.bin', body)).rejects.toBeTruthy();
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: TEST_BUCKET, Prefix: store.uri.replace(`s3://${TEST_BUCKET}/`, '') }));
      expect(uploads.Uploads ?? []).toEqual([]);
    } finally {
      client.destroy();
      await store.close();
    }
  });

  // s3rver 3.7.1 bug: no UploadPartCopy, which S3 needs to copy objects above 5 GiB. On S3 this passes.
  it.skip('copies in parts with UploadPartCopy (s3rver: no UploadPartCopy)', async () => {
    const store = await makeS3Store();
    const client = makeS3Client();
    try {
      await store.write('src.bin', randomBytes(1000));
      const prefix = store.uri.replace(`s3://${TEST_BUCKET}/`, '');
      await copyInParts({ client, bucket: TEST_BUCKET, from: `${prefix}/src.bin`, to: `${prefix}/dst.bin`, queueSize: 2 });
      expect((await readAll(store.read('dst.bin'))).equals(await readAll(store.read('src.bin')))).toBe(true);
    } finally {
      client.destroy();
      await store.close();
    }
  });
});

describe('S3Store: batch delete and copy', () => {
  it('deleteMany removes more than 1,000 keys (several DeleteObjects batches)', { timeout: 180_000 }, async () => {
    const proxy = await recordingProxy();
    const store = await makeS3Store({ endpoint: proxy.endpoint });
    const client = makeS3Client();
    try {
      const prefix = store.uri.replace(`s3://${TEST_BUCKET}/`, '');
      const keys = Array.from({ length: 1_234 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`);
      // Seed with the raw SDK (one request per key) to keep the test short.
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < keys.length) {
            const key = keys[next++]!;
            await client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/${key}`, Body: key }));
          }
        }),
      );
      await store.write('kept.txt', Buffer.from('kept'));
      expect((await listAll(store, 'many')).length).toBe(keys.length);
      proxy.requests.length = 0;
      await store.deleteMany([...keys, 'many/never-existed.txt']);
      expect(new Set(proxy.requests)).toEqual(new Set(['DeleteObjects']));
      // Batches of 1,000 + 235 keys. (s3rver sometimes answers a batch with a 500 — it deletes a
      // batch's keys concurrently and races on removing the emptied directories — and the SDK
      // sends that batch again, so only the distinct sizes are checked.)
      expect([...new Set(proxy.deleteBatches)].sort((a, b) => b - a)).toEqual([1000, 235]);
      expect(await listAll(store, 'many')).toEqual([]);
      expect(await store.stat('many')).toBeUndefined();
      expect((await listAll(store, '', true)).map((i) => i.key)).toEqual(['kept.txt']);
    } finally {
      client.destroy();
      await store.close();
      await proxy.close();
    }
  });

  it('copies keys with spaces and non-ASCII characters', async () => {
    const store = await makeS3Store();
    try {
      await store.write('dir one/café ü.txt', Buffer.from('payload'));
      const info = await store.copy('dir one/café ü.txt', 'dir two/naïve ü.txt');
      expect(info).toMatchObject({ key: 'dir two/naïve ü.txt', size: 7 });
      expect((await readAll(store.read('dir two/naïve ü.txt'))).toString()).toBe('payload');
    } finally {
      await store.close();
    }
  });

  it("copies keys with '+' (sent as %2B, which S3 requires)", async () => {
    const store = await makeS3Store();
    try {
      await store.write('a+b.txt', Buffer.from('plus'));
      await store.copy('a+b.txt', 'c+d.txt');
      expect((await readAll(store.read('c+d.txt'))).toString()).toBe('plus');
    } finally {
      await store.close();
    }
  });

  it('copy of a missing key is ENOENT', async () => {
    const store = await makeS3Store();
    try {
      await expect(store.copy('nope.txt', 'dst.txt')).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await store.close();
    }
  });
});

describe('S3Store: keys no path can name', () => {
  it('rm -r of a directory holding some fails with ENOTEMPTY, after deleting what it can name; the caches forget what it deleted', async () => {
    await ensureBucket();
    const prefix = freshPrefix();
    const client = makeS3Client();
    try {
      for (const key of ['logs/visible.txt', 'logs/tab\tname', 'logs/sub/deep.txt']) {
        await client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/${key}`, Body: 'x' }));
      }
      const fs = new StrataFS({ metadata: { syncInterval: 60_000 } });
      try {
        await fs.mount('/', await makeS3Store({ prefix }));
        expect(await fs.readdir('/logs', { recursive: true })).toEqual(['sub', 'sub/deep.txt', 'visible.txt']);
        expect((await fs.readFile('/logs/visible.txt')).toString()).toBe('x');
        const error = await catchError(fs.rm('/logs', { recursive: true }));
        expect(error).toMatchObject({ code: 'ENOTEMPTY', path: '/logs' });
        expect((error as Error).message).toContain('no path can name');
        await expect(fs.readFile('/logs/visible.txt')).rejects.toMatchObject({ code: 'ENOENT' });
        expect(await fs.readdir('/logs', { recursive: true })).toEqual([]);
      } finally {
        await fs.close();
      }
    } finally {
      client.destroy();
    }
  });
});

describe('S3Store: errors from the server', () => {
  it('a missing bucket is ENOENT naming the bucket', async () => {
    const store = await makeS3Store({ bucket: 'no-such-bucket-here', prefix: 'p' });
    try {
      for (const attempt of [() => store.stat('x.txt'), () => readAll(store.read('x.txt')), () => listAll(store, ''), () => store.write('x.txt', Buffer.from('x'))]) {
        const error = await catchError(attempt());
        expect(error.code).toBe('ENOENT');
        expect(error.message).toContain("'no-such-bucket-here'");
      }
    } finally {
      await store.close();
    }
  });

  it('an unknown access key is EACCES, and no secret shows anywhere', async () => {
    const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET';
    const sessionToken = 'FwoGZXIvYXdzEzzSESSIONTOKEN';
    const store = await makeS3Store({ credentials: { accessKeyId: 'AKIANOTKNOWNTOS3RVER', secretAccessKey, sessionToken } });
    try {
      for (const attempt of [() => store.stat('x.txt'), () => readAll(store.read('x.txt')), () => listAll(store, ''), () => store.write('x.txt', Buffer.from('x'))]) {
        const error = await catchError(attempt());
        expect(error.code).toBe('EACCES');
        expect(error.temporary).toBe(false);
        // A HEAD answer has no body: the message says what its status means, not 'UnknownError'.
        expect(error.message).not.toMatch(/UnknownError/);
        expect(error.detail.length).toBeGreaterThan(20);
        const shown = everythingShown(error);
        expect(shown).not.toContain(secretAccessKey);
        expect(shown).not.toContain(sessionToken);
        expect(shown).not.toMatch(/Signature=[0-9a-f]{8}/);
      }
      const shownStore = inspect(store, { depth: Infinity, showHidden: true });
      expect(shownStore).not.toContain(secretAccessKey);
      expect(shownStore).not.toContain(sessionToken);
      expect(store.uri).not.toContain(secretAccessKey);
    } finally {
      await store.close();
    }
  });

  it('util.inspect of a working store shows no secret', async () => {
    // s3rver checks the access key id but not the signature, so any secret works here.
    const secretAccessKey = 'zzTOP-SECRET-VALUE-0123456789';
    const store = await makeS3Store({ credentials: { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey } });
    try {
      await store.write('a.txt', Buffer.from('a'));
      expect((await readAll(store.read('a.txt'))).toString()).toBe('a');
      for (const shown of [inspect(store, { depth: Infinity, showHidden: true }), JSON.stringify(store), store.uri, String(store)]) {
        expect(shown).not.toContain(secretAccessKey);
      }
    } finally {
      await store.close();
    }
  });
});

/**
 * A loopback HTTP server answering like S3 does when things go wrong: throttling, 5xx, a refused
 * signature (with the signature details S3 echoes), or no answer at all.
 */
describe('S3Store: error mapping of S3 failure answers', () => {
  let server: Server;
  let endpoint: string;

  const xmlError = (code: string, message: string, extra = ''): string =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>R1</RequestId></Error>`;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const key = decodeURIComponent((req.url ?? '').split('?')[0]!.split('/').slice(2).join('/'));
      const send = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'R1' });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      req.resume();
      switch (key) {
        case 'slowdown':
          return send(503, xmlError('SlowDown', 'Please reduce your request rate.'));
        case 'throttled':
          return send(429, xmlError('TooManyRequests', 'Too many requests.'));
        case 'internal':
          return send(500, xmlError('InternalError', 'We encountered an internal error. Please try again.'));
        case 'signature':
          return send(
            403,
            xmlError(
              'SignatureDoesNotMatch',
              'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
              '<AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 20240101T000000Z</StringToSign><SignatureProvided>0123456789abcdef0123456789abcdef</SignatureProvided>',
            ),
          );
        case 'denied':
          return send(403, xmlError('AccessDenied', 'Access Denied'));
        case 'hang':
          return; // never answers
        case 'no-range': {
          // a server that ignores Range and sends the whole object
          res.writeHead(200, { 'content-length': '10', etag: '"e"', 'last-modified': new Date().toUTCString() });
          return res.end(req.method === 'HEAD' ? undefined : '0123456789');
        }
        default:
          return send(404, xmlError('NoSuchKey', 'The specified key does not exist.'));
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  /** A store on the fault server with an injected client that does not retry (the retry layer does). */
  function faultyStore(): { store: S3Store; destroy: () => void } {
    const client = makeS3Client({ endpoint, maxAttempts: 1, requestHandler: { requestTimeout: 500, throwOnRequestTimeout: true } });
    return { store: new S3Store({ bucket: 'faults', client }), destroy: () => client.destroy() };
  }

  it('throttling and 5xx are temporary EIO; refusals are EACCES without the signature; silence is ETIMEDOUT', async () => {
    const { store, destroy } = faultyStore();
    try {
      for (const key of ['slowdown', 'throttled', 'internal']) {
        const error = await catchError(readAll(store.read(key)));
        expect(error.code, key).toBe('EIO');
        expect(error.temporary, key).toBe(true);
      }
      const refused = await catchError(readAll(store.read('signature')));
      expect(refused.code).toBe('EACCES');
      expect(refused.temporary).toBe(false);
      expect(everythingShown(refused)).not.toContain('0123456789abcdef0123456789abcdef');
      expect(everythingShown(refused)).not.toContain('AWS4-HMAC-SHA256 20240101T000000Z');
      expect((await catchError(readAll(store.read('denied')))).code).toBe('EACCES');
      expect((await catchError(readAll(store.read('missing'))))).toMatchObject({ code: 'ENOENT', temporary: false });
      const silent = await catchError(readAll(store.read('hang')));
      expect(silent.code).toBe('ETIMEDOUT');
      expect(silent.temporary).toBe(true);
    } finally {
      await store.close();
      destroy();
    }
  });

  it('a range is cut out of the whole object when a server ignores Range', async () => {
    const { store, destroy } = faultyStore();
    try {
      expect((await readAll(store.read('no-range', { offset: 3, length: 4 }))).toString()).toBe('3456');
      expect((await readAll(store.read('no-range', { offset: 8 }))).toString()).toBe('89');
      expect((await readAll(store.read('no-range'))).toString()).toBe('0123456789');
    } finally {
      await store.close();
      destroy();
    }
  });

  it('an injected client is used as it is and left open by close()', async () => {
    await ensureBucket();
    const client = makeS3Client();
    try {
      const prefix = freshPrefix();
      const store = new S3Store({ bucket: TEST_BUCKET, prefix, client, region: 'eu-west-3', endpoint: 'http://127.0.0.1:9' });
      await store.write('a.txt', Buffer.from('via injected client'));
      await store.close();
      const again = new S3Store({ bucket: TEST_BUCKET, prefix, client });
      expect((await readAll(again.read('a.txt'))).toString()).toBe('via injected client');
    } finally {
      client.destroy();
    }
  });
});

describe('S3Store: URI and settings', () => {
  const settings = { ...s3ClientConfig('http://127.0.0.1:1'), region: 'us-east-1' };

  it('parses s3://bucket/prefix into the store root', async () => {
    const store = S3Store.fromUri(new URL('s3://my-bucket/data/2024/'), settings);
    expect(store.bucket).toBe('my-bucket');
    expect(store.uri).toBe('s3://my-bucket/data/2024');
    expect(S3Store.fromUri(new URL('s3://my-bucket'), {}).uri).toBe('s3://my-bucket');
    expect(S3Store.fromUri(new URL('s3://my.bucket_1/a%20b/c'), {}).uri).toBe('s3://my.bucket_1/a%20b/c');
    expect(S3Store.fromUri(new URL('s3://bkt//x/y/'), {}).uri).toBe('s3://bkt/x/y');
  });

  it('the mount prefix is the root of every key', async () => {
    await ensureBucket();
    const prefix = freshPrefix();
    const store = S3Store.fromUri(new URL(`s3://${TEST_BUCKET}/${prefix}/nested`), s3ClientConfig());
    const outer = S3Store.fromUri(new URL(`s3://${TEST_BUCKET}/${prefix}`), s3ClientConfig());
    try {
      await store.write('f.txt', Buffer.from('inside'));
      expect((await readAll(outer.read('nested/f.txt'))).toString()).toBe('inside');
      expect((await listAll(outer, '')).map((i) => [i.key, i.isDirectory])).toEqual([['nested', true]]);
    } finally {
      await store.close();
      await outer.close();
    }
  });

  it.each([
    ['s3://ab/x', '3 to 63'],
    [`s3://${'a'.repeat(64)}/x`, '3 to 63'],
    ['s3://Upper-Case/x', 'lowercase'],
    ['s3://-leading/x', 'start and end'],
    ['s3://trailing-/x', 'start and end'],
    ['s3://a..b/x', "'..'"],
    ['s3://192.168.1.20/x', 'IP address'],
    ['s3:///x', 'needs a bucket'],
    ['s3://bucket:9000/x', 'port'],
    ['s3://bucket/x?region=eu', 'query'],
    ['s3://user:pw@bucket/x', 'credentials'],
    ['s3://bucket/a/%2e%2e%2fb/..%2f..', "'..'"],
    ['s3://bucket/x//y', 'empty'],
    ['gs://bucket/x', 'S3 URI'],
  ])('rejects %s with EINVAL', (uri, fragment) => {
    const attempt = (): unknown => S3Store.fromUri(new URL(uri), {});
    expect(attempt).toThrow(StrataError);
    try {
      attempt();
    } catch (error) {
      expect((error as StrataError).code).toBe('EINVAL');
      expect((error as StrataError).message.toLowerCase()).toContain(fragment.toLowerCase());
    }
  });

  it('rejects unknown setting names, naming them', () => {
    try {
      S3Store.fromUri(new URL('s3://bucket/x'), { regoin: 'eu-west-1', accessKey: 'x', region: 'eu-west-1' });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'EINVAL' });
      expect((error as Error).message).toContain('regoin');
      expect((error as Error).message).toContain('accessKey');
    }
  });

  it.each([
    [{ region: 42 }, 'region'],
    [{ region: '' }, 'region'],
    [{ endpoint: 'ftp://host' }, 'endpoint'],
    [{ endpoint: 'not a url' }, 'endpoint'],
    [{ endpoint: 'http://key:ZZSECRETZZ@host' }, 'endpoint'],
    [{ forcePathStyle: 'yes' }, 'forcePathStyle'],
    [{ credentials: 'AKIA:ZZSECRETZZ' }, 'credentials'],
    [{ credentials: { accessKeyId: 'AKIA' } }, 'credentials.secretAccessKey'],
    [{ credentials: { accessKeyId: 'AKIA', secretAccessKey: 'ZZSECRETZZ', sessionToken: 42 } }, 'sessionToken'],
    [{ client: {} }, 'client'],
    [{ multipartThreshold: -1 }, 'multipartThreshold'],
    [{ multipartThreshold: '6GiB' }, 'multipartThreshold'],
    [{ partSize: '1MiB' }, 'partSize'],
    [{ partSize: 'big' }, 'partSize'],
    [{ queueSize: 0 }, 'queueSize'],
    [{ queueSize: 2.5 }, 'queueSize'],
  ])('rejects settings %o with EINVAL naming the setting', (bad, name) => {
    try {
      S3Store.fromUri(new URL('s3://bucket/x'), bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'EINVAL' });
      expect((error as Error).message).toContain(name);
      expect((error as Error).message).not.toContain('ZZSECRETZZ');
    }
  });

  it('the constructor rejects unknown option names too', () => {
    expect(() => new S3Store({ bucket: 'bucket', bukcet: 'x' } as never)).toThrow(/bukcet/);
  });

  it('accepts every documented setting', () => {
    const store = S3Store.fromUri(new URL('s3://bucket/x'), {
      region: 'eu-west-1',
      endpoint: 'https://s3.example.com',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret', sessionToken: 'token' },
      multipartThreshold: '16MiB',
      partSize: 16 * MiB,
      queueSize: 8,
    });
    expect(store.uri).toBe('s3://bucket/x');
    // credentials objects the SDK has seen carry extra fields; they are not an error
    expect(() => new S3Store({ bucket: 'bucket', credentials: { accessKeyId: 'AKIA', secretAccessKey: 's', $source: {}, expiration: new Date() } as never })).not.toThrow();
    expect(store.capabilities).toMatchObject({ rangeRead: true, list: true, copy: true, rename: false, directories: false });
  });

  it('the bucket can be created and used by name right after validation', async () => {
    const client = makeS3Client();
    const bucket = `b-${freshPrefix().slice(2, 14)}.x-y`;
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const store = S3Store.fromUri(new URL(`s3://${bucket}/p`), s3ClientConfig());
      await store.write('k', Buffer.from('v'));
      expect((await readAll(store.read('k'))).toString()).toBe('v');
      await store.close();
    } finally {
      client.destroy();
    }
  });
});
