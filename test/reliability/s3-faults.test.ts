import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store, StrataFS } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { TEST_BUCKET, ensureBucket, makeS3Client, s3ClientConfig } from '../support/s3.js';
import { describeFaults } from './fault-suite.js';

let direct: S3Client;
beforeAll(async () => {
  await ensureBucket();
  direct = makeS3Client();
});
afterAll(() => direct.destroy());

describeFaults('S3', {
  upstream: () => s3ClientConfig().endpoint,
  // The SDK's own retries are off (maxAttempts 1): what recovers is stratafs.
  makeStore: async (endpoint, prefix) => new S3Store({ bucket: TEST_BUCKET, prefix, client: new S3Client({ ...s3ClientConfig(endpoint), maxAttempts: 1 }) }),
  put: async (prefix, key, data) => void (await direct.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/${key}`, Body: data }))),
  uploadMethod: 'PUT',
});

describe('S3 whose stat lags behind a write', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(s3ClientConfig().endpoint);
  });
  afterAll(() => proxy.close());

  it('writeFile answers, and stat then reports, the bytes written, not the lagging HEAD', async () => {
    const store = new S3Store({ bucket: TEST_BUCKET, prefix: `lag-${Date.now()}`, client: new S3Client({ ...s3ClientConfig(proxy.endpoint), maxAttempts: 1 }) });
    const fs = new StrataFS({ metadata: { syncInterval: 60_000 } });
    try {
      await fs.mount('/', store);
      // The HEADs see an empty object: the one before the PUT finds none anyway, and the one right
      // after it sees no bytes yet (as a store still writing them would).
      proxy.add({ method: 'HEAD', headers: { 'content-length': '0' }, times: 2 });
      const info = await fs.writeFile('/lag.txt', 'hello');
      expect(proxy.applied).toBe(2);
      expect(info).toMatchObject({ size: 5, type: 'file' });
      expect((await fs.stat('/lag.txt')).size).toBe(5);
      expect((await fs.readFile('/lag.txt')).toString()).toBe('hello');
    } finally {
      await fs.close();
      await store.close?.();
    }
  });
});
