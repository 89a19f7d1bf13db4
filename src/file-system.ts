/**
 * `StrataFS`: the facade. It validates, resolves paths to mounts, consults the metadata and
 * page caches, and derives what stores lack (recursive operations, rename, directories). It
 * holds no store-specific logic.
 * @module
 */
import { addAbortSignal, type Readable } from 'node:stream';
import { StrataError, asAbortError, invalid, toStrataError, isAbortError } from './errors.js';
import { settlesWithin } from './deadline.js';
import { eventLoopTurn } from './event-loop-turn.js';
import { dirname, isSameOrBelow, namesDirectory, normalizePath, joinPath } from './path.js';
import {
  checkBoolean,
  checkCount,
  checkEncoding,
  checkOperationOptions,
  checkReadFlag,
  checkNameEncoding,
  type ReaddirOptions,
  checkReadType,
  checkWriteType,
  overwriteOfFlag,
  publicSettings,
  resolveMountOptions,
  resolveOptions,
  type FileInfo,
  type MountInfo,
  type ReadFileOptions,
  type WriteFileOptions,
  type MountOptions,
  type ReadType,
  type StrataOptions,
  type StrataStats,
  type WriteType,
  type WriteFlag,
} from './options.js';
import type { Mount } from './mount/mount-table.js';
import { cacheIdOf, ENDED_PROCESS_STORES, isProcessLocal, openStore } from './mount/open-store.js';
import { withFanOutSignal } from './fs/fan-out.js';
import { StrataDirent } from './fs/dirent.js';
import { linkSignals } from './abort-listeners.js';
import { withLayers } from './layers/index.js';
import { MetadataCache } from './cache/metadata-cache.js';
import { MemoryTier } from './cache/memory-tier.js';
import { PageCache, newCounters, type PageSource } from './cache/page-cache.js';
import { objectId } from './cache/page-id.js';
import { WriteBack } from './cache/write-back.js';
import { PendingIndex } from './cache/pending-index.js';
import { toBody, type WriteData } from './io/body.js';
import { eachLimit } from './store/each-limit.js';
import { pageReadStream, type StrataReadStream } from './io/read-stream.js';
import { uploadingWritable, type StrataWriteStream } from './io/write-stream.js';
import { StrataFileHandle } from './io/file-handle.js';
import type { ByteRange, ObjectInfo, UnderStore } from './store/under-store.js';
import { registerBuiltinStores } from './store/builtin.js';
import { loadConfig, type StrataConfig } from './config/load-config.js';
import { FsContext, closedError, type MountState } from './fs/context.js';
import { Namespace } from './fs/namespace.js';
import { PageSources, isGone } from './fs/page-sources.js';
import { readAgainOnNewVersion } from './io/new-version.js';
import { TreeOps } from './fs/tree.js';
import { Mover } from './fs/move.js';
import { TreeGate } from './fs/tree-gate.js';
import { Writer } from './fs/writer.js';

registerBuiltinStores();

/** Options every file operation accepts. */
export interface OperationOptions {
  /** Aborts the operation. */
  signal?: AbortSignal;
}

/**
 * The longest a store's body may stall when no `timeout` is set: some SDKs never report a
 * connection dropped mid-body, and a read must not hang forever.
 */
const BODY_STALL_MS = 30_000;

/** How long `close()` waits for the changes on their way to finish. */
const CLOSE_WAIT_MS = 10_000;

/** How long `close()` and `unmount()` then wait for the writes they abandoned to drop what they began in the store. */
const GIVE_UP_WAIT_MS = 5_000;

/** The operations that change something: `close()` lets those already on their way finish. */
const CHANGING_OPS = new Set(['write', 'mkdir', 'rm', 'rename', 'copy', 'persist']);

