import OSS from 'ali-oss';
import { inject } from 'vitest';
import type { AliOssClient, AliOssClientOptions } from '../../src/store/oss/ali-oss-types.js';
import { OssStore } from '../../src/store/oss/oss-store.js';
import { describeFaults } from './fault-suite.js';

const wire = inject('wireServer');
const { bucket, accessKeyId, accessKeySecret } = wire.oss;
const direct = new (OSS as unknown as new (o: AliOssClientOptions) => AliOssClient)({ bucket, endpoint: wire.endpoint, sldEnable: true, accessKeyId, accessKeySecret });

describeFaults('Aliyun OSS', {
  upstream: () => wire.endpoint,
  // The store makes its own client, as a user's would; ali-oss retries nothing (its retryMax is 0): what recovers is stratafs.
  makeStore: async (endpoint, prefix) => new OssStore({ bucket, prefix, endpoint, pathStyle: true, accessKeyId, accessKeySecret }),
  put: async (prefix, key, data) => void (await direct.put(`${prefix}/${key}`, data)),
  uploadMethod: 'PUT',
});
