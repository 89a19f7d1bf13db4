/**
 * `StrataFS`: the facade. It validates, resolves paths to mounts, consults the metadata and
 * page caches, and derives what stores lack (recursive operations, rename, directories). It
 * holds no store-specific logic.
 * @module
 */
import { Readable, PassThrough, addAbortSignal, type Writable } from 'node:stream';
import { StrataError, invalid, toStrataError, isAbortError } from './errors.js';
import { basename, dirname, isChildKey, isSameOrBelow, joinPath, normalizePath, parentKey } from './path.js';
import {
  checkBoolean,
  checkCount,
  checkOperationOptions,
  checkReadType,
  checkWriteType,
  publicSettings,
  resolveMountOptions,
  resolveOptions,
  type FileInfo,
  type MountInfo,
  type MountOptions,
  type ReadType,
  type ResolvedOptions,
  type StrataOptions,
  type StrataStats,
  type WriteType,
} from './options.js';
import { MountTable, type Mount, type Resolved } from './mount/mount-table.js';
import { cacheIdOf, openStore } from './mount/open-store.js';
import { withLayers } from './layers/index.js';
import { MetadataCache } from './cache/metadata-cache.js';
import { MemoryTier } from './cache/memory-tier.js';
import { PageCache, newCounters, type CacheCounters, type PageSource } from './cache/page-cache.js';
import { objectId, versionOf } from './cache/page-id.js';
import type { DiskTier, WriteJournal } from './cache/disk-tier-types.js';
import { WriteBack } from './cache/write-back.js';
import { PendingIndex } from './cache/pending-index.js';
import { collect, sliceStream, toBody, type WriteData } from './io/body.js';
import { verifiedVersion } from './io/verified-stream.js';
import { eachLimit } from './store/each-limit.js';
import { pageReadStream } from './io/read-stream.js';
import { StrataFileHandle } from './io/file-handle.js';
import { depth, moveKey, walkTree } from './ops/tree-walk.js';
import type { ObjectInfo, UnderStore } from './store/under-store.js';
import { registerBuiltinStores } from './store/builtin.js';
import { loadConfig, type StrataConfig } from './config/load-config.js';

registerBuiltinStores();

/** Options every file operation accepts. */
export interface OperationOptions {
  /** Aborts the operation. */
  signal?: AbortSignal;
}

/** Internal state of one mount besides its table entry. */
interface MountState {
  meta: MetadataCache;
  counters: CacheCounters;
  cacheId: string;
  owned: boolean;
}

const CONCURRENCY = 16;
/**
 * The longest a store's body may stall when no `timeout` is set: some SDKs never report a
 * connection dropped mid-body, and a read must not hang forever.
 */
const BODY_STALL_MS = 30_000;

/**
 * One virtual file system over many stores, with a tiered cache. Mount stores at paths, then
 * use it like `fs.promises`. See API.md for the full contract.
 *
 * ```ts
 * const fs = new StrataFS({ cache: { disk: { dir: '/var/cache/strata', capacity: '20GiB' } } });
 * await fs.mount('/data', 's3://bucket/datasets', { options: { region: 'us-east-1' } });
 * const bytes = await fs.readFile('/data/2024/a.parquet', { offset: 0, length: 1024 });
 * ```
 */
export class StrataFS {
  readonly #options: ResolvedOptions;
  readonly #table = new MountTable();
  readonly #state = new Map<Mount, MountState>();
  readonly #requests: Record<string, number> = {};
  #pages: PageCache;
  #disk: { tier: DiskTier; journal: WriteJournal } | undefined;
  #diskReady: Promise<void> | undefined;
  #writeBack: WriteBack | undefined;
  #nextMountId = 1;
  #closed = false;

