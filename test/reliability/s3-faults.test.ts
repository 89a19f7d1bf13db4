import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { S3Store } from '../../src/index.js';
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
