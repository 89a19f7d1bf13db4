/**
 * Lazy loading of `@azure/storage-blob` (and of the optional `@azure/identity`), and the
 * `ContainerClient` built from the resolved options.
 * @module
 */
import type { TokenCredential } from '@azure/core-auth';
import type * as BlobSdk from '@azure/storage-blob';
import type { ContainerClient } from '@azure/storage-blob';
import { StrataError } from '../../errors.js';
import { importOptional, lazySdk } from '../load-sdk.js';
import type { AzureAuth } from './azure-options.js';

/** The `@azure/storage-blob` module. */
export type BlobSdkModule = typeof BlobSdk;

/** `@azure/storage-blob`, imported on first use; `ENOTSUP` naming the package when it is missing. */
export const loadBlobSdk: () => Promise<BlobSdkModule> = lazySdk('@azure/storage-blob', 'Azure Blob', () => import('@azure/storage-blob'));

/**
 * The SDK's own retries for the clients built here: short (3 tries, 0.5–4 s apart) because the
 * facade's retry layer works on top; the SDK default (4 tries from 4 s up to 2 min) would make a
 * dead endpoint take half a minute per call. An injected client keeps its own policy.
 */
const PIPELINE_OPTIONS = { retryOptions: { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 4000 } };

/** `DefaultAzureCredential` from `@azure/identity`, or an `EINVAL` saying what to do when it is not installed. */
async function defaultCredential(): Promise<TokenCredential> {
  const identity = (await importOptional('@azure/identity')) as { DefaultAzureCredential?: new () => TokenCredential } | undefined;
  if (identity?.DefaultAzureCredential === undefined) {
    throw new StrataError(
      'EINVAL',
      `Azure Blob has no credentials: give 'connectionString', 'accountName' + 'accountKey', 'sasToken' or 'credential', or install @azure/identity to use DefaultAzureCredential`,
    );
  }
  return new identity.DefaultAzureCredential();
}

/** Builds the `ContainerClient` of `container` for `auth` (an injected client is returned as it is). */
export async function createContainerClient(auth: AzureAuth, container: string): Promise<ContainerClient> {
  if (auth.kind === 'client') return auth.client;
  const sdk = await loadBlobSdk();
  switch (auth.kind) {
    case 'connectionString':
      try {
        return sdk.BlobServiceClient.fromConnectionString(auth.connectionString, PIPELINE_OPTIONS).getContainerClient(container);
      } catch {
        // The SDK's message may quote the string: never pass it on.
        throw new StrataError('EINVAL', `Azure Blob setting 'connectionString' is not a valid storage connection string`);
      }
    case 'sharedKey':
      return new sdk.BlobServiceClient(auth.url, new sdk.StorageSharedKeyCredential(auth.accountName, auth.accountKey), PIPELINE_OPTIONS).getContainerClient(container);
    case 'sas':
      return new sdk.BlobServiceClient(`${auth.url}?${auth.sasToken}`, undefined, PIPELINE_OPTIONS).getContainerClient(container);
    case 'token':
      return new sdk.BlobServiceClient(auth.url, auth.credential, PIPELINE_OPTIONS).getContainerClient(container);
    case 'default':
      return new sdk.BlobServiceClient(auth.url, await defaultCredential(), PIPELINE_OPTIONS).getContainerClient(container);
  }
}
