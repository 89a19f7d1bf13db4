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
export { StrataError, ERROR_CODES, type StrataErrorCode, type StrataErrorContext } from './errors.js';
export type { StrataFileHandle, HandleReadResult } from './io/file-handle.js';
export type { WriteData } from './io/body.js';
export {
  READ_TYPES,
  WRITE_TYPES,
  type ReadType,
  type WriteType,
  type StrataOptions,
  type MountOptions,
  type MountInfo,
  type FileInfo,
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
  StoreWriteOptions,
  StoreListOptions,
  ByteRange,
  StoreFactory,
  StoreSettings,
} from './store/under-store.js';
export { ObjectStoreBase, type RawObject, type RawListPage, type RawListOptions, type RawWriteResult } from './store/object-store-base.js';
export { MemoryStore } from './store/memory/memory-store.js';
export { LocalStore } from './store/local/local-store.js';