  /** Validates `options` (throws `EINVAL` naming what is wrong) and creates an empty namespace. */
  constructor(options?: StrataOptions) {
    this.#options = resolveOptions(options);
    this.#pages = new PageCache(this.#options.pageSize, new MemoryTier(this.#options.memoryCapacity), undefined, this.#options.retry, this.#options.timeout ?? BODY_STALL_MS);
    if (this.#options.disk) {
      const { dir, capacity } = this.#options.disk;
      this.#diskReady = import('./cache/disk/index.js').then(async ({ openDiskCache }) => {
        const opened = await openDiskCache(dir, capacity, this.#options.pageSize);
        const disk = { tier: opened.tier, journal: new PendingIndex(opened.journal) };
        this.#disk = disk;
        this.#pages = new PageCache(this.#options.pageSize, this.#pages.memory, disk.tier, this.#options.retry, this.#options.timeout ?? BODY_STALL_MS);
        this.#writeBack = new WriteBack(disk.journal, this.#options.retry, (cacheId) => this.#mountByCacheId(cacheId), (m, key, info, data) => this.#afterUpload(m, key, info, data));
      });
      this.#diskReady.catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- mounts

  /**
   * Mounts `store` (an {@link UnderStore} or a URI such as `s3://bucket/prefix`) at `path`.
   * `EEXIST` when a mount is already there or `path` is an existing file; `EINVAL` for bad
   * arguments or an unknown scheme.
   */
  async mount(path: string, store: UnderStore | string, options?: MountOptions): Promise<void> {
    const target = normalizePath(path, 'mount');
    await this.#run('mount', target, async () => {
      this.#checkOpen();
      const mountOptions = resolveMountOptions(options);
      if (this.#table.get(target)) throw new StrataError('EEXIST', 'a mount already exists at this path');
      if (target !== '/') {
        const existing = await this.#statInfo(target).catch(() => undefined);
        if (existing && existing.type === 'file') throw new StrataError('EEXIST', 'cannot mount on an existing file');
      }
      const { store: opened, owned } = await openStore(store, mountOptions.options);
      await this.#ready();
      if (this.#table.get(target)) {
        if (owned) await opened.close?.();
        throw new StrataError('EEXIST', 'a mount already exists at this path');
      }
      const id = this.#nextMountId++;
      const mount: Mount = {
        path: target,
        store: withLayers(opened, { retry: this.#options.retry, timeout: this.#options.timeout, requests: this.#requests }),
        rawStore: opened,
        uri: opened.uri,
        readOnly: mountOptions.readOnly,
        readType: mountOptions.readType,
        writeType: mountOptions.writeType,
        syncInterval: mountOptions.syncInterval,
        publicOptions: publicSettings(mountOptions.options),
        id,
      };
      this.#table.add(mount);
      this.#state.set(mount, {
        meta: new MetadataCache(mountOptions.syncInterval ?? this.#options.syncInterval),
        counters: newCounters(),
        cacheId: cacheIdOf(opened.uri, id),
        owned,
      });
      this.#writeBack?.resume();
    });
  }

  /** Unmounts the mount at `path` and drops its cached data and metadata. `EBUSY` when mounts lie below it. */
  async unmount(path: string): Promise<void> {
    const target = normalizePath(path, 'unmount');
    await this.#run('unmount', target, async () => {
      const mount = this.#table.get(target);
      if (!mount) throw new StrataError('EINVAL', 'not a mount point');
      if (this.#table.hasMountsBelow(target)) throw new StrataError('EBUSY', 'mount point holds other mounts');
      const state = this.#state.get(mount)!;
      await this.#writeBack?.flush(state.cacheId);
      this.#table.remove(target);
      this.#state.delete(mount);
      state.meta.clear();
      if (!this.#mountByCacheId(state.cacheId)) await this.#pages.drop(state.cacheId + '\n', { prefix: true, force: true });
      if (state.owned) await mount.rawStore.close?.();
    });
  }

  /** The mounts, shortest path first; connector settings with secrets replaced by `'***'`. */
  mounts(): MountInfo[] {
    return this.#table.list().map((m) => ({
      path: m.path,
      uri: m.uri,
      readOnly: m.readOnly,
      options: { readType: m.readType, writeType: m.writeType, syncInterval: m.syncInterval, options: m.publicOptions },
    }));
  }

  // ---------------------------------------------------------------- metadata

  /** Metadata of a file or directory. `ENOENT` when missing. */
  async stat(path: string, options?: OperationOptions): Promise<FileInfo> {
    const target = normalizePath(path, 'stat');
    checkOperationOptions(options, []);
    return this.#run('stat', target, async () => {
      const info = await this.#statInfo(target, options?.signal);
      if (!info) throw new StrataError('ENOENT');
      return info;
    });
  }

  /** True when the path exists (never throws for a missing path; throws `EINVAL` for a bad one). */
  async exists(path: string, options?: OperationOptions): Promise<boolean> {
    const target = normalizePath(path, 'exists');
    checkOperationOptions(options, []);
    return this.#run('exists', target, async () => (await this.#statInfo(target, options?.signal)) !== undefined);
  }

  /**
   * Names (or, with `withInfo`, {@link FileInfo}s) of a directory's entries, sorted by name.
   * Mount points directly below it are listed as directories. With `recursive`, every
   * descendant, as paths relative to `path`. `ENOTDIR` for a file, `ENOENT` when missing.
   */
  async readdir(path: string, options?: { recursive?: boolean; withInfo?: false; signal?: AbortSignal }): Promise<string[]>;
  async readdir(path: string, options: { recursive?: boolean; withInfo: true; signal?: AbortSignal }): Promise<FileInfo[]>;
  async readdir(path: string, options?: { recursive?: boolean; withInfo?: boolean; signal?: AbortSignal }): Promise<string[] | FileInfo[]> {
    const target = normalizePath(path, 'readdir');
    checkOperationOptions(options, ['recursive', 'withInfo']);
    const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
    const withInfo = checkBoolean(options?.withInfo, 'withInfo') ?? false;
    return this.#run('readdir', target, async () => {
      const entries = await this.#listDir(target, recursive, options?.signal);
      const sorted = [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return withInfo ? sorted.map(([, info]) => info) : sorted.map(([name]) => name);
    });
  }

  // ---------------------------------------------------------------- reads

  /**
   * The file's bytes, or `length` bytes from `offset` when given (shorter at the end of the
   * file). `EISDIR` for a directory, `ENOENT` when missing.
   */
  async readFile(path: string, options?: { offset?: number; length?: number; readType?: ReadType; signal?: AbortSignal }): Promise<Buffer> {
    const target = normalizePath(path, 'readFile');
    checkOperationOptions(options, ['offset', 'length', 'readType']);
    const offset = checkCount(options?.offset, 'offset') ?? 0;
    const length = checkCount(options?.length, 'length');
    const readType = checkReadType(options?.readType);
    return this.#run('read', target, async () => {
      for (let attempt = 0; ; attempt++) {
        const { src, mount } = await this.#openSource(target, options?.signal);
        const size = Math.max(0, Math.min(length ?? Infinity, src.size - offset));
        const out = Buffer.allocUnsafe(size);
        try {
          await this.#pages.readInto(src, offset, size, out, 0, { readType: this.#readType(mount, readType), signal: options?.signal });
          return out;
        } catch (error) {
          // The object changed under us: read it again at its new version, never a mix.
          if ((error as StrataError).code !== 'ESTALE' || attempt >= 2) throw error;
          this.#state.get(mount)?.meta.forget(this.#table.resolve(target)!.key);
        }
      }
    });
  }

  /**
   * A stream of the file's bytes from `start` to `end` (inclusive, like `fs`), page by page with
   * bounded memory. Errors (`ENOENT`, `EISDIR`…) arrive as the stream's `'error'`.
   */
  createReadStream(path: string, options?: { start?: number; end?: number; readType?: ReadType; highWaterMark?: number; signal?: AbortSignal }): Readable {
    const target = normalizePath(path, 'createReadStream');
    checkOperationOptions(options, ['start', 'end', 'readType', 'highWaterMark']);
    const start = checkCount(options?.start, 'start') ?? 0;
    const end = checkCount(options?.end, 'end');
    if (end !== undefined && end < start) throw invalid('end must not be before start', { path: target, op: 'createReadStream' });
    const highWaterMark = checkCount(options?.highWaterMark, 'highWaterMark');
    const readType = checkReadType(options?.readType);
    return pageReadStream(
      this.#pages,
      async () => {
        try {
          return (await this.#openSource(target, options?.signal)).src;
        } catch (error) {
          throw toStrataError(error, { path: target, op: 'read' });
        }
      },
      start,
      end,
      { readType: readType ?? this.#options.readType, signal: options?.signal, highWaterMark },
    );
  }

  /** Opens the file for random access at its current version (see {@link StrataFileHandle}). */
  async open(path: string, options?: { readType?: ReadType; signal?: AbortSignal }): Promise<StrataFileHandle> {
    const target = normalizePath(path, 'open');
    checkOperationOptions(options, ['readType']);
    const readType = checkReadType(options?.readType);
    return this.#run('open', target, async () => {
      const { src, mount, info } = await this.#openSource(target, options?.signal);
      return new StrataFileHandle(target, src, info.etag ?? src.version, this.#pages, { readType: this.#readType(mount, readType) }, mount.path);
    });
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes a whole file, all or nothing: a failed or aborted write leaves the previous file (or
   * nothing). Missing parent directories are created (as object stores do). `overwrite: false`
   * fails with `EEXIST` when the file exists. Resolves with the new file's info.
   */
  async writeFile(path: string, data: WriteData, options?: { writeType?: WriteType; overwrite?: boolean; signal?: AbortSignal }): Promise<FileInfo> {
    const target = normalizePath(path, 'writeFile');
    checkOperationOptions(options, ['writeType', 'overwrite']);
    const writeType = checkWriteType(options?.writeType);
    const overwrite = checkBoolean(options?.overwrite, 'overwrite') ?? true;
    const body = toBody(data);
    // An abort ends the body stream at once, so every store sees a failed source and keeps the old object.
    if (options?.signal && !Buffer.isBuffer(body)) addAbortSignal(options.signal, body);
    return this.#run('write', target, async () => {
      const res = this.#writable(target);
      const mode = writeType ?? res.mount.writeType ?? this.#options.writeType;
      if ((mode === 'MUST_CACHE' || mode === 'ASYNC_THROUGH') && !this.#options.disk) throw invalid(`writeType ${mode} needs cache.disk`);
      await this.#ready();
      await this.#checkWriteTarget(res, overwrite, options?.signal);
      const info = await this.#writeObject(res, body, mode, options?.signal);
      return this.#fileInfo(joinPath(res.mount.path, info.key), res.mount, info);
    });
  }

  /** A Writable whose data becomes the file once it finishes (`'finish'`); nothing is visible before. */
  createWriteStream(path: string, options?: { writeType?: WriteType; overwrite?: boolean; signal?: AbortSignal }): Writable {
    normalizePath(path, 'createWriteStream');
    checkOperationOptions(options, ['writeType', 'overwrite']);
    checkWriteType(options?.writeType);
    const pipe = new PassThrough();
    let done: Promise<FileInfo> | undefined;
    const writer = new PassThrough({
      final: (callback) => {
        pipe.end();
        done!.then(() => callback(), (error: Error) => callback(error));
      },
    });
    writer.on('data', (chunk: Buffer) => {
      if (!pipe.write(chunk)) {
        writer.pause();
        pipe.once('drain', () => writer.resume());
      }
    });
    writer.on('error', (error) => pipe.destroy(error));
    done = this.writeFile(path, pipe, options);
    done.catch((error: Error) => writer.destroy(error));
    return writer;
  }

  /** Creates a directory (`recursive`: and its parents, no error if it exists). `EEXIST` otherwise when it exists. */
  async mkdir(path: string, options?: { recursive?: boolean; signal?: AbortSignal }): Promise<void> {
    const target = normalizePath(path, 'mkdir');
    checkOperationOptions(options, ['recursive']);
    const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
    await this.#run('mkdir', target, async () => {
      const existing = await this.#statInfo(target, options?.signal);
      if (existing) {
        if (existing.type === 'directory' && recursive) return;
        throw new StrataError('EEXIST');
      }
      const res = this.#writable(target);
      const parent = dirname(target);
      const parentInfo = await this.#statInfo(parent, options?.signal);
      if (!parentInfo) {
        if (!recursive) throw new StrataError('ENOENT', 'parent directory does not exist');
        await this.mkdir(parent, { recursive: true, signal: options?.signal });
      } else if (parentInfo.type !== 'directory') throw new StrataError('ENOTDIR', 'a parent is a file');
      await this.#makeDirectory(res, options?.signal);
    });
  }

  /**
   * Removes a file or directory. A non-empty directory needs `recursive` (`ENOTEMPTY`
   * otherwise); a missing path fails with `ENOENT` unless `force`. Mount points and directories
   * holding mount points fail with `EBUSY`.
   */
  async rm(path: string, options?: { recursive?: boolean; force?: boolean; signal?: AbortSignal }): Promise<void> {
    const target = normalizePath(path, 'rm');
    checkOperationOptions(options, ['recursive', 'force']);
    const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
    const force = checkBoolean(options?.force, 'force') ?? false;
    await this.#run('rm', target, async () => {
      const info = await this.#statInfo(target, options?.signal);
      if (!info) {
        if (force) return;
        throw new StrataError('ENOENT');
      }
      if (this.#table.get(target) || this.#table.hasMountsBelow(target)) throw new StrataError('EBUSY', 'is or holds a mount point');
      const res = this.#writable(target);
      await this.#ready();
      if (info.type === 'file') return this.#removeFile(res, options?.signal);
      const children = await this.#listDir(target, false, options?.signal);
      if (children.size > 0 && !recursive) throw new StrataError('ENOTEMPTY');
      await this.#removeTree(res, options?.signal);
    });
  }

  /**
   * Moves a file or directory (directories recursively) within one mount; `EXDEV` across
   * mounts. Uses the store's own rename where it has one, else copy + delete (not atomic for
   * directories on object stores). An existing file at `to` is replaced.
   */
  async rename(from: string, to: string, options?: OperationOptions): Promise<void> {
    const source = normalizePath(from, 'rename');
    const target = normalizePath(to, 'rename');
    checkOperationOptions(options, []);
    await this.#run('rename', source, async () => {
      const info = await this.#statInfo(source, options?.signal);
      if (!info) throw new StrataError('ENOENT');
      if (source === target) return;
      if (isSameOrBelow(target, source)) throw invalid('cannot move a directory into itself');
      const src = this.#writable(source);
      const dst = this.#writable(target);
      if (this.#table.get(source) || this.#table.hasMountsBelow(source)) throw new StrataError('EBUSY', 'is or holds a mount point');
      if (src.mount !== dst.mount) throw new StrataError('EXDEV', `cannot rename across mounts (${src.mount.path} -> ${dst.mount.path}); use copy + rm`);
      await this.#ready();
      await this.#writeBack?.persistKey(this.#state.get(src.mount)!.cacheId, src.key);
      const existing = await this.#statInfo(target, options?.signal);
      await this.#checkMoveTarget(info, existing, target, options?.signal);
      await this.#ensureParent(dst, options?.signal);
      const store = src.mount.store;
      const state = this.#state.get(src.mount)!;
      if (info.type === 'file') {
        if (store.capabilities.rename && store.rename) await store.rename(src.key, dst.key, { signal: options?.signal });
        else {
          await this.#copyFile(src, dst, options?.signal);
          await store.delete(src.key, { signal: options?.signal });
        }
        await this.#pages.drop(objectId(state.cacheId, src.key));
        await this.#pages.drop(objectId(state.cacheId, dst.key));
        state.meta.removed(src.key);
        state.meta.written(dst.key, null);
        return;
      }
      if (store.capabilities.rename && store.rename) {
        if (existing) await store.delete(dst.key + '/', { signal: options?.signal });
        await store.rename(src.key, dst.key, { signal: options?.signal });
      } else {
        await this.#copyTree(src, dst, options?.signal);
        await this.#removeTree(src, options?.signal);
      }
      await this.#pages.drop(objectId(state.cacheId, src.key === '' ? '' : src.key + '/'), { prefix: true });
      state.meta.removed(src.key, true);
      state.meta.removed(dst.key, true);
    });
  }

  /**
   * Copies a file, or a directory with `recursive` (`EISDIR` without it), also across mounts.
   * `overwrite` (default `true`): replace existing files; `false`: `EEXIST` when one exists.
   */
  async copy(from: string, to: string, options?: { recursive?: boolean; overwrite?: boolean; signal?: AbortSignal }): Promise<void> {
    const source = normalizePath(from, 'copy');
    const target = normalizePath(to, 'copy');
    checkOperationOptions(options, ['recursive', 'overwrite']);
    const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
    const overwrite = checkBoolean(options?.overwrite, 'overwrite') ?? true;
    await this.#run('copy', source, async () => {
      const info = await this.#statInfo(source, options?.signal);
      if (!info) throw new StrataError('ENOENT');
      if (source === target) throw invalid('source and destination are the same');
      if (info.type === 'directory' && !recursive) throw new StrataError('EISDIR', 'copy of a directory needs { recursive: true }');
      if (info.type === 'directory' && isSameOrBelow(target, source)) throw invalid('cannot copy a directory into itself');
      const dst = this.#writable(target);
      const existing = await this.#statInfo(target, options?.signal);
      if (existing) {
        if (info.type === 'file' && existing.type === 'directory') throw new StrataError('EISDIR', 'destination is a directory');
        if (info.type === 'directory' && existing.type === 'file') throw new StrataError('ENOTDIR', 'destination is a file');
        if (info.type === 'file' && !overwrite) throw new StrataError('EEXIST', 'destination exists');
      }
      await this.#ready();
      await this.#ensureParent(dst, options?.signal);
      if (info.type === 'file') {
        await this.#copyFile(this.#resolveFile(source), dst, options?.signal);
        return;
      }
      await this.#copyLogicalTree(source, target, overwrite, options?.signal);
    });
  }

  // ---------------------------------------------------------------- cache control

  /** Warms the cache with a file, or a directory's files with `recursive`; reports progress. */
  async load(
    path: string,
    options?: { recursive?: boolean; onProgress?: (p: { bytes: number; totalBytes: number; files: number; totalFiles: number }) => void; signal?: AbortSignal },
  ): Promise<void> {
    const target = normalizePath(path, 'load');
    checkOperationOptions(options, ['recursive', 'onProgress']);
    const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
    if (options?.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalid('onProgress must be a function');
    await this.#run('load', target, async () => {
      await this.#ready();
      const files = await this.#filesOf(target, recursive, options?.signal);
      const progress = { bytes: 0, totalBytes: files.reduce((n, f) => n + f.size, 0), files: 0, totalFiles: files.length };
      options?.onProgress?.({ ...progress });
      await eachLimit(files, 4, async (file) => {
        const { src, mount } = await this.#openSource(file.path, options?.signal);
        for (let index = 0; index * this.#pages.pageSize < src.size; index++) {
          const page = await this.#pages.page(src, index, { readType: mount.readType === 'CACHE_PROMOTE' ? 'CACHE_PROMOTE' : 'CACHE', signal: options?.signal });
          progress.bytes += page.length;
          options?.onProgress?.({ ...progress });
        }
        progress.files++;
        options?.onProgress?.({ ...progress });
      });
    });
  }

  /** Drops cached pages and metadata of a file (or a directory's, with `recursive`); pinned pages stay. */
  async free(path: string, options?: { recursive?: boolean; signal?: AbortSignal }): Promise<void> {
    const target = normalizePath(path, 'free');
    checkOperationOptions(options, ['recursive']);
    const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
    await this.#run('free', target, async () => {
      await this.#ready();
      const info = await this.#statInfo(target, options?.signal);
      if (!info) throw new StrataError('ENOENT');
      for (const { mount, key } of this.#mountsUnder(target)) {
        const state = this.#state.get(mount)!;
        if (info.type === 'file') {
          await this.#pages.drop(objectId(state.cacheId, key));
          state.meta.forget(key);
        } else {
          if (!recursive && this.#table.resolve(target)!.mount === mount) {
            const children = await this.#listDir(target, false, options?.signal);
            if ([...children.values()].some((c) => c.type === 'directory')) throw new StrataError('EISDIR', 'free of a directory with sub-directories needs { recursive: true }');
          }
          await this.#pages.drop(objectId(state.cacheId, key === '' ? '' : key + '/'), { prefix: true });
          state.meta.forgetBelow(key);
          state.meta.forget(key);
        }
      }
    });
  }

  /** Pins a file or directory: its pages are loaded and never evicted until {@link unpin}. */
  async pin(path: string, options?: OperationOptions): Promise<void> {
    const target = normalizePath(path, 'pin');
    checkOperationOptions(options, []);
    await this.#run('pin', target, async () => {
      await this.#setPinned(target, true, options?.signal);
      await this.load(target, { recursive: true, signal: options?.signal });
    });
  }

  /** Undoes {@link pin}: the pages become evictable again. */
  async unpin(path: string, options?: OperationOptions): Promise<void> {
    const target = normalizePath(path, 'unpin');
    checkOperationOptions(options, []);
    await this.#run('unpin', target, () => this.#setPinned(target, false, options?.signal));
  }

  /** Writes `MUST_CACHE` / `ASYNC_THROUGH` data at or below `path` to the store now. */
  async persist(path: string, options?: OperationOptions): Promise<void> {
    const target = normalizePath(path, 'persist');
    checkOperationOptions(options, []);
    await this.#run('persist', target, async () => {
      await this.#ready();
      if (!(await this.#statInfo(target, options?.signal))) throw new StrataError('ENOENT');
      for (const { mount, key } of this.#mountsUnder(target)) await this.#writeBack?.persistKey(this.#state.get(mount)!.cacheId, key, true);
    });
  }

  /** Resolves once every `ASYNC_THROUGH` write of the mounted stores is in its store. */
  async flush(): Promise<void> {
    await this.#run('flush', undefined, async () => {
      await this.#ready();
      await this.#writeBack?.flush();
    });
  }

  /** Cache and store figures (see {@link StrataStats}). */
  stats(): StrataStats {
    const c = this.#pages.counters;
    const metadata = { hits: 0, misses: 0 };
    const mounts: StrataStats['mounts'] = {};
    for (const [mount, state] of this.#state) {
      metadata.hits += state.meta.hits;
      metadata.misses += state.meta.misses;
      mounts[mount.path] = { ...state.counters };
    }
    const bytesToStore = [...this.#state.values()].reduce((n, s) => n + s.counters.bytesToStore, 0);
    return {
      hits: c.hits,
      misses: c.misses,
      bytesFromCache: c.bytesFromCache,
      bytesFromStore: c.bytesFromStore,
      bytesToStore,
      storeRequests: { ...this.#requests },
      memory: this.#pages.memory.stats(),
      disk: this.#disk?.tier.stats(),
      metadata,
      pendingWrites: this.#disk ? this.#disk.journal.list().length : 0,
      mounts,
    };
  }

  /** Flushes pending writes, persists the disk index, closes the stores stratafs opened. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#ready().catch(() => undefined);
    await this.#writeBack?.flush().catch(() => undefined);
    this.#writeBack?.stop();
    this.#closed = true;
    await this.#pages.settle();
    await this.#disk?.tier.close();
    for (const [mount, state] of this.#state) if (state.owned) await mount.rawStore.close?.().catch(() => undefined);
    this.#state.clear();
    this.#pages.memory.clear();
  }

  /**
   * Creates a `StrataFS` from a config object or the path of a JSON file: `StrataOptions` plus
   * `mounts`, a map from mount point to a URI or `{ uri, readOnly?, readType?, writeType?,
   * syncInterval?, options? }`. In a file, `${NAME}` in a string is replaced by the environment
   * variable `NAME`; a missing variable is an `EINVAL` naming it (never an empty secret).
   */
  static async fromConfig(config: StrataConfig | string): Promise<StrataFS> {
    const { options, mounts } = await loadConfig(config);
    const fs = new StrataFS(options);
    try {
      for (const [path, mount] of mounts) await fs.mount(path, mount.uri, mount.options);
    } catch (error) {
      await fs.close();
      throw error;
    }
    return fs;
  }

  // ================================================================ internals

  async #run<T>(op: string, path: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isAbortError(error)) throw error;
      const mount = path ? this.#table.resolve(path)?.mount.path : undefined;
      throw toStrataError(error, { op, path, mount });
    }
  }

  async #setPinned(target: string, pinned: boolean, signal?: AbortSignal): Promise<void> {
    await this.#ready();
    const info = await this.#statInfo(target, signal);
    if (!info) throw new StrataError('ENOENT');
    const { mount, key } = this.#resolveMounted(target);
    const cacheId = this.#state.get(mount)!.cacheId;
    if (info.type === 'file') await this.#pages.setPinned(objectId(cacheId, key), pinned);
    else await this.#pages.setPinned(objectId(cacheId, key === '' ? '' : key + '/'), pinned, { prefix: true });
  }

  #checkOpen(): void {
    if (this.#closed) throw new StrataError('EINVAL', 'this StrataFS is closed');
  }

  async #ready(): Promise<void> {
    if (this.#diskReady) await this.#diskReady;
  }

  #readType(mount: Mount, given: ReadType | undefined): ReadType {
    return given ?? mount.readType ?? this.#options.readType;
  }

  #mountByCacheId(cacheId: string): Mount | undefined {
    for (const [mount, state] of this.#state) if (state.cacheId === cacheId) return mount;
    return undefined;
  }

  /** Mounted resolution; `ENOENT` when no mount holds the path. */
  #resolveMounted(path: string): Resolved {
    const res = this.#table.resolve(path);
    if (!res) throw new StrataError('ENOENT', 'no mount holds this path');
    return res;
  }

  #resolveFile(path: string): Resolved {
    return this.#resolveMounted(path);
  }

  /** Resolution for a write: `EROFS` in the synthetic namespace, on read-only mounts and on mount points' ancestors. */
  #writable(path: string): Resolved {
    const res = this.#table.resolve(path);
    if (!res) throw new StrataError('EROFS', 'no mount holds this path (the namespace above mounts is read-only)');
    if (res.mount.readOnly) throw new StrataError('EROFS', 'mount is read-only');
    if (this.#table.hasMountsBelow(path) && !this.#table.get(path)) throw new StrataError('EROFS', 'path is a directory of the namespace holding mount points');
    return res;
  }

  /** Every (mount, key) whose data lies at or below `path`. */
  #mountsUnder(path: string): Resolved[] {
    const out: Resolved[] = [];
    const own = this.#table.resolve(path);
    if (own) out.push(own);
    for (const mount of this.#table.list()) if (mount.path !== own?.mount.path && isSameOrBelow(mount.path, path) && mount.path !== path) out.push({ mount, key: '' });
    return out;
  }

  #fileInfo(path: string, mount: Mount, info: ObjectInfo): FileInfo {
    const cacheId = this.#state.get(mount)?.cacheId;
    const cached = !info.isDirectory && cacheId ? this.#pages.cachedBytes(objectId(cacheId, info.key), versionOf(info)) : 0;
    return {
      path,
      name: basename(path),
      type: info.isDirectory ? 'directory' : 'file',
      size: info.isDirectory ? 0 : info.size,
      mtime: info.mtime,
      etag: info.etag,
      mount: mount.path,
      cached,
    };
  }

  #syntheticDir(path: string, mountPath = '/'): FileInfo {
    return { path, name: basename(path), type: 'directory', size: 0, mtime: undefined, etag: undefined, mount: mountPath, cached: 0 };
  }

  /** stat of a store key through the metadata cache and the pending-write journal. */
  async #storeStat(mount: Mount, key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    const state = this.#state.get(mount)!;
    const pending = this.#disk?.journal.find(state.cacheId, key);
    if (pending) return { key, size: pending.size, mtime: pending.mtime, etag: `pending-${pending.id}`, isDirectory: false };
    const cached = state.meta.getStat(key);
    let info: ObjectInfo | undefined;
    if (cached !== undefined) info = cached ?? undefined;
    else {
      info = await mount.store.stat(key, { signal });
      state.meta.setStat(key, info ?? null);
    }
    // A pending write below a missing key makes it a directory, as the upload will.
    if (!info && this.#disk?.journal.list(state.cacheId).some((p) => p.key.startsWith(key + '/'))) return { key, size: 0, isDirectory: true };
    return info;
  }

  async #statInfo(path: string, signal?: AbortSignal): Promise<FileInfo | undefined> {
    const res = this.#table.resolve(path);
    const holdsMounts = this.#table.hasMountsBelow(path);
    if (!res) return holdsMounts || path === '/' ? this.#syntheticDir(path) : undefined;
    if (res.key === '') return this.#syntheticDir(path, res.mount.path);
    const info = await this.#storeStat(res.mount, res.key, signal);
    if (holdsMounts) return this.#syntheticDir(path, res.mount.path);
    return info ? this.#fileInfo(path, res.mount, info) : undefined;
  }

  /** The children of a store directory through the metadata cache (with pending writes). */
  async #storeList(mount: Mount, key: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
    const state = this.#state.get(mount)!;
    let children = state.meta.getList(key);
    if (!children) {
      children = [];
      for await (const info of mount.store.list(key, { signal })) if (isChildKey(info.key, key)) children.push(info);
      state.meta.setList(key, children);
    }
    const pending = this.#disk?.journal.list(state.cacheId).filter((p) => parentKey(p.key) === key && p.key !== '');
    if (!pending || pending.length === 0) return children;
    const merged = new Map(children.map((c) => [c.key, c]));
    for (const p of pending) merged.set(p.key, { key: p.key, size: p.size, mtime: p.mtime, etag: `pending-${p.id}`, isDirectory: false });
    return [...merged.values()];
  }

  /** Entries of a logical directory by relative name (recursive: relative paths). */
  async #listDir(path: string, recursive: boolean, signal?: AbortSignal): Promise<Map<string, FileInfo>> {
    const info = await this.#statInfo(path, signal);
    if (!info) throw new StrataError('ENOENT');
    if (info.type !== 'directory') throw new StrataError('ENOTDIR');
    const out = new Map<string, FileInfo>();
    const res = this.#table.resolve(path);
    if (res && (!this.#table.hasMountsBelow(path) || (await this.#storeStat(res.mount, res.key, signal))?.isDirectory || res.key === '')) {
      const base = res.key;
      if (recursive) {
        const state = this.#state.get(res.mount)!;
        const all = await walkTree(res.mount.store, base, { signal });
        const pending = this.#disk?.journal.list(state.cacheId).filter((p) => base === '' || p.key.startsWith(base + '/')) ?? [];
        for (const p of pending) all.push({ key: p.key, size: p.size, mtime: p.mtime, etag: `pending-${p.id}`, isDirectory: false });
        for (const child of all) {
          const rel = base === '' ? child.key : child.key.slice(base.length + 1);
          out.set(rel, this.#fileInfo(joinPath(path, rel), res.mount, child));
          for (let p = parentKey(rel); p !== ''; p = parentKey(p)) if (!out.has(p)) out.set(p, this.#syntheticDir(joinPath(path, p), res.mount.path));
        }
      } else {
        for (const child of await this.#storeList(res.mount, base, signal)) {
          const name = base === '' ? child.key : child.key.slice(base.length + 1);
          out.set(name, this.#fileInfo(joinPath(path, name), res.mount, child));
        }
      }
    }
    // Mount points and the directories leading to them.
    for (const name of this.#table.childNames(path)) {
      const childPath = joinPath(path, name);
      const mount = this.#table.get(childPath);
      out.set(name, this.#syntheticDir(childPath, mount ? mount.path : (this.#table.resolve(childPath)?.mount.path ?? '/')));
      if (recursive) {
        const below = await this.#listDir(childPath, true, signal);
        for (const [rel, entry] of below) out.set(`${name}/${rel}`, entry);
      }
    }
    return out;
  }

  /** All files at or below a path (for load/free). */
  async #filesOf(path: string, recursive: boolean, signal?: AbortSignal): Promise<FileInfo[]> {
    const info = await this.#statInfo(path, signal);
    if (!info) throw new StrataError('ENOENT');
    if (info.type === 'file') return [info];
    const entries = await this.#listDir(path, recursive, signal);
    return [...entries.values()].filter((e) => e.type === 'file');
  }

  /** The page source of a file at its current version. */
  async #openSource(path: string, signal?: AbortSignal): Promise<{ src: PageSource; mount: Mount; info: ObjectInfo }> {
    const res = this.#table.resolve(path);
    if (!res) {
      if (this.#table.hasMountsBelow(path) || path === '/') throw new StrataError('EISDIR');
      throw new StrataError('ENOENT');
    }
    await this.#ready();
    if (res.key === '' || this.#table.hasMountsBelow(path)) throw new StrataError('EISDIR');
    const info = await this.#storeStat(res.mount, res.key, signal);
    if (!info) throw new StrataError('ENOENT');
    if (info.isDirectory) throw new StrataError('EISDIR');
    return { src: this.#source(res.mount, res.key, info), mount: res.mount, info };
  }

  #source(mount: Mount, key: string, info: ObjectInfo): PageSource {
    const state = this.#state.get(mount)!;
    const version = versionOf(info);
    const store = mount.store;
    const pending = info.etag?.startsWith('pending-') ? info.etag.slice('pending-'.length) : undefined;
    return {
      object: objectId(state.cacheId, key),
      version,
      size: info.size,
      counters: state.counters,
      fetch: async (offset, length, signal) => {
        if (pending !== undefined) {
          const journal = this.#disk?.journal;
          if (journal?.find(state.cacheId, key)?.id === pending) return Readable.from([await journal.read(pending, offset, length)]);
          throw new StrataError('ESTALE', 'the pending write this read started on has been replaced');
        }
        if (store.capabilities.conditionalRead) {
          const ifMatch = info.etag;
          if (store.capabilities.rangeRead) return store.read(key, { offset, length }, { signal, ifMatch });
          return sliceStream(await store.read(key, undefined, { signal, ifMatch }), offset, length);
        }
        // The store cannot check the version itself: check it once the bytes are in, so pages of
        // two versions never meet (the page cache admits nothing from a failed fetch).
        const body = store.capabilities.rangeRead ? await store.read(key, { offset, length }, { signal }) : sliceStream(await store.read(key, undefined, { signal }), offset, length);
        return verifiedVersion(body, async () => {
          const now = await store.stat(key, { signal });
          if (!now || versionOf(now) !== version) {
            state.meta.forget(key);
            throw new StrataError('ESTALE', 'the object changed while it was read');
          }
        });
      },
    };
  }

  /** Checks a file write target: not a directory, overwrite rules, no file among its parents. */
  async #checkWriteTarget(res: Resolved, overwrite: boolean, signal?: AbortSignal): Promise<void> {
    if (res.key === '') throw new StrataError('EISDIR', 'cannot write to a mount point');
    const existing = await this.#storeStat(res.mount, res.key, signal);
    if (existing?.isDirectory) throw new StrataError('EISDIR');
    if (existing && !overwrite) throw new StrataError('EEXIST');
    await this.#ensureParent(res, signal);
  }

  /** `ENOTDIR` when a parent of the key is a file (object stores would happily create both). */
  async #ensureParent(res: Resolved, signal?: AbortSignal): Promise<void> {
    for (let key = parentKey(res.key); key !== ''; key = parentKey(key)) {
      const info = await this.#storeStat(res.mount, key, signal);
      if (info?.isDirectory) return;
      if (info) throw new StrataError('ENOTDIR', `a parent is a file: ${joinPath(res.mount.path, key)}`);
    }
  }

  async #writeObject(res: Resolved, body: Buffer | Readable, mode: WriteType, signal?: AbortSignal): Promise<ObjectInfo> {
    const { mount, key } = res;
    const state = this.#state.get(mount)!;
    const object = objectId(state.cacheId, key);
    if (mode === 'MUST_CACHE' || mode === 'ASYNC_THROUGH') {
      const data = Buffer.isBuffer(body) ? body : await collect(body, signal);
      signal?.throwIfAborted();
      const pending = await this.#disk!.journal.stage(state.cacheId, key, data, mode);
      const info: ObjectInfo = { key, size: pending.size, mtime: pending.mtime, etag: `pending-${pending.id}`, isDirectory: false };
      await this.#pages.drop(object);
      this.#pages.admitWritten(object, versionOf(info), data);
      state.meta.written(key, null);
      if (mode === 'ASYNC_THROUGH') this.#writeBack!.schedule(pending);
      return info;
    }
    let data: Buffer | undefined = Buffer.isBuffer(body) ? body : undefined;
    let upload: Buffer | Readable = body;
    if (!data && mode === 'CACHE_THROUGH') {
      // Keep the pages of a streamed write while they fit the memory tier; drop them past that.
      const chunks: Buffer[] = [];
      let kept = 0;
      const limit = this.#pages.memory.capacity;
      upload = (body as Readable).map((chunk: Buffer) => {
        if (kept + chunk.length <= limit) chunks.push(chunk);
        kept += chunk.length;
        return chunk;
      }) as unknown as Readable;
      const info = await mount.store.write(key, upload, { signal });
      if (kept <= limit) data = Buffer.concat(chunks);
      return this.#afterWrite(mount, key, info, mode === 'CACHE_THROUGH' ? data : undefined);
    }
    const info = await mount.store.write(key, upload, { signal, size: data?.length });
    return this.#afterWrite(mount, key, info, mode === 'CACHE_THROUGH' ? data : undefined);
  }

  async #afterWrite(mount: Mount, key: string, info: ObjectInfo, data: Buffer | undefined): Promise<ObjectInfo> {
    const state = this.#state.get(mount)!;
    const object = objectId(state.cacheId, key);
    state.counters.bytesToStore += info.size;
    await this.#disk?.journal.discard(state.cacheId, key);
    await this.#pages.drop(object);
    if (data && data.length === info.size) this.#pages.admitWritten(object, versionOf(info), data);
    state.meta.written(key, info);
    return info;
  }

  /** Called by the write-back uploader once a pending write is in the store. */
  async #afterUpload(mount: Mount, key: string, info: ObjectInfo, data: Buffer): Promise<void> {
    const state = this.#state.get(mount);
    if (!state) return;
    state.counters.bytesToStore += info.size;
    const object = objectId(state.cacheId, key);
    if (this.#disk?.journal.find(state.cacheId, key)) return; // a newer pending write supersedes it
    await this.#pages.drop(object);
    this.#pages.admitWritten(object, versionOf(info), data);
    state.meta.written(key, info);
  }

  async #makeDirectory(res: Resolved, signal?: AbortSignal): Promise<void> {
    const info = await res.mount.store.write(res.key + '/', Buffer.alloc(0), { signal, size: 0 });
    this.#state.get(res.mount)!.meta.written(res.key, { ...info, key: res.key, isDirectory: true, size: 0 });
  }

  async #removeFile(res: Resolved, signal?: AbortSignal): Promise<void> {
    const state = this.#state.get(res.mount)!;
    await this.#disk?.journal.discard(state.cacheId, res.key);
    await res.mount.store.delete(res.key, { signal });
    await this.#pages.drop(objectId(state.cacheId, res.key), { force: true });
    state.meta.removed(res.key);
  }

  /** Removes a directory and everything below it (files first, then directories deepest first). */
  async #removeTree(res: Resolved, signal?: AbortSignal): Promise<void> {
    const { mount, key } = res;
    const state = this.#state.get(mount)!;
    const store = mount.store;
    for (const p of this.#disk?.journal.list(state.cacheId) ?? []) if (key === '' || p.key.startsWith(key + '/')) await this.#disk!.journal.discard(state.cacheId, p.key);
    const all = await walkTree(store, key, { signal });
    const files = all.filter((e) => !e.isDirectory).map((e) => e.key);
    if (store.deleteMany && files.length > 1) await store.deleteMany(files, { signal });
    else await eachLimit(files, CONCURRENCY, (k) => store.delete(k, { signal }));
    const dirs = all.filter((e) => e.isDirectory).sort((a, b) => depth(b.key) - depth(a.key));
    for (const dir of dirs) await store.delete(dir.key + '/', { signal });
    if (key !== '') await store.delete(key + '/', { signal });
    await this.#pages.drop(objectId(state.cacheId, key === '' ? '' : key + '/'), { prefix: true, force: true });
    if (key !== '') await this.#pages.drop(objectId(state.cacheId, key), { force: true });
    state.meta.removed(key, true);
  }

  async #checkMoveTarget(info: FileInfo, existing: FileInfo | undefined, target: string, signal?: AbortSignal): Promise<void> {
    if (!existing) return;
    if (this.#table.get(target) || this.#table.hasMountsBelow(target)) throw new StrataError('EBUSY', 'destination is or holds a mount point');
    if (info.type === 'file' && existing.type === 'directory') throw new StrataError('EISDIR', 'destination is a directory');
    if (info.type === 'directory' && existing.type === 'file') throw new StrataError('ENOTDIR', 'destination is a file');
    if (info.type === 'directory' && (await this.#listDir(target, false, signal)).size > 0) throw new StrataError('ENOTEMPTY', 'destination directory is not empty');
  }

  /** Copies one file: server-side within a store that can, else streamed through. */
  async #copyFile(src: Resolved, dst: Resolved, signal?: AbortSignal): Promise<void> {
    const dstState = this.#state.get(dst.mount)!;
    const srcState = this.#state.get(src.mount)!;
    const pendingSource = this.#disk?.journal.find(srcState.cacheId, src.key);
    if (src.mount.store === dst.mount.store && !pendingSource && src.mount.store.capabilities.copy && src.mount.store.copy) {
      const info = await src.mount.store.copy(src.key, dst.key, { signal });
      await this.#pages.drop(objectId(dstState.cacheId, dst.key));
      dstState.meta.written(dst.key, info);
      return;
    }
    const info = await this.#storeStat(src.mount, src.key, signal);
    if (!info || info.isDirectory) throw new StrataError('ENOENT', 'source file vanished');
    const mode = dst.mount.writeType ?? this.#options.writeType;
    const stream = pageReadStream(this.#pages, async () => this.#source(src.mount, src.key, info), 0, undefined, { readType: 'NO_CACHE', signal });
    const body = info.size <= this.#options.pageSize * 8 ? await collect(stream, signal) : stream;
    await this.#writeObject(dst, body, mode === 'MUST_CACHE' || mode === 'ASYNC_THROUGH' ? mode : 'THROUGH', signal);
  }

  /** Recursive copy of a logical directory (may span nested mounts on the source side). */
  async #copyLogicalTree(source: string, target: string, overwrite: boolean, signal?: AbortSignal): Promise<void> {
    if (!(await this.#statInfo(target, signal))) await this.mkdir(target, { recursive: true, signal });
    const entries = [...(await this.#listDir(source, true, signal)).entries()].sort(([a], [b]) => depth(a) - depth(b));
    for (const [rel, entry] of entries) {
      if (entry.type !== 'directory') continue;
      const to = joinPath(target, rel);
      const existing = await this.#statInfo(to, signal);
      if (existing?.type === 'file') throw new StrataError('ENOTDIR', `destination is a file: ${to}`);
      if (!existing) await this.#makeDirectory(this.#writable(to), signal);
    }
    await eachLimit(
      entries.filter(([, e]) => e.type === 'file'),
      CONCURRENCY,
      async ([rel]) => {
        const to = joinPath(target, rel);
        const existing = await this.#statInfo(to, signal);
        if (existing?.type === 'directory') throw new StrataError('EISDIR', `destination is a directory: ${to}`);
        if (existing && !overwrite) throw new StrataError('EEXIST', `destination exists: ${to}`);
        await this.#copyFile(this.#resolveFile(joinPath(source, rel)), this.#writable(to), signal);
      },
    );
  }

  /** Copies a directory tree within one mount (rename without store rename). */
  async #copyTree(src: Resolved, dst: Resolved, signal?: AbortSignal): Promise<void> {
    const all = await walkTree(src.mount.store, src.key, { signal });
    await this.#makeDirectory(dst, signal);
    for (const dir of all.filter((e) => e.isDirectory).sort((a, b) => depth(a.key) - depth(b.key))) {
      await this.#makeDirectory({ mount: dst.mount, key: moveKey(dir.key, src.key, dst.key) }, signal);
    }
    await eachLimit(
      all.filter((e) => !e.isDirectory),
      CONCURRENCY,
      (file) => this.#copyFile({ mount: src.mount, key: file.key }, { mount: dst.mount, key: moveKey(file.key, src.key, dst.key) }, signal),
    );
  }
}
