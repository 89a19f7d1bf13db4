/**
 * Faults between the S3 SDK and a real S3 server (s3rver), injected by a proxy, with the
 * retry/timeout layers on. The SDK's own retries are off (maxAttempts 1) so that what recovers
 * is stratafs.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { S3Store } from '../../src/store/s3/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { expectCode, randomBytes, tempDir } from '../support/helpers.js';
import { TEST_BUCKET, ensureBucket, freshPrefix, makeS3Client, s3ClientConfig } from '../support/s3.js';

const PAGE = 64 * 1024;

describe('S3 under injected faults', () => {
  let proxy: FaultProxy;
  let client: S3Client;
  let direct: S3Client;
  let fs: StrataFS;
  let prefix: string;

  beforeAll(async () => {
    await ensureBucket();
    proxy = await startFaultProxy(s3ClientConfig().endpoint);
    client = new S3Client({ ...s3ClientConfig(proxy.endpoint), maxAttempts: 1 });
    direct = makeS3Client();
  });
  afterAll(async () => {
    client.destroy();
    direct.destroy();
    await proxy.close();
  });
  beforeEach(async () => {
    prefix = freshPrefix();
    fs = new StrataFS({ cache: { pageSize: PAGE }, retry: { attempts: 4, minDelay: 5, maxDelay: 20 }, timeout: 1000, metadata: { syncInterval: 0 } });
    await fs.mount('/s3', new S3Store({ bucket: TEST_BUCKET, prefix, client }));
  });
  afterEach(async () => {
    proxy.clear();
    await fs.close();
  });
  const put = (key: string, body: Buffer): Promise<unknown> => direct.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/${key}`, Body: body }));

  it('transient 503/500/429 answers are retried and the read succeeds', async () => {
    const data = randomBytes(3 * PAGE);
    await put('a.bin', data);
    const before = proxy.applied;
    proxy.add({ method: 'GET', status: 503 });
    proxy.add({ method: 'GET', status: 500 });
    proxy.add({ method: 'HEAD', status: 429 });
    expect((await fs.readFile('/s3/a.bin')).equals(data)).toBe(true);
    expect(proxy.applied - before).toBe(3);
  });

  it('persistent errors end in EIO with the path', async () => {
    await put('p.bin', randomBytes(10));
    proxy.add({ method: 'HEAD', status: 503, times: 100 });
    const error = await expectCode(fs.readFile('/s3/p.bin'), 'EIO');
    expect(error.path).toBe('/s3/p.bin');
  });

  it('connection resets before and during the body are retried; the bytes are right', async () => {
    const data = randomBytes(4 * PAGE);
    await put('r.bin', data);
    await fs.stat('/s3/r.bin');
    const before = proxy.applied;
    proxy.add({ method: 'GET', reset: 'before' });
    proxy.add({ method: 'GET', reset: 'during' });
    expect((await fs.readFile('/s3/r.bin')).equals(data)).toBe(true);
    expect(proxy.applied - before).toBe(2);
  });

  it('a truncated body with a correct Content-Length is never cached nor returned', async () => {
    const data = randomBytes(4 * PAGE);
    await put('t.bin', data);
    await fs.stat('/s3/t.bin');
    proxy.add({ method: 'GET', truncate: true, times: 100 });
    await expectCode(fs.readFile('/s3/t.bin'), 'EIO');
    expect(fs.stats().memory.pages).toBe(0);
    proxy.clear();
    expect((await fs.readFile('/s3/t.bin')).equals(data)).toBe(true);
  });

  it('a body slower than the timeout ends in ETIMEDOUT', async () => {
    await put('slow.bin', randomBytes(2 * PAGE));
    await fs.stat('/s3/slow.bin');
    proxy.add({ method: 'GET', delayBodyMs: 3000, times: 100 });
    const error = await expectCode(fs.readFile('/s3/slow.bin'), 'ETIMEDOUT');
    expect(error.path).toBe('/s3/slow.bin');
  });

  it('a wrong Content-Range does not change what is returned', async () => {
    const data = randomBytes(2 * PAGE);
    await put('cr.bin', data);
    proxy.add({ method: 'GET', header: 'range', contentRange: 'bytes 0-9/10', times: 5 });
    expect((await fs.readFile('/s3/cr.bin', { offset: PAGE, length: PAGE })).equals(data.subarray(PAGE))).toBe(true);
  });

  it('an object that changes between two page fetches never yields a mixed result', async () => {
    await put('m.bin', Buffer.alloc(4 * PAGE, 1));
    const handle = await fs.open('/s3/m.bin');
    expect([...new Set(await handle.readRange(0, PAGE))]).toEqual([1]);
    await put('m.bin', Buffer.alloc(4 * PAGE, 2));
    await expectCode(handle.readRange(2 * PAGE, PAGE), 'ESTALE');
    const whole = await fs.readFile('/s3/m.bin');
    expect([...new Set(whole)]).toEqual([2]);
  });

  it('an aborted upload leaves the old object', async () => {
    await put('w.bin', Buffer.from('old'));
    const controller = new AbortController();
    const body = new Readable({ read() {} });
    const write = fs.writeFile('/s3/w.bin', body, { signal: controller.signal });
    body.push(randomBytes(PAGE));
    setTimeout(() => controller.abort(), 50);
    await expect(write).rejects.toBeTruthy();
    expect((await fs.readFile('/s3/w.bin')).toString()).toBe('old');
  });

  it('a connection dropped mid-upload leaves the old object', async () => {
    await put('d.bin', Buffer.from('old'));
    proxy.add({ method: 'PUT', reset: 'before', times: 100 });
    await expect(fs.writeFile('/s3/d.bin', randomBytes(2 * PAGE))).rejects.toMatchObject({ code: 'EIO' });
    proxy.clear();
    expect((await fs.readFile('/s3/d.bin')).toString()).toBe('old');
  });

  it('ASYNC_THROUGH uploads survive a store outage and finish when it returns', async () => {
    const cache = await tempDir();
    const async = new StrataFS({ cache: { disk: { dir: cache.dir } }, retry: { attempts: 1, minDelay: 10, maxDelay: 50 } });
    try {
      await async.mount('/s3', new S3Store({ bucket: TEST_BUCKET, prefix, client }));
      const before = proxy.applied;
      proxy.add({ method: 'PUT', status: 503, times: 3 });
      await async.writeFile('/s3/later.txt', 'arrives', { writeType: 'ASYNC_THROUGH' });
      await async.flush();
      expect(proxy.applied - before).toBe(3);
    } finally {
      await async.close();
      await cache.cleanup();
    }
    expect((await fs.readFile('/s3/later.txt')).toString()).toBe('arrives');
  });
});
