import { ContainerClient } from '@azure/storage-blob';
import { beforeAll, inject } from 'vitest';
import { AzureBlobStore } from '../../src/index.js';
import { azuriteConnectionString } from '../support/azurite-server.js';
import { describeFaults } from './fault-suite.js';

const CONTAINER = 'stratafs-faults';
const endpoint = inject('azuriteBlobEndpoint');
const client = (blobEndpoint: string): ContainerClient =>
  // The SDK's own retries are off (maxTries 1): what recovers is stratafs.
  new ContainerClient(azuriteConnectionString(blobEndpoint), CONTAINER, { retryOptions: { maxTries: 1 } });

beforeAll(async () => {
  await client(endpoint).createIfNotExists();
});

describeFaults('Azure Blob', {
  upstream: () => new URL(endpoint).origin,
  makeStore: async (proxy, prefix) => new AzureBlobStore({ prefix, containerClient: client(`${proxy}/devstoreaccount1`) }),
  put: async (prefix, key, data) => void (await client(endpoint).getBlockBlobClient(`${prefix}/${key}`).uploadData(data)),
  uploadMethod: 'PUT',
});
