import COS from 'cos-nodejs-sdk-v5';
import { inject } from 'vitest';
import { CosStore } from '../../src/store/cos/cos-store.js';
import { describeFaults } from './fault-suite.js';

const wire = inject('wireServer');
const { bucket, region, secretId, secretKey } = wire.cos;
/** The domain of a server at `endpoint` that takes the bucket in the path (as the test server does). */
const domain = (endpoint: string): string => `${new URL(endpoint).host}/{Bucket}`;
const direct = new COS({ SecretId: secretId, SecretKey: secretKey, Domain: domain(wire.endpoint), Protocol: 'http:' });

describeFaults('Tencent COS', {
  upstream: () => wire.endpoint,
  // The store makes its own client, as a user's would. Its downloads stream into an Output, which
  // cos-nodejs-sdk-v5 never retries; other requests it re-sends up to 3 times on a 5xx or a
  // broken connection, and it has no setting to turn that off.
  makeStore: async (endpoint, prefix) => new CosStore({ bucket, region, prefix, domain: domain(endpoint), protocol: 'http', secretId, secretKey }),
  put: async (prefix, key, data) => void (await direct.putObject({ Bucket: bucket, Region: region, Key: `${prefix}/${key}`, Body: data })),
  uploadMethod: 'PUT',
});
