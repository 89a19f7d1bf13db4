/**
 * Registers the built-in URI schemes. Each connector module is imported only when a URI of its
 * scheme is mounted, and each connector loads its SDK only on first use, so importing stratafs
 * loads no cloud SDK.
 * @module
 */
import { registerStore } from './registry.js';

let registered = false;

/** Registers `memory:`, `file:`, `s3:`, `azure:`/`az:`, `gs:`/`gcs:`, `oss:` and `cos:` once. */
export function registerBuiltinStores(): void {
  if (registered) return;
  registered = true;
  registerStore('memory', async (uri) => (await import('./memory/memory-store.js')).MemoryStore.fromUri(uri));
  registerStore('file', async (uri) => (await import('./local/local-store.js')).LocalStore.fromUri(uri));
  registerStore('s3', async (uri, settings) => (await import('./s3/s3-store.js')).S3Store.fromUri(uri, settings));
  const azure = async (uri: URL, settings: Record<string, unknown>) => (await import('./azure/azure-blob-store.js')).AzureBlobStore.fromUri(uri, settings);
  registerStore('azure', azure);
  registerStore('az', azure);
  const gcs = async (uri: URL, settings: Record<string, unknown>) => (await import('./gcs/gcs-store.js')).GcsStore.fromUri(uri, settings);
  registerStore('gs', gcs);
  registerStore('gcs', gcs);
  registerStore('oss', async (uri, settings) => (await import('./oss/oss-store.js')).OssStore.fromUri(uri, settings));
  registerStore('cos', async (uri, settings) => (await import('./cos/cos-store.js')).CosStore.fromUri(uri, settings));
}