/** Bytes of pages `load()` asks for at once (missing ones in as few ranged reads as possible). */
const LOAD_BATCH_BYTES = 4 * 1024 * 1024;

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
  readonly #ctx: FsContext;
  readonly #ns: Namespace;
  readonly #writer: Writer;
  readonly #sources: PageSources;
  readonly #tree: TreeOps;
  readonly #mover: Mover;
  /** Orders directory moves by copy and the changes below them. */
  readonly #gate = new TreeGate();
  #diskReady: Promise<void> | undefined;
  /** Set by the first `close()`: every call of it resolves when closing is done. */
  #closing: Promise<void> | undefined;
  #nextMountId = 1;
  /** Mount points whose `unmount` is on its way: no mount goes below them meanwhile. */
  readonly #unmounting = new Set<string>();

  /** Validates `options` (throws `EINVAL` naming what is wrong) and creates an empty namespace. */
  constructor(options?: StrataOptions) {
    const resolved = resolveOptions(options);
    this.#ctx = new FsContext(resolved, new PageCache(resolved.pageSize, new MemoryTier(resolved.memoryCapacity, resolved.pageSize), undefined, resolved.retry, resolved.timeout ?? BODY_STALL_MS));
    this.#ns = new Namespace(this.#ctx);
    this.#writer = new Writer(this.#ctx, this.#ns);
    this.#sources = new PageSources(this.#ctx, this.#ns, () => this.#ready());
    this.#tree = new TreeOps(this.#ctx, this.#ns, this.#writer, this.#sources);
    this.#mover = new Mover(this.#ctx, this.#tree);
    this.#keepOnlyMounted();
    if (resolved.disk || resolved.shared) {
      this.#diskReady = this.#openTiers();
      this.#diskReady.catch(() => undefined);
    }
  }

  /** Pages that arrive for a store no longer mounted (a read begun before its unmount) are not cached: the unmount dropped its pages. */
  #keepOnlyMounted(): void {
    const ctx = this.#ctx;
    ctx.pages.cacheable = (object) => ctx.mountByCacheId(object.slice(0, object.indexOf('\n'))) !== undefined;
  }

  /** Opens the disk tier (and its write-back uploader), then the shared tier. */
  async #openTiers(): Promise<void> {
    const ctx = this.#ctx;
    const { disk, shared, pageSize, retry, timeout } = ctx.options;
    if (disk) {
      const { openDiskCache } = await import('./cache/disk/index.js');
      const opened = await openDiskCache(disk.dir, disk.capacity, pageSize, { abandoned: ENDED_PROCESS_STORES });
      // A pending write another process uploaded: what is known of its file here is out of date.
      const journal = new PendingIndex(opened.journal, undefined, (gone) => ctx.changedElsewhere(gone.cacheId, gone.key, false));
      const cache = { tier: opened.tier, journal };
      ctx.disk = cache;
      ctx.pages = new PageCache(pageSize, ctx.pages.memory, cache.tier, retry, timeout ?? BODY_STALL_MS);
      this.#keepOnlyMounted();
      // Pending writes go to a writable mount of their store only: a read-only one is never written to.
      ctx.writeBack = new WriteBack(cache.journal, retry, (cacheId) => ctx.mountByCacheId(cacheId, true), (m, key, info, data) => this.#writer.afterUpload(m, key, info, data), ctx.locks, ctx.keepBudget);
    }
    if (shared) {
      const { openSharedTier } = await import('./cache/shared/index.js');
      const tier = await openSharedTier({ ...shared, pageSize });
      ctx.shared = tier;
      ctx.pages.shared = tier;
      ctx.pages.shareable = (object) => !isProcessLocal(object.slice(0, object.indexOf('\n')));
      tier.onInvalidation(({ cacheId, key, recursive }) => {
        ctx.changedElsewhere(cacheId, key, recursive);
        void ctx.pages.drop(objectId(cacheId, key));
        if (recursive) void ctx.pages.drop(objectId(cacheId, key === '' ? '' : key + '/'), { prefix: true });
      });
    }
  }

  // ---------------------------------------------------------------- mounts

  /**
   * Mounts `store` (an {@link UnderStore} or a URI such as `s3://bucket/prefix`) at `path`.
   * `EEXIST` when a mount is already there or `path` is an existing file; `EBUSY` below a mount
   * point being unmounted; `EINVAL` for bad arguments or an unknown scheme.
   */
  async mount(path: string, store: UnderStore | string, options?: MountOptions): Promise<void> {
    const target = normalizePath(path, 'mount');
    await this.#run('mount', target, async () => {
      const mountOptions = resolveMountOptions(options);
      if (this.#ctx.table.get(target)) throw new StrataError('EEXIST', 'a mount already exists at this path');
      if (target !== '/') {
        const existing = await this.#ns.statInfo(target).catch(() => undefined);
        if (existing && existing.type === 'file') throw new StrataError('EEXIST', 'cannot mount on an existing file');
        const file = await this.#ns.fileAbove(target);
        if (file !== undefined) throw new StrataError('ENOTDIR', `a parent is a file: ${file}`);
      }
      const { store: opened, owned } = await openStore(store, mountOptions.options);
      await this.#ready();
      const taken = this.#ctx.table.get(target) ? new StrataError('EEXIST', 'a mount already exists at this path') : this.#unmountingAbove(target);
      if (taken) {
        if (owned) await opened.close?.();
        throw taken;
      }
      const id = this.#nextMountId++;
      const mount: Mount = {
        path: target,
        store: withLayers(opened, { retry: this.#ctx.options.retry, timeout: this.#ctx.options.timeout, requests: this.#ctx.requests }),
        rawStore: opened,
        uri: opened.uri,
        readOnly: mountOptions.readOnly,
        readType: mountOptions.readType,
        writeType: mountOptions.writeType,
        syncInterval: mountOptions.syncInterval,
        publicOptions: publicSettings(mountOptions.options),
        id,
      };
      this.#ctx.table.add(mount);
      const cacheId = cacheIdOf(opened);
      const meta: MetadataCache = new MetadataCache(
        mountOptions.syncInterval ?? this.#ctx.options.syncInterval,
        (key, recursive) => {
          this.#ctx.shareChange(cacheId, key, recursive);
          this.#ctx.changedElsewhere(cacheId, key, recursive, meta);
        },
        this.#ctx.options.metadataMaxEntries,
      );
      this.#ctx.state.set(mount, {
        meta,
        counters: newCounters(),
        cacheId,
        owned,
        gone: new AbortController(),
        removed: new AbortController(),
      });
      this.#ctx.writeBack?.resume();
    });
  }

  /**
   * Unmounts the mount at `path` and drops its cached data and metadata. `EBUSY` when mounts lie
   * below it. The changes on their way through it finish first (at most 10 s); a change still on
   * its way then (a write stream not ended yet, a store call that never answers) fails with
   * `EINVAL`, as an abort there would leave it (a write stores nothing).
   */
  async unmount(path: string): Promise<void> {
    const target = normalizePath(path, 'unmount');
    await this.#run('unmount', target, async () => {
      const mount = this.#ctx.table.get(target);
      if (!mount) throw new StrataError('EINVAL', 'not a mount point');
      if (this.#ctx.table.hasMountsBelow(target)) throw new StrataError('EBUSY', 'mount point holds other mounts');
      const state = this.#ctx.state.get(mount)!;
      this.#unmounting.add(target);
      try {
        await this.#unmountNow(target, mount, state);
      } finally {
        this.#unmounting.delete(target);
      }
    });
  }

  /** `EBUSY` when a mount point above (or at) `path` is being unmounted: a mount made there now would hold its unmount up. */
  #unmountingAbove(path: string): StrataError | undefined {
    for (const leaving of this.#unmounting) {
      if (isSameOrBelow(path, leaving)) return new StrataError('EBUSY', `the mount at ${leaving} is being unmounted`);
    }
    return undefined;
  }

  /** The unmount of `mount`, once checked: its changes on their way finish, then it goes. */
  async #unmountNow(target: string, mount: Mount, state: MountState): Promise<void> {
    // The changes on their way through the mount (or through a tree holding it) finish against
    // it first, whole; a store call that never answers does not hold the unmount up for ever.
    const waitUntil = Date.now() + CLOSE_WAIT_MS;
    await settlesWithin(this.#ctx.changesSettled(target), CLOSE_WAIT_MS);
    // The store's pending writes are uploaded now, unless a twin mount that stays will upload them
    // (one being unmounted too does not stay), within the same 10 s: a store down does not hold
    // the unmount up twice.
    const twin = [...this.#ctx.state].some(([other, s]) => other !== mount && s.cacheId === state.cacheId && !other.readOnly && !this.#unmounting.has(other.path));
    if (!twin) await this.#ctx.writeBack?.drain(state.cacheId, Math.max(0, waitUntil - Date.now()));
    if (this.#ctx.table.get(target) !== mount) throw new StrataError('EINVAL', 'not a mount point'); // a concurrent unmount of it won
    this.#ctx.abandonWrites(mount); // (writes still on their way: a write stream never ended, a stalled store)
    // They drop what they began in the store (a multipart upload, staged blocks) while it is open.
    await settlesWithin(this.#ctx.changesSettled(target), GIVE_UP_WAIT_MS);
    this.#ctx.removeMount(mount); // (what still cleans up after a failed change there ends)
    this.#ctx.table.remove(target);
    this.#ctx.state.delete(mount);
    state.meta.clear();
    if (!this.#ctx.mountByCacheId(state.cacheId)) await this.#ctx.pages.drop(state.cacheId + '\n', { prefix: true, force: true });
    if (state.owned) await mount.rawStore.close?.();
  }

  /** The mounts, shortest path first; connector settings with secrets replaced by `'***'`. */
  mounts(): MountInfo[] {
    return this.#ctx.table.list().map((m) => ({
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
    return this.#run('stat', target, async () => {
      checkOperationOptions(options, []);
      const info = await this.#ns.statInfo(target, options?.signal);
      if (!info) throw await this.#ns.missing(target, options?.signal);
      if (fileNamedAsDirectory(info, path)) throw notADirectory();
      return info;
    });
  }

  /** True when the path exists (never throws for a missing path; throws `EINVAL` for a bad one). */
  async exists(path: string, options?: OperationOptions): Promise<boolean> {
    const target = normalizePath(path, 'exists');
    return this.#run('exists', target, async () => {
      checkOperationOptions(options, []);
      const info = await this.#ns.statInfo(target, options?.signal);
      return info !== undefined && !fileNamedAsDirectory(info, path);
    });
  }

  /**
   * Names (or, with `withInfo`, {@link FileInfo}s; with `withFileTypes`, {@link StrataDirent}s
   * as `fs.promises.readdir` gives `Dirent`s) of a directory's entries, sorted by path. Mount
   * points directly below it are listed as directories. With `recursive`, every descendant (names
   * as paths relative to `path`). `ENOTDIR` for a file, `ENOENT` when missing. The `encoding` of
   * names may be given as in `fs` (`'utf8'`, alone or in the options); others are `EINVAL`.
   */
  async readdir(path: string, options?: ({ recursive?: boolean; withInfo?: false; withFileTypes?: false; encoding?: 'utf8' | 'utf-8' | null; signal?: AbortSignal } | 'utf8' | 'utf-8' | null)): Promise<string[]>;
  async readdir(path: string, options: { recursive?: boolean; withInfo: true; signal?: AbortSignal }): Promise<FileInfo[]>;
  async readdir(path: string, options: { recursive?: boolean; withFileTypes: true; encoding?: 'utf8' | 'utf-8' | null; signal?: AbortSignal }): Promise<StrataDirent[]>;
  async readdir(path: string, options?: ReaddirOptions | 'utf8' | 'utf-8' | null): Promise<string[] | FileInfo[] | StrataDirent[]>;
  async readdir(path: string, options?: ReaddirOptions | 'utf8' | 'utf-8' | null): Promise<string[] | FileInfo[] | StrataDirent[]> {
    const target = normalizePath(path, 'readdir');
    const opts = typeof options === 'string' ? { encoding: options } : (options ?? undefined);
    return this.#run('readdir', target, async () => {
      checkOperationOptions(opts, ['recursive', 'withInfo', 'withFileTypes', 'encoding']);
      const recursive = checkBoolean(opts?.recursive, 'recursive') ?? false;
      const withInfo = checkBoolean(opts?.withInfo, 'withInfo') ?? false;
      const withFileTypes = checkBoolean(opts?.withFileTypes, 'withFileTypes') ?? false;
      if (withInfo && withFileTypes) throw new StrataError('EINVAL', 'withInfo and withFileTypes can not be given together');
      checkNameEncoding(opts?.encoding);
      const entries = await this.#ns.listDir(target, recursive, opts?.signal);
      const sorted = [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (withFileTypes) return sorted.map(([, info]) => new StrataDirent(info));
      return withInfo ? sorted.map(([, info]) => info) : sorted.map(([name]) => name);
    });
  }

  // ---------------------------------------------------------------- reads

  /**
   * The file's bytes, or `length` bytes from `offset` when given (shorter at the end of the
   * file). `EISDIR` for a directory, `ENOENT` when missing. With an `encoding` (in the options, or
   * alone as the second argument, as `fs.readFile` takes it) the bytes are decoded to a string;
   * `encoding: null` gives a Buffer, as in `fs`.
   */
  async readFile(path: string, options?: ReadFileOptions & { encoding?: null }): Promise<Buffer>;
  async readFile(path: string, options: (ReadFileOptions & { encoding: BufferEncoding }) | BufferEncoding): Promise<string>;
  async readFile(path: string, options?: ReadFileOptions | BufferEncoding): Promise<Buffer | string>;
  async readFile(path: string, options?: ReadFileOptions | BufferEncoding): Promise<Buffer | string> {
    const target = normalizePath(path, 'readFile');
    const opts = typeof options === 'string' ? { encoding: options } : options;
    return this.#run('read', target, async () => {
      checkOperationOptions(opts, ['offset', 'length', 'readType', 'encoding', 'flag']);
      checkReadFlag(opts?.flag);
      const encoding = opts?.encoding === null ? undefined : checkEncoding(opts?.encoding);
      const offset = checkCount(opts?.offset, 'offset') ?? 0;
      const length = checkCount(opts?.length, 'length');
      const readType = checkReadType(opts?.readType);
      await this.#refuseFileAsDirectory(path, target, opts?.signal);
      const first = length === 0 ? undefined : this.#ctx.pages.span(offset, length);
      const bytes = await this.#atOneVersion(target, opts?.signal, first, async (src, mount) => {
        const size = Math.max(0, Math.min(length ?? Infinity, src.size - offset));
        const out = Buffer.allocUnsafe(size);
        await this.#ctx.pages.readInto(src, offset, size, out, 0, { readType: this.#ctx.readType(mount, readType), signal: opts?.signal });
        return out;
      });
      return encoding ? bytes.toString(encoding) : bytes;
    });
  }

  /**
   * A stream of the file's bytes from `start` to `end` (inclusive, like `fs`), page by page with
   * bounded memory. Each chunk is the consumer's own copy; chunks are a page long, or
   * `highWaterMark` bytes when that is smaller. Errors (`ENOENT`, `EISDIR`…) arrive as the
   * stream's `'error'`, naming the path. As with `fs` streams, `signal` (even one that already
   * fired) destroys it with an `AbortError`, and `destroy()` ends it at once, giving up the page
   * fetches it started (a fetch another reader shares goes on for that reader). A stream still
   * reading once its StrataFS is closed (`close()` resolved) or its mount unmounted fails with
   * `EINVAL` (before its next page). `end: Infinity` reads to the end of the file, as in `fs`.
   * A file replaced before the stream handed out its first byte is streamed at its new version
   * (as `readFile` reads it again); replaced later, the stream fails with `ESTALE` rather than
   * mix versions.
   * With `encoding` (in the options, or alone as the second argument, as `fs` streams take it),
   * chunks are strings decoded in that encoding (a character split between two pages arrives
   * whole), as after `setEncoding(encoding)`.
   * `bytesRead` counts the bytes read so far, as on an `fs` read stream. Unlike one, it has no
   * file descriptor: no `'open'` event, and it opens the file when it is first read.
   */
  createReadStream(path: string, opts?: { start?: number; end?: number; readType?: ReadType; highWaterMark?: number; encoding?: BufferEncoding | null; signal?: AbortSignal } | BufferEncoding | null): StrataReadStream {
    const target = normalizePath(path, 'createReadStream');
    const options = typeof opts === 'string' ? { encoding: opts } : opts;
    const { start, end, highWaterMark, readType, encoding } = withArgsContext(target, 'createReadStream', () => {
      checkOperationOptions(options, ['start', 'end', 'readType', 'highWaterMark', 'encoding'], true);
      const first = checkCount(options?.start, 'start') ?? 0;
      const last = options?.end === Infinity ? undefined : checkCount(options?.end, 'end'); // fs's default end
      if (last !== undefined && last < first) throw invalid('end must not be before start');
      return { start: first, end: last, highWaterMark: checkCount(options?.highWaterMark, 'highWaterMark'), readType: checkReadType(options?.readType), encoding: options?.encoding === null ? undefined : checkEncoding(options?.encoding) }; // null: Buffers, as in fs
    });
    let release: (() => void) | undefined;
    let mount: Mount | undefined;
    const context = { path: target, op: 'read', mount: this.#ctx.table.resolve(target)?.mount.path };
    // (Reads on while close() lets the changes on their way finish: this stream may feed one.)
    const live = (): void => (mount ? this.#ctx.checkMounted(mount, true) : undefined);
    const stream = pageReadStream(
      this.#ctx.pages,
      async (first, signal) => {
        try {
          await this.#refuseFileAsDirectory(path, target, signal);
          const opened = await this.#sources.openSource(target, signal, { first });
          release?.(); // (opened again: the file was replaced before its first bytes came)
          release = opened.release;
          mount = opened.mount;
          if (stream.destroyed) release(); // closed while it opened: its 'close' has fired already
          return opened.src;
        } catch (error) {
          throw isAbortError(error) ? asAbortError(error) : toStrataError(error, context);
        }
      },
      start,
      end,
      { readType: readType ?? this.#ctx.options.readType, signal: options?.signal, highWaterMark, context, live },
    );
    // A body opened ahead that the stream did not use (its pages came from elsewhere) is let go.
    stream.once('close', () => release?.());
    if (encoding) stream.setEncoding(encoding);
    return stream;
  }

  /**
   * Opens the file for random access at its current version (see {@link StrataFileHandle}). The
   * handle reads until it is closed, its StrataFS is closed or its mount is unmounted (then its
   * reads fail with `EINVAL`); `free` does not affect it.
   */
  async open(path: string, options?: { readType?: ReadType; signal?: AbortSignal }): Promise<StrataFileHandle> {
    const target = normalizePath(path, 'open');
    return this.#run('open', target, async () => {
      checkOperationOptions(options, ['readType']);
      const readType = checkReadType(options?.readType);
      await this.#refuseFileAsDirectory(path, target, options?.signal);
      const { src, mount, info } = await this.#sources.openSource(target, options?.signal);
      const live = (): void => this.#ctx.checkMounted(mount);
      return new StrataFileHandle(target, src, info.etag ?? src.version, this.#ctx.pages, { readType: this.#ctx.readType(mount, readType) }, mount.path, live);
    });
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes a whole file, all or nothing: a failed or aborted write leaves the previous file (or
   * nothing). Missing parent directories are created (as object stores do). `overwrite: false`
   * fails with `EEXIST` when the file exists. Resolves with the new file's info. A string is
   * written in `encoding` (in the options, or alone as the third argument, as `fs.writeFile`
   * takes it; default `'utf8'`).
   */
  async writeFile(path: string, data: WriteData, options?: WriteFileOptions | BufferEncoding): Promise<FileInfo> {
    const target = normalizePath(path, 'writeFile');
    return this.#run('write', target, async () => {
      const opts = typeof options === 'string' ? { encoding: options } : options;
      checkOperationOptions(opts, ['writeType', 'overwrite', 'encoding', 'flag']);
      const writeType = checkWriteType(opts?.writeType);
      const overwrite = overwriteOfFlag(opts?.flag, checkBoolean(opts?.overwrite, 'overwrite')) ?? true;
      const body = toBody(data, checkEncoding(opts?.encoding));
      // An abort ends the body stream at once, so every store sees a failed source and keeps the old object.
      if (opts?.signal && !Buffer.isBuffer(body)) addAbortSignal(opts.signal, body);
      if (namesDirectory(path)) {
        // As `fs`: a file cannot be written by a directory's name (ENOTDIR when it, or a path above it, is a file).
        await this.#refuseFileAsDirectory(path, target, opts?.signal);
        if ((await this.#ns.fileAbove(target, opts?.signal)) !== undefined) throw notADirectory('a parent is a file');
        throw new StrataError('EISDIR');
      }
      const res = this.#ctx.writable(target);
      const mode = writeType ?? res.mount.writeType ?? this.#ctx.options.writeType;
      if ((mode === 'MUST_CACHE' || mode === 'ASYNC_THROUGH') && !this.#ctx.options.disk) throw invalid(`writeType ${mode} needs cache.disk`);
      await this.#ready();
      // The look at the target is part of the write: it too ends when the mount goes meanwhile
      // (a store that never answers it does not keep the write waiting after unmount or close).
      const write = (): Promise<ObjectInfo> =>
        this.#ctx.whileMounted(res.mount, opts?.signal, async (signal) => {
          await this.#writer.checkWriteTarget(res, overwrite, signal);
          return this.#writer.writeObject(res, body, mode, signal);
        });
      // One change of a file at a time, in the order asked: overwrite: false is exclusive, and the
      // last write wins in the store and the caches. (An upload of the file on its way gives way.)
      // A write into a directory being moved by copy lands after the move (see TreeGate); a move
      // asked meanwhile lets it end first, unless it writes a stream (which may end after the move).
      const info = await this.#gate.change([target], () => this.#ctx.inOrder(res.mount, res.key, write, opts?.signal, overwrite), opts?.signal, Buffer.isBuffer(body));
      return this.#ns.fileInfo(joinPath(res.mount.path, info.key), res.mount, info);
    });
  }

  /**
   * A Writable whose data becomes the file once it finishes (`'finish'`); nothing is visible
   * before. Writes wait while the store has not taken the bytes before them (backpressure), a
   * failed write is the stream's `'error'`, and a stream destroyed before it finished stores nothing.
   * As with `fs` write streams, `highWaterMark` is the number of bytes buffered before `write`
   * returns `false` (default 16 KiB), `encoding` (in the options, or alone as the second
   * argument) that of strings written without one (default `'utf8'`), `flags` `'w'` (replace)
   * or `'wx'` (`overwrite: false`; appending is `EINVAL`), and `bytesWritten` the number of
   * bytes passed on to the store so far.
   */
  createWriteStream(path: string, opts?: { writeType?: WriteType; overwrite?: boolean; flags?: WriteFlag; highWaterMark?: number; encoding?: BufferEncoding; signal?: AbortSignal } | BufferEncoding | null): StrataWriteStream {
    const target = normalizePath(path, 'createWriteStream');
    const options = typeof opts === 'string' ? { encoding: opts } : opts;
    const { highWaterMark, encoding, overwrite } = withArgsContext(target, 'createWriteStream', () => {
      checkOperationOptions(options, ['writeType', 'overwrite', 'flags', 'highWaterMark', 'encoding'], true);
      checkWriteType(options?.writeType);
      const overwrite = overwriteOfFlag(options?.flags, checkBoolean(options?.overwrite, 'overwrite'), 'flags');
      return { highWaterMark: checkCount(options?.highWaterMark, 'highWaterMark'), encoding: checkEncoding(options?.encoding), overwrite };
    });
    const writeType = options?.writeType;
    const upload = async (body: Readable, cancel: AbortSignal): Promise<FileInfo> => {
      // Follows the caller's signal only while the upload runs: nothing of it stays on a long-lived one.
      const signal = linkSignals([options?.signal, cancel]);
      try {
        return await this.writeFile(path, body, { writeType, overwrite, signal: signal.signal });
      } finally {
        signal.dispose();
      }
    };
    return uploadingWritable(upload, { highWaterMark, defaultEncoding: encoding });
  }

  /** Creates a directory (`recursive`: and its parents, no error if it exists). `EEXIST` otherwise when it exists. */
  async mkdir(path: string, options?: { recursive?: boolean; signal?: AbortSignal }): Promise<void> {
    const target = normalizePath(path, 'mkdir');
    await this.#run('mkdir', target, async () => {
      checkOperationOptions(options, ['recursive']);
      const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
      await this.#ctx.whileMountedAt([target], options?.signal, (signal) => this.#gate.change([target], () => this.#makeDirectory(target, recursive, signal, path), signal));
    });
  }

  /** `mkdir` of a checked path (its parents first, with `recursive`), each in its turn; `asGiven` is the path as the caller wrote it. */
  async #makeDirectory(target: string, recursive: boolean, signal?: AbortSignal, asGiven = target): Promise<void> {
    const make = async (): Promise<void> => {
      const existing = await this.#ns.statInfo(target, signal);
      if (existing) {
        if (existing.type === 'directory' && recursive) return;
        // As fs: `mkdir -p file/` is ENOTDIR (the path names a directory; it is a file).
        if (recursive && fileNamedAsDirectory(existing, asGiven)) throw notADirectory();
        throw new StrataError('EEXIST');
      }
      const res = this.#ctx.writable(target);
      const parent = dirname(target);
      const parentInfo = await this.#ns.statInfo(parent, signal);
      if (!parentInfo) {
        // As fs: ENOTDIR when the parent is missing because a path above it is a file.
        if (!recursive) throw (await this.#ns.fileAbove(target, signal)) === undefined ? new StrataError('ENOENT', 'parent directory does not exist') : notADirectory('a parent is a file');
        await this.#makeDirectory(parent, true, signal);
      } else if (parentInfo.type !== 'directory') throw new StrataError('ENOTDIR', 'a parent is a file');
      await this.#writer.makeDirectory(res, signal);
    };
    // Concurrent mkdir of one path: one makes it, the others see it (EEXIST unless recursive);
    // it takes the turn of a file of that name too.
    const res = this.#ctx.table.resolve(target);
    await (res ? this.#ctx.inOrder(res.mount, res.key, make, signal) : make());
  }

  /**
   * Removes a file or directory. A non-empty directory needs `recursive` (`ENOTEMPTY`
   * otherwise); a missing path fails with `ENOENT` unless `force`. Mount points and directories
   * holding mount points fail with `EBUSY`.
   */
  async rm(path: string, options?: { recursive?: boolean; force?: boolean; signal?: AbortSignal }): Promise<void> {
    return withFanOutSignal(options, async (options) => {
      const target = normalizePath(path, 'rm');
      await this.#run('rm', target, async () => {
        checkOperationOptions(options, ['recursive', 'force']);
        const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
        const force = checkBoolean(options?.force, 'force') ?? false;
        await this.#ctx.whileMountedAt([target], options?.signal, (signal) => this.#gate.change([target], () => this.#remove(path, target, recursive, force, signal), signal));
      });
    });
  }

  /** {@link rm} of a checked path, once no move of a directory holding it is on its way. */
  async #remove(path: string, target: string, recursive: boolean, force: boolean, signal: AbortSignal | undefined): Promise<void> {
    const info = await this.#ns.statInfo(target, signal);
    if (!info) {
      const missing = await this.#ns.missing(target, signal);
      if (force && missing.code === 'ENOENT') return; // as fs: force hides a missing path, not a file taken for a directory
      throw missing;
    }
    if (fileNamedAsDirectory(info, path)) throw notADirectory();
    if (this.#ctx.table.get(target) || this.#ctx.table.hasMountsBelow(target)) throw new StrataError('EBUSY', 'is or holds a mount point');
    const res = this.#ctx.writable(target);
    await this.#ready();
    if (info.type === 'file') return this.#tree.removeFile(res, signal);
    const children = await this.#ns.listDir(target, false, signal);
    if (children.size > 0 && !recursive) throw new StrataError('ENOTEMPTY');
    await this.#tree.removeTree(res, signal);
  }

  /**
   * Moves a file or directory (directories recursively) within one mount; `EXDEV` across
   * mounts. Missing parent directories of `to` are created, as `writeFile` creates them
   * (`fs.rename` fails with `ENOENT` there). Uses the store's own rename where it has one, else copy + delete (not atomic for
   * directories on object stores). An existing file at `to` is replaced. An abort stops a
   * directory move by copy until its tree is copied (nothing stays at `to`), not after it (the
   * source is then removed, so the tree is never left under both names). When the store fails
   * to remove the source of a copied tree, calling the same rename again removes what is left of
   * it (if unchanged and still at `to`) instead of failing `ENOTEMPTY`. On a store without its own
   * rename, changes at or below `from` through this StrataFS wait until the move is done, and
   * those on their way end before it begins (a write stream still open is not waited for: its
   * file lands under the old name once it ends).
   */
  async rename(from: string, to: string, options?: OperationOptions): Promise<void> {
    return withFanOutSignal(options, async (options) => {
      const source = normalizePath(from, 'rename');
      const target = normalizePath(to, 'rename');
      await this.#run('rename', source, async () => {
        checkOperationOptions(options, []);
        this.#seePendingWrites();
        // Moves of one source run one after another: the second finds it gone, as on a file system.
        await this.#ctx.whileMountedAt([source, target], options?.signal, (signal) => this.#mover.inTurn(source, () => this.#moving(source, () => this.#renameChecked(source, target, from, to, { signal }), signal), signal));
      }, target);
    });
  }

  /**
   * Runs `fn`, a move of `source`: on a store without its own rename (a move by copy + delete),
   * the changes below `source` on their way end first and those asked meanwhile wait for it (see
   * TreeGate); elsewhere, it is a change of `source` like any other.
   */
  #moving(source: string, fn: () => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    const store = this.#ctx.table.resolve(source)?.mount.store;
    const byCopy = store !== undefined && !(store.capabilities.rename && store.rename);
    return byCopy ? this.#gate.move(source, fn, signal) : this.#gate.change([source], fn, signal);
  }

  /** {@link rename} of normalised paths, once the moves of `source` asked before it have ended. */
  async #renameChecked(source: string, target: string, from: string, to: string, options: OperationOptions | undefined): Promise<void> {
    const info = await this.#ns.statInfo(source, options?.signal);
    if (!info) throw await this.#ns.missing(source, options?.signal);
    if (fileNamedAsDirectory(info, from, to)) throw notADirectory();
    if (source === target) return;
    if (isSameOrBelow(target, source)) throw invalid('cannot move a directory into itself');
    if (this.#ctx.table.get(source) || this.#ctx.table.hasMountsBelow(source)) throw new StrataError('EBUSY', 'is or holds a mount point');
    const src = this.#ctx.writable(source);
    const dst = await this.#atDestination(target, () => this.#ctx.writable(target));
    if (src.mount !== dst.mount) throw new StrataError('EXDEV', `cannot rename across mounts (${src.mount.path} -> ${dst.mount.path}); use copy + rm`);
    await this.#ready();
    const { cacheId } = this.#ctx.stateOf(src.mount);
    // Another process's upload of a pending write of the source (or below it) lands first, then
    // the others go to the store: none lands after the move, under the old name.
    const held = (await this.#ctx.writeBack?.holdUploads(cacheId, src.key, options?.signal, info.type === 'directory')) ?? [];
    try {
      await this.#ctx.writeBack?.persistKey(cacheId, src.key, false, options?.signal);
    } finally {
      this.#ctx.writeBack?.releaseAll(held);
    }
    // The same move again, after the store failed to remove the source of the tree it copied: it ends there.
    if (info.type === 'directory' && (await this.#mover.finishLeftOver(src, dst, options?.signal))) return;
    const existing = await this.#atDestination(target, async () => {
      const found = await this.#ns.statInfo(target, options?.signal);
      await this.#tree.checkMoveTarget(info, found, target, options?.signal);
      await this.#writer.ensureParent(dst, options?.signal);
      return found;
    });
    await this.#mover.move(src, dst, info, existing, options?.signal);
  }

  /**
   * Copies a file, or a directory with `recursive` (`EISDIR` without it), also across mounts.
   * `overwrite` (default `true`): replace existing files; `false`: `EEXIST` when one exists.
   * Missing parent directories of `to` are created, as `writeFile` creates them. A copy that
   * fails part-way removes what it made (`fs.cp` leaves it).
   */
  async copy(from: string, to: string, options?: { recursive?: boolean; overwrite?: boolean; signal?: AbortSignal }): Promise<void> {
    return withFanOutSignal(options, async (options) => {
      const source = normalizePath(from, 'copy');
      const target = normalizePath(to, 'copy');
      await this.#run('copy', source, async () => {
        checkOperationOptions(options, ['recursive', 'overwrite']);
        const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
        const overwrite = checkBoolean(options?.overwrite, 'overwrite') ?? true;
        await this.#ctx.whileMountedAt([source, target], options?.signal, (signal) => this.#gate.change([source, target], () => this.#copyChecked(source, target, from, to, recursive, overwrite, signal), signal));
      }, target);
    });
  }

  /** {@link copy} of normalised paths, once no move of a directory holding either is on its way. */
  async #copyChecked(source: string, target: string, from: string, to: string, recursive: boolean, overwrite: boolean, signal: AbortSignal | undefined): Promise<void> {
    const info = await this.#ns.statInfo(source, signal);
    if (!info) throw await this.#ns.missing(source, signal);
    if (fileNamedAsDirectory(info, from, to)) throw notADirectory();
    if (source === target) throw invalid('source and destination are the same');
    if (info.type === 'directory' && !recursive) throw new StrataError('EISDIR', 'copy of a directory needs { recursive: true }');
    if (info.type === 'directory' && isSameOrBelow(target, source)) throw invalid('cannot copy a directory into itself');
    const dst = await this.#atDestination(target, async () => {
      const resolved = this.#ctx.writable(target);
      const existing = await this.#ns.statInfo(target, signal);
      if (existing) {
        if (info.type === 'file' && existing.type === 'directory') throw new StrataError('EISDIR', 'destination is a directory');
        if (info.type === 'directory' && existing.type === 'file') throw new StrataError('ENOTDIR', 'destination is a file');
        if (info.type === 'file' && !overwrite) throw new StrataError('EEXIST', 'destination exists');
      }
      await this.#ready();
      await this.#writer.ensureParent(resolved, signal);
      return resolved;
    });
    if (info.type === 'file') {
      await this.#tree.copyFile(this.#ctx.resolveMounted(source), dst, signal, overwrite);
      return;
    }
    await this.#tree.copyLogicalTree(source, target, overwrite, signal);
  }

  // ---------------------------------------------------------------- cache control

  /**
   * Warms the cache with a file, or a directory's files with `recursive`; reports progress. It
   * resolves once the pages are cached: with a disk tier, once they are written to it. A file of
   * the directory removed since it was listed (by another client of the store) is skipped, and
   * leaves the progress totals.
   */
  async load(
    path: string,
    options?: { recursive?: boolean; onProgress?: (p: { bytes: number; totalBytes: number; files: number; totalFiles: number }) => void; signal?: AbortSignal },
  ): Promise<void> {
    return withFanOutSignal(options, async (options) => {
      const target = normalizePath(path, 'load');
      await this.#run('load', target, async () => {
        checkOperationOptions(options, ['recursive', 'onProgress']);
        const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
        if (options?.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalid('onProgress must be a function');
        await this.#ready();
        const files = await this.#ns.filesOf(target, recursive, options?.signal);
        const progress = { bytes: 0, totalBytes: files.reduce((n, f) => n + f.size, 0), files: 0, totalFiles: files.length };
        options?.onProgress?.({ ...progress });
        const pages = this.#ctx.pages;
        // Batches of 4 MiB, as streams read ahead: one ranged read for each run of missing pages.
        const batch = Math.max(1, Math.floor(LOAD_BATCH_BYTES / pages.pageSize));
        const listed = !(files.length === 1 && files[0]!.path === target);
        await eachLimit(files, 4, async (file) => {
          let loaded = 0;
          const loading = this.#atOneVersion(file.path, options?.signal, undefined, async (src, mount) => {
            progress.bytes -= loaded; // (what an attempt at an older version counted)
            loaded = 0;
            for (let first = 0; first < pages.pageCount(src.size); first += batch) {
              const count = Math.min(batch, pages.pageCount(src.size) - first);
              const bytes = await pages.warm(src, first, count, { readType: mount.readType === 'CACHE_PROMOTE' ? 'CACHE_PROMOTE' : 'CACHE', signal: options?.signal });
              loaded += bytes;
              progress.bytes += bytes; // after the await: files load side by side
              options?.onProgress?.({ ...progress });
            }
            // Loaded means kept: the pages are on disk, not only in memory they may leave at once.
            await pages.onDisk(src.object);
          });
          try {
            await loading;
          } catch (error) {
            // A file of the directory removed since it was listed (by another client of the store,
            // within syncInterval) has nothing to load: it leaves the totals.
            if (!listed || (error as StrataError).code !== 'ENOENT') throw error;
            progress.bytes -= loaded;
            progress.totalBytes -= file.size;
            progress.totalFiles--;
            options?.onProgress?.({ ...progress });
            return;
          }
          progress.files++;
          options?.onProgress?.({ ...progress });
        });
      });
    });
  }

  /** Drops cached pages and metadata of a file (or a directory's, with `recursive`); pinned pages stay. */
  async free(path: string, options?: { recursive?: boolean; signal?: AbortSignal }): Promise<void> {
    return withFanOutSignal(options, async (options) => {
      const target = normalizePath(path, 'free');
      await this.#run('free', target, async () => {
        checkOperationOptions(options, ['recursive']);
        const recursive = checkBoolean(options?.recursive, 'recursive') ?? false;
        await this.#ready();
        // A cached "not found" is metadata too: dropped, so the store is asked again.
        const resolved = this.#ctx.table.resolve(target);
        if (resolved) this.#ctx.stateOf(resolved.mount).meta.forgetMissing(resolved.key);
        const info = await this.#ns.statInfo(target, options?.signal);
        if (!info) throw await this.#ns.missing(target, options?.signal);
        if (info.type === 'directory' && !recursive) {
          // (Mount points below it, and the directories of the namespace leading to them, are sub-directories too.)
          const children = await this.#ns.listDir(target, false, options?.signal);
          if ([...children.values()].some((c) => c.type === 'directory')) throw new StrataError('EISDIR', 'free of a directory with sub-directories needs { recursive: true }');
        }
        for (const { mount, key } of this.#ctx.mountsUnder(target)) {
          const state = this.#ctx.state.get(mount)!;
          if (info.type === 'file') {
            await this.#ctx.pages.drop(objectId(state.cacheId, key));
            state.meta.forget(key);
          } else {
            await this.#ctx.pages.drop(objectId(state.cacheId, key === '' ? '' : key + '/'), { prefix: true });
            state.meta.forgetBelow(key);
            state.meta.forget(key);
          }
        }
      });
    });
  }

  /** Pins a file or directory: its pages are loaded and never evicted until {@link unpin}. */
  async pin(path: string, options?: OperationOptions): Promise<void> {
    return withFanOutSignal(options, async (options) => {
      const target = normalizePath(path, 'pin');
      await this.#run('pin', target, async () => {
        checkOperationOptions(options, []);
        const pinned = await this.#setPinned(target, true, options?.signal);
        const missed = (): boolean => pinned.map(({ object, prefix }) => this.#ctx.pages.takePinMisses(object, prefix)).includes(true);
        missed(); // only this pin's misses count
        await this.load(target, { recursive: true, signal: options?.signal });
        await this.#ctx.pages.settle(); // pages cached before the pin are written to disk as pinned
        this.#checkOpen(); // pages that missed the cache because it closed meanwhile are no lack of space
        if (missed()) {
          throw new StrataError('ENOSPC', 'the pinned data does not fit in the cache; what fits stays pinned until unpin');
        }
      });
    });
  }

  /** Undoes {@link pin}: the pages become evictable again. */
  async unpin(path: string, options?: OperationOptions): Promise<void> {
    return withFanOutSignal(options, async (options) => {
      const target = normalizePath(path, 'unpin');
      checkOperationOptions(options, []);
      await this.#run('unpin', target, async () => void (await this.#setPinned(target, false, options?.signal)));
    });
  }

  /** Writes `MUST_CACHE` / `ASYNC_THROUGH` data at or below `path` to the store now. */
  async persist(path: string, options?: OperationOptions): Promise<void> {
    return withFanOutSignal(options, async (options) => {
      const target = normalizePath(path, 'persist');
      await this.#run('persist', target, async () => {
        checkOperationOptions(options, []);
        await this.#ready();
        this.#seePendingWrites();
        if (!(await this.#ns.statInfo(target, options?.signal))) throw await this.#ns.missing(target, options?.signal);
        await this.#ctx.whileMountedAt([target], options?.signal, async (signal) => {
          for (const { mount, key } of this.#ctx.mountsUnder(target)) await this.#ctx.writeBack?.persistKey(this.#ctx.stateOf(mount).cacheId, key, true, signal);
        });
      });
    });
  }

  /**
   * Reads the pending writes from the journal itself, not from this process's view of it (re-read
   * at most once a second): a change that must not miss one another process made a moment ago
   * (a persist, a rename's source) then finds it.
   */
  #seePendingWrites(): void {
    this.#ctx.disk?.journal.list(undefined, true);
  }

  /** Resolves once every `ASYNC_THROUGH` write of the mounted stores is in its store. */
  async flush(): Promise<void> {
    await this.#run('flush', undefined, async () => {
      await this.#ready();
      await this.#ctx.writeBack?.flush();
    });
  }

  /** Cache and store figures (see {@link StrataStats}). */
  stats(): StrataStats {
    const c = this.#ctx.pages.counters;
    const metadata = { hits: 0, misses: 0, entries: 0 };
    const mounts: StrataStats['mounts'] = {};
    for (const [mount, state] of this.#ctx.state) {
      metadata.hits += state.meta.hits;
      metadata.misses += state.meta.misses;
      metadata.entries += state.meta.size;
      mounts[mount.path] = { ...state.counters };
    }
    const bytesToStore = [...this.#ctx.state.values()].reduce((n, s) => n + s.counters.bytesToStore, 0);
    return {
      hits: c.hits,
      misses: c.misses,
      bytesFromCache: c.bytesFromCache,
      bytesFromStore: c.bytesFromStore,
      bytesToStore,
      storeRequests: { ...this.#ctx.requests },
      memory: this.#ctx.pages.memory.stats(),
      disk: this.#ctx.disk?.tier.stats(),
      metadata,
      pendingWrites: this.#ctx.disk ? this.#ctx.disk.journal.list().length : 0,
      shared: this.#ctx.shared?.stats(),
      mounts,
    };
  }

  /**
   * Lets the changes already on their way finish (calls made once `close()` was called fail at
   * once with `EINVAL`, also before it resolves; a `pin` on its way too), uploads pending
   * `ASYNC_THROUGH` writes, persists the disk index, closes the stores stratafs opened. Every
   * call resolves once closing is done. A write whose store keeps failing gets the `retry`
   * policy's attempts, and an upload stalled with its store is given up after 10 s: such a write
   * stays in the disk cache, safe, for the next `StrataFS` on that `cache.disk.dir` to upload.
   * A change still on its way after those 10 s (a write stream not ended yet, a store call that
   * never answers) fails with `EINVAL`, as an abort there would leave it (a write stores nothing).
   */
  close(): Promise<void> {
    // From now on new calls fail at once; the changes already on their way finish.
    this.#ctx.closed = true;
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const waitUntil = Date.now() + CLOSE_WAIT_MS;
    await this.#ready().catch(() => undefined);
    await this.#ctx.writeBack?.drain(undefined, Math.max(0, waitUntil - Date.now())).catch(() => undefined);
    // (Uploads they waited for are done or given up by now; a store call that ignores its abort
    // and never answers does not hold close() up for ever, nor a store down twice.)
    await settlesWithin(this.#ctx.changesSettled(), Math.max(0, waitUntil - Date.now()));
    for (const mount of this.#ctx.state.keys()) this.#ctx.abandonWrites(mount);
    // They drop what they began in their stores (a multipart upload, staged blocks) while those are open.
    await settlesWithin(this.#ctx.changesSettled(), GIVE_UP_WAIT_MS);
    for (const mount of this.#ctx.state.keys()) this.#ctx.removeMount(mount);
    await this.#ctx.writeBack?.drain().catch(() => undefined); // what they left pending
    await this.#ctx.writeBack?.stop();
    await this.#ctx.pages.settle();
    await this.#ctx.disk?.tier.close();
    await this.#ctx.shared?.close();
    for (const [mount, state] of this.#ctx.state) if (state.owned) await mount.rawStore.close?.().catch(() => undefined);
    this.#ctx.state.clear();
    this.#ctx.pages.memory.clear();
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

  /**
   * Runs `read` on the file at `path` at one version. When the file changed while it read
   * (`ESTALE`), what is known of it is forgotten (by the fleet too: its shared answer is as old
   * as ours) and it is read again at its new version ({@link readAgainOnNewVersion}): never a mix.
   */
  async #atOneVersion<T>(path: string, signal: AbortSignal | undefined, first: ByteRange | undefined, read: (src: PageSource, mount: Mount) => Promise<T>): Promise<T> {
    // A file found gone by the read (removed, or now a directory) is looked up again too: the
    // call then fails as a stat finds it now (ENOENT, EISDIR), or reads what replaced it.
    const changed = (error: unknown) => (error as StrataError).code === 'ESTALE' || isGone((error as StrataError).code);
    return readAgainOnNewVersion(async () => {
      const { src, mount, release } = await this.#sources.openSource(path, signal, { first });
      try {
        return await read(src, mount);
      } catch (error) {
        if (changed(error)) this.#ctx.state.get(mount)?.meta.changedOutside(this.#ctx.table.resolve(path)!.key);
        throw error;
      } finally {
        release();
      }
    }, changed);
  }

  /** Runs a call on `path` (and `also`, the destination of a copy or move): its errors get their context, and `close()` and `unmount()` let a change finish. */
  async #run<T>(op: string, path: string | undefined, fn: () => Promise<T>, also?: string): Promise<T> {
    try {
      this.#checkOpen();
      if (!CHANGING_OPS.has(op)) return await fn();
      const paths = [path, also].filter((p): p is string => p !== undefined);
      return await this.#ctx.changing(fn(), paths);
    } catch (error) {
      if (isAbortError(error)) throw asAbortError(error); // one shape whichever part noticed the abort
      const mount = path ? this.#ctx.table.resolve(path)?.mount.path : undefined;
      throw toStrataError(error, { op, path, mount });
    } finally {
      // Done: a loop of calls the cache answers (or of calls that fail) lets timers and I/O run.
      const turn = eventLoopTurn();
      if (turn) await turn;
    }
  }

  /** Runs the part of a two-path call (copy, rename) about its destination: what it throws names `target` and its mount. */
  async #atDestination<T>(target: string, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof StrataError) throw error.withContext({ path: target, mount: this.#ctx.table.resolve(target)?.mount.path });
      throw error;
    }
  }

  /**
   * Pins or unpins a file or a directory (with the mounts below it, of a directory of the
   * namespace too); resolves the object ids (or id prefixes) it applied to.
   */
  async #setPinned(target: string, pinned: boolean, signal?: AbortSignal): Promise<Array<{ object: string; prefix: boolean }>> {
    await this.#ready();
    const info = await this.#ns.statInfo(target, signal);
    if (!info) throw await this.#ns.missing(target, signal);
    if (info.type === 'file') {
      const { mount, key } = this.#ctx.resolveMounted(target);
      const object = objectId(this.#ctx.state.get(mount)!.cacheId, key);
      await this.#ctx.pages.setPinned(object, pinned);
      return [{ object, prefix: false }];
    }
    const under = this.#ctx.mountsUnder(target);
    // A directory that cannot be listed fails the pin (ENOTSUP) before anything is pinned.
    if (pinned) {
      for (const { mount } of under) {
        if (!mount.store.capabilities.list) throw new StrataError('ENOTSUP', `the store ${mount.uri} cannot list directories (capabilities.list is false)`);
      }
    }
    const applied: Array<{ object: string; prefix: boolean }> = [];
    for (const { mount, key } of under) {
      const object = objectId(this.#ctx.state.get(mount)!.cacheId, key === '' ? '' : key + '/');
      await this.#ctx.pages.setPinned(object, pinned, { prefix: true });
      applied.push({ object, prefix: true });
    }
    return applied;
  }

  /** `ENOTDIR` when `path` names a directory by its ending (see `namesDirectory`) and `target` is a file. */
  async #refuseFileAsDirectory(path: string, target: string, signal?: AbortSignal): Promise<void> {
    if (!namesDirectory(path)) return;
    const info = await this.#ns.statInfo(target, signal);
    if (info && fileNamedAsDirectory(info, path)) throw notADirectory();
  }

  #checkOpen(): void {
    if (this.#ctx.closed) throw closedError();
  }

  async #ready(): Promise<void> {
    if (this.#diskReady) await this.#diskReady;
  }
}

/** Runs the argument checks of a call that does not return a promise: what they throw names the path and the call. */
function withArgsContext<T>(path: string, op: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw isAbortError(error) ? asAbortError(error) : toStrataError(error, { path, op });
  }
}

/** True when `info` is a file and one of `paths`, as given, names a directory by its ending. */
function fileNamedAsDirectory(info: FileInfo, ...paths: string[]): boolean {
  return info.type === 'file' && paths.some(namesDirectory);
}

/** A path that names a directory by its ending was a file (or, as `detail` says, a path above it is one). */
function notADirectory(detail = 'not a directory (the path ends with a slash)'): StrataError {
  return new StrataError('ENOTDIR', detail);
}
