import { Storage } from '@google-cloud/storage';
import { inject } from 'vitest';
import { GcsStore } from '../../src/index.js';
import { describeFaults } from './fault-suite.js';

const BUCKET = 'stratafs-faults';
const endpoint = inject('gcsEndpoint');
const projectId = inject('gcsProjectId');
// The SDK's own retries are off (autoRetry false): what recovers is stratafs.
const storage = (apiEndpoint: string): Storage => new Storage({ apiEndpoint, projectId, retryOptions: { autoRetry: false } });

describeFaults('GCS', {
  upstream: () => endpoint,
  makeStore: async (proxy, prefix) => new GcsStore({ bucket: BUCKET, prefix, storage: storage(proxy) }),
  put: async (prefix, key, data) => storage(endpoint).bucket(BUCKET).file(`${prefix}/${key}`).save(data, { resumable: false }),
  uploadMethod: 'POST',
});
