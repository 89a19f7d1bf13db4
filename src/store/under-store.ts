/**
 * The connector contract: the few primitives a store implements. Everything else
 * (recursive list/rm/copy, rename, directories, caching) is derived by the facade.
 * @module
 */
import type { Readable } from 'node:stream';

/** What a store knows about one object or directory. */
export interface ObjectInfo {
  /** Key relative to the store's root, without a leading or trailing `/` (`''` is the root). */
  key: string;
  /** Size in bytes (`0` for directories). */
  size: number;
  /** Last modification time, when the store reports one. */
  mtime?: Date;
  /** The store's version tag (an ETag, a generation…), when it has one. */
  etag?: string;
  /** True for directories: real ones, `dir/` markers, or prefixes with keys below them. */
  isDirectory: boolean;
}

/**
 * What a store can do by itself. A missing flag counts as `false`; the facade fills every gap
 * (copy = read + write, rename = copy + delete, no `rangeRead` = read whole and cut).
 */
export interface StoreCapabilities {
  /** `read(key, range)` returns only that range. */
  rangeRead: boolean;
  /** `list()` works. */
  list: boolean;
  /** `copy()` is implemented by the store itself (server-side). */
  copy: boolean;
  /** `rename()` is implemented by the store itself. */
  rename: boolean;
  /** Real directories (a local file system); `false`: prefixes and `dir/` markers. */
  directories: boolean;
  /** `read` honours `opts.ifMatch` (an etag) and fails with `ESTALE` when it differs. */
  conditionalRead?: boolean;
  /** `readWithInfo` names the version it served from the read's own answer (no second request). */
  readInfo?: boolean;
}

/** Options every store call accepts. */
export interface StoreCallOptions {
  /** Aborts the call; the store stops as soon as it can and leaves nothing partial. */
  signal?: AbortSignal;
}

/** A byte range: `length` omitted means "to the end". */
export interface ByteRange {
  /** First byte, from 0. */
  offset: number;
  /** Number of bytes; omitted: to the end of the object. */
  length?: number;
}

/** Options of {@link UnderStore.read}. */
export interface StoreReadOptions extends StoreCallOptions {
  /** Read only if the object's etag is still this one (stores with `conditionalRead`). */
  ifMatch?: string;
}

/** What {@link UnderStore.readWithInfo} returns: the bytes and the object they came from. */
export interface StoreReadResult {
  /** The object's bytes, or the range asked for. */
  body: Readable;
  /**
   * The object as the same answer described it: `size` of the whole object (not of the range),
   * `etag` of the version served (undefined when the store sent none), `mtime` when known.
   */
  info: ObjectInfo;
}

/** Options of {@link UnderStore.write}. */
export interface StoreWriteOptions extends StoreCallOptions {
  /** The body's size when known in advance (lets stores pick a single PUT over multipart). */
  size?: number;
}

/** Options of {@link UnderStore.list}. */
export interface StoreListOptions extends StoreCallOptions {
  /** All descendants instead of direct children. */
  recursive?: boolean;
}

/**
 * A storage system as stratafs sees it. Keys are relative to the store's root, use `/` as
 * separator, never start with `/`, and never contain empty, `.` or `..` segments.
 *
 * Directories: `write('dir/', empty)` creates a directory (a marker object on object stores),
 * `delete('dir/')` removes that directory's marker (an empty directory on a file system).
 *
 * Errors: throw a {@link StrataError} (set `temporary` for errors worth retrying), or any error
 * with a Node-style `code` (`ENOENT`, `EACCES`…), which keeps its code; anything else becomes `EIO`.
 */
export interface UnderStore {
  /** Identifies the store (`s3://bucket/prefix`); never contains a secret. */
  readonly uri: string;
  /**
   * Where the store lives when `uri` does not say it (a custom endpoint such as
   * `http://minio:9000`, an Azure account), never with a secret. Part of the id its pages and
   * metadata are cached and shared under: two stores with one `uri` on different servers never
   * take each other's pages, `stat` answers or listings. Optional (the `uri` says it all).
   */
  readonly location?: string;
  /** What the store does by itself. */
  readonly capabilities: StoreCapabilities;
  /** Metadata of a file or directory; `undefined` when missing. `stat('')` is the root. */
  stat(key: string, opts?: StoreCallOptions): Promise<ObjectInfo | undefined>;
  /**
   * Children of the directory `prefix` (`''` for the root), each once; with `recursive`, every
   * descendant file and at least every descendant directory that has a marker. Keys are
   * relative to the store's root. Order is not significant.
   */
  list(prefix: string, opts?: StoreListOptions): AsyncIterable<ObjectInfo>;
  /** The object's bytes, or the given range of them (past the end: empty). */
  read(key: string, range?: ByteRange, opts?: StoreReadOptions): Promise<Readable>;
  /**
   * Like {@link read}, and tells which object the bytes are from, taken from the same answer
   * (one request, so the bytes and the version always match). Optional: it lets a cold read skip
   * the `stat` before its first fetch. A missing key fails with `ENOENT`.
   */
  readWithInfo?(key: string, range?: ByteRange, opts?: StoreReadOptions): Promise<StoreReadResult>;
  /** Stores the whole object atomically: on failure or abort the previous object (or nothing) remains. */
  write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo>;
  /** Deletes a file (or, for a key ending in `/`, a directory marker). A missing key is not an error. */
  delete(key: string, opts?: StoreCallOptions): Promise<void>;
  /** Deletes many files at once (batch APIs); optional, the facade falls back to {@link delete}. */
  deleteMany?(keys: string[], opts?: StoreCallOptions): Promise<void>;
  /** Server-side copy of one file; optional (`capabilities.copy`). */
  copy?(from: string, to: string, opts?: StoreCallOptions): Promise<ObjectInfo>;
  /** Store-side rename of a file or directory; optional (`capabilities.rename`). */
  rename?(from: string, to: string, opts?: StoreCallOptions): Promise<void>;
  /** Releases clients, sockets and file handles. */
  close?(): Promise<void>;
}

/** Settings handed to a store factory: the connector's own options from `MountOptions.options`. */
export type StoreSettings = Record<string, unknown>;

/** Makes a store from a parsed URI and its settings (see {@link registerStore}). */
export type StoreFactory = (uri: URL, options: StoreSettings) => UnderStore | Promise<UnderStore>;
