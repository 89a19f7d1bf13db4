/**
 * stratafs: one virtual file system over many storage systems, with a tiered page cache.
 *
 * ```ts
 * import { StrataFS } from 'stratafs';
 * const fs = new StrataFS();
 * await fs.mount('/', 'memory://');
 * await fs.writeFile('/hello.txt', 'hi');
 * ```
 * @packageDocumentation
 */
export { StrataFS, type OperationOptions } from './file-system.js';
export type { StrataConfig, MountConfig } from './config/load-config.js';
export { StrataError, ERROR_CODES, type StrataErrorCode, type StrataErrorContext } from './errors.js';
export type { StrataFileHandle, HandleReadResult } from './io/file-handle.js';
export type { WriteData } from './io/body.js';
export { StrataDirent } from './fs/dirent.js';
export type { StrataReadStream } from './io/read-stream.js';
export type { StrataWriteStream } from './io/write-stream.js';
export {
  READ_TYPES,
  WRITE_TYPES,
  type ReadType,
  type WriteType,
  type StrataOptions,
  type MountOptions,
  type MountInfo,
  type FileInfo,
  type ReadFileOptions,
  type ReaddirOptions,
  type WriteFileOptions,
  type WriteFlag,
  type StrataStats,
} from './options.js';
export type { Bytes, Milliseconds, SizeLike } from './size.js';
export { registerStore } from './store/registry.js';
export type {
  UnderStore,
  ObjectInfo,
  StoreCapabilities,
  StoreCallOptions,
  StoreReadOptions,
  StoreReadResult,
  StoreWriteOptions,
  StoreListOptions,
  ByteRange,
  StoreFactory,
  StoreSettings,
} from './store/under-store.js';
export { mapStoreError, httpStatusOf, codeForStatus } from './store/store-errors.js';
export { ObjectStoreBase, objectSizeOf, type RawObject, type RawRead, type RawListPage, type RawListOptions, type RawWriteResult } from './store/object-store-base.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory/memory-store.js';
export { LocalStore, type LocalStoreOptions } from './store/local/local-store.js';
export { S3Store } from './store/s3/s3-store.js';
export type { S3StoreOptions, S3Credentials, S3CredentialProvider } from './store/s3/options.js';
export type { AzureBlobStoreOptions } from './store/azure/azure-options.js';
export type { GcsStoreOptions } from './store/gcs/gcs-options.js';
export type { OssStoreOptions } from './store/oss/oss-store.js';
export type { CosStoreOptions } from './store/cos/cos-store.js';
export { AzureBlobStore } from './store/azure/azure-blob-store.js';
export { GcsStore } from './store/gcs/gcs-store.js';
export { OssStore } from './store/oss/oss-store.js';
export { CosStore } from './store/cos/cos-store.js';
export type { SharedTierOptions } from './cache/shared/options.js';
export type { SharedTierStats } from './cache/shared-tier-types.js';
