/**
 * The Azure Blob connector: {@link AzureBlobStore} and its settings.
 * @module
 */
export { AzureBlobStore } from './azure-blob-store.js';
export { mapAzureError } from './azure-errors.js';
export { AZURE_SETTING_NAMES, assertContainerName, resolveAzureOptions } from './azure-options.js';
export type { AzureBlobStoreOptions } from './azure-options.js';
