/**
 * What every object store shares: a key prefix as the mount's root, `dir/` markers, directory
 * detection by marker or by a one-key listing, the listing fold (delimiter pages -> children,
 * de-duplicated), empty and past-the-end ranges, counted stream uploads, batch deletes.
 * A connector extends {@link ObjectStoreBase} and implements only the raw primitives, each on
 * full keys (prefix included), plus one `mapError`.
 * @module
 */
import { Readable } from 'node:stream';
import { StrataError, isAbortError, throwIfAborted } from '../errors.js';
import { assertSafeKey, isSafeKey, joinKey, nameableDirOf } from '../path.js';
import { httpStatusOf } from './store-errors.js';
import { sizedBody } from './stream-utils.js';
import type {
  ByteRange,
  ObjectInfo,
  StoreCallOptions,
  StoreCapabilities,
  StoreListOptions,
  StoreReadOptions,
  StoreReadResult,
  StoreWriteOptions,
  UnderStore,
} from './under-store.js';

/** An object as a store's listing or HEAD reports it; `key` is the full key (prefix included). */
export interface RawObject {
  /** The full key, prefix included; a key ending in `/` is a directory marker. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modification time, when the store reports it. */
  mtime?: Date;
  /** The version tag without its HTTP quotes, when the store has one. */
  etag?: string;
}

/** One page of a listing: objects, common prefixes (full, ending in `/`), and the next page token. */
export interface RawListPage {
  /** The objects of this page, full keys; directory markers (`dir/`) included. */
  objects: RawObject[];
  /** The common prefixes below the delimiter (full, ending in `/`); none when listing without one. */
  prefixes: string[];
  /** Token of the next page, passed back as `token`; `undefined` on the last page. */
  next?: string;
}

/** Options of {@link ObjectStoreBase.listPage}. */
export interface RawListOptions extends StoreCallOptions {
  /** `'/'` for one level, undefined for everything below. */
  delimiter?: '/';
  /** Token from the previous page. */
  token?: string;
  /** Ask for at most this many keys (a hint). */
  maxKeys?: number;
}

/** What a raw GET answers: the body and, when its headers tell, the whole object it came from. */
export interface RawRead {
  /** The bytes of the object, or of the range asked for. */
  body: Readable;
  /** Size of the whole object (from `Content-Range`, or `Content-Length` of a whole read). */
  size?: number;
  /** The version served. */
  etag?: string;
  /** Last modification time of the version served, when the answer tells it. */
  mtime?: Date;
}

/**
 * The whole object's size from the answer to a GET of `asked` (undefined: the whole object): the
 * total of `Content-Range` (`bytes a-b/total`) when there is one, else `Content-Length` (an answer
 * without a range is the whole object). `undefined` when the headers are missing or disagree
 * (a range that is not the one asked for, a length that is not the range's).
 */
export function objectSizeOf(contentRange: string | undefined | null, contentLength: number | string | undefined | null, asked?: ByteRange): number | undefined {
  const length = contentLength === undefined || contentLength === null || contentLength === '' ? undefined : Number(contentLength);
  if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) return undefined;
  if (!contentRange) return length;
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange.trim());
  if (!match) return undefined;
  const [first, last, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (last < first || last >= total) return undefined;
  if (length !== undefined && length !== last - first + 1) return undefined;
  if (asked !== undefined && first !== asked.offset) return undefined;
  return total;
}

/** What a raw upload reports back; missing fields are filled by a HEAD. */
export interface RawWriteResult {
  /** The version tag of the object written, without its HTTP quotes; a HEAD asks when missing. */
  etag?: string;
  /** Last modification time of the object written; a HEAD asks when missing. */
  mtime?: Date;
}

/** `bytes=a-b` (or `bytes=a-` without a length) for a GET's `Range`; `undefined` when the whole object is wanted. */
export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined || (range.offset === 0 && range.length === undefined)) return undefined;
  return range.length === undefined ? `bytes=${range.offset}-` : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/** An etag as an HTTP entity tag (quoted), as `If-Match` wants it. */
export function quoteEtag(etag: string): string {
  return etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`;
}

/** Removes surrounding quotes from an HTTP ETag. */
export function unquoteEtag(etag: string | undefined | null): string | undefined {
  if (etag === undefined || etag === null || etag === '') return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/**
 * Base class of the object-store connectors (S3, Azure Blob, GCS, OSS, COS). Subclasses pass
 * the key prefix (the URI's path) and implement the protected primitives.
 */
export abstract class ObjectStoreBase implements UnderStore {
  /** Identifies the store; never contains a secret. */
  abstract readonly uri: string;
  /** Object stores: ranged reads, listing and server-side copy; no rename, no real directories. */
  readonly capabilities: StoreCapabilities = { rangeRead: true, list: true, copy: true, rename: false, directories: false };

  /** Largest batch {@link deleteObjects} is called with. */
  protected readonly deleteBatchSize: number = 1000;

  /** @param prefix normalised key prefix (no leading/trailing `/`), `''` for the whole bucket. */
  protected constructor(protected readonly prefix: string) {}

  /** HEAD of one object; `undefined` when missing. */
  protected abstract headObject(fullKey: string, opts: StoreCallOptions): Promise<RawObject | undefined>;
  /** One page of a listing below `fullPrefix` (ends in `/` or is `''`). */
  protected abstract listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage>;
  /**
   * GET of the object, or of `range` (`length` > 0, `offset` < size is not guaranteed); with the
   * object's size and version when the answer tells them (connectors that fill both set
   * `capabilities.readInfo`). Connectors that set `capabilities.conditionalRead` send
   * `opts.ifMatch` to the service; an answer whose etag differs from it is refused here as well.
   */
  protected abstract getObject(fullKey: string, range: ByteRange | undefined, opts: StoreReadOptions): Promise<RawRead>;
  /** PUT of a whole object (multipart when large); must leave nothing partial on failure. */
  protected abstract putObject(fullKey: string, body: Readable | Buffer, size: number | undefined, opts: StoreCallOptions): Promise<RawWriteResult>;
  /** Deletes up to {@link deleteBatchSize} objects; missing keys are not errors. */
  protected abstract deleteObjects(fullKeys: string[], opts: StoreCallOptions): Promise<void>;
  /** Server-side copy. */
  protected abstract copyObject(fromFullKey: string, toFullKey: string, opts: StoreCallOptions): Promise<void>;
  /**
   * The connector's one error-mapping function: SDK error -> `StrataError`. It sees only what
   * the SDK threw: a `StrataError` (one the facade raised while the body was read, like the
   * `EINVAL` of a stream of numbers) and an `AbortError` pass through without it.
   */
  protected abstract mapError(error: unknown): Error;

  /** `error` as the primitive's caller sees it: {@link mapError} of it, unless it is already a `StrataError` or an abort. */
  #mapped(error: unknown): Error {
    if (error instanceof StrataError || isAbortError(error)) return error as Error;
    return this.mapError(error);
  }

  /** Full key of a store-relative key. */
  protected fullKey(key: string): string {
    assertSafeKey(key);
    return joinKey(this.prefix, key);
  }

  /** Store-relative key of a full key, or `undefined` when it is outside the prefix or unsafe. */
  protected relativeKey(fullKey: string): string | undefined {
    let key = fullKey;
    if (this.prefix !== '') {
      if (!fullKey.startsWith(this.prefix + '/')) return undefined;
      key = fullKey.slice(this.prefix.length + 1);
    }
    if (key.endsWith('/')) key = key.slice(0, -1);
    if (key === '') return undefined;
    // Keys like `a//b`, `../x` or with control characters cannot be named by a logical path: skip them.
    return isSafeKey(key) ? key : undefined;
  }

  /**
   * The nearest directory a path can name that holds the listed full key `fullKey` (one no path
   * can name), when it lies below the listing prefix `listPrefix`; `undefined` otherwise.
   */
  #nameableDir(fullKey: string, listPrefix: string): string | undefined {
    if (!fullKey.startsWith(listPrefix)) return undefined;
    const dir = nameableDirOf(fullKey.slice(listPrefix.length));
    return dir === '' ? undefined : this.relativeKey(listPrefix + dir);
  }

  /** The listing prefix of the directory `key` (`d` or `d/`): `prefix/key/`, or `prefix/` / `''` at the root. */
  protected dirPrefix(key: string): string {
    const full = this.fullKey(key.endsWith('/') ? key.slice(0, -1) : key);
    return full === '' ? '' : full + '/';
  }

  /** Runs a primitive and maps what it throws; an `AbortError` without a store call once `signal` has fired. */
  protected async call<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal);
    try {
      return await fn();
    } catch (error) {
      throw this.#mapped(error);
    }
  }

  /**
   * The object `key`, else the directory `key` (a `key/` marker or any key below it). A key
   * ending in `/` names only the directory, as on a file system: its marker is never reported as
   * a file, and the answer's key has no trailing `/` (`undefined` when there is no directory).
   */
  async stat(key: string, opts: StoreCallOptions = {}): Promise<ObjectInfo | undefined> {
    if (key === '') return { key: '', size: 0, isDirectory: true };
    const full = this.fullKey(key);
    if (key.endsWith('/')) return await this.#directory(key.slice(0, -1), full, opts);
    const head = await this.call(() => this.headObject(full, opts), opts.signal);
    if (head) return { key, size: head.size, mtime: head.mtime, etag: head.etag, isDirectory: false };
    return await this.#directory(key, full + '/', opts);
  }

  /**
   * The directory `key` when a one-key listing of `listPrefix` (its full `dir/` prefix) finds
   * anything; `undefined` otherwise. The marker, when there is one, is that first key (it sorts
   * before every key below it): the answer then has its `mtime`, as a listing's has, and an
   * implicit directory has none.
   */
  async #directory(key: string, listPrefix: string, opts: StoreCallOptions): Promise<ObjectInfo | undefined> {
    const page = await this.call(() => this.listPage(listPrefix, { ...opts, maxKeys: 1 }), opts.signal);
    if (page.objects.length === 0 && page.prefixes.length === 0) return undefined;
    const marker = page.objects.find((o) => o.key === listPrefix);
    return { key, size: 0, isDirectory: true, ...(marker?.mtime ? { mtime: marker.mtime } : {}) };
  }

  async *list(prefix: string, opts: StoreListOptions = {}): AsyncIterable<ObjectInfo> {
    const listPrefix = this.dirPrefix(prefix);
    const seenDirs = new Set<string>();
    const seenTokens = new Set<string>();
    let token: string | undefined;
    do {
      const page: RawListPage = await this.call(() => this.listPage(listPrefix, { signal: opts.signal, delimiter: opts.recursive ? undefined : '/', token }), opts.signal);
      for (const object of page.objects) {
        if (object.key === listPrefix) continue; // the directory's own marker
        const key = this.relativeKey(object.key);
        if (key === undefined) {
          // A key no path can name (`d/a//b`) is skipped, but the directory it makes (`d/a`) is
          // one, as stat and a listing of its parent (a common prefix) say.
          const dir = opts.recursive ? this.#nameableDir(object.key, listPrefix) : undefined;
          if (dir !== undefined && !seenDirs.has(dir)) {
            seenDirs.add(dir);
            yield { key: dir, size: 0, isDirectory: true };
          }
          continue;
        }
        if (object.key.endsWith('/')) {
          if (!seenDirs.has(key)) {
            seenDirs.add(key);
            yield { key, size: 0, isDirectory: true, mtime: object.mtime };
          }
        } else {
          yield { key, size: object.size, mtime: object.mtime, etag: object.etag, isDirectory: false };
        }
      }
      for (const dir of page.prefixes) {
        const key = this.relativeKey(dir);
        if (key === undefined || seenDirs.has(key)) continue;
        seenDirs.add(key);
        yield { key, size: 0, isDirectory: true };
      }
      token = page.next;
      if (token !== undefined) {
        // A store (or a gateway before it) that hands back a token it gave before would list forever.
        if (seenTokens.has(token)) throw new StrataError('EIO', 'the store listed the same page again: its listing never ends', { op: 'list' });
        seenTokens.add(token);
      }
    } while (token);
  }

  async read(key: string, range?: ByteRange, opts: StoreReadOptions = {}): Promise<Readable> {
    return (await this.#get(key, range, opts)).body;
  }

  /**
   * {@link read} with the object's info from the same answer. When the answer does not tell the
   * size or the version, they come from a HEAD after it and `etag` is left out (the version
   * served is then unknown).
   */
  async readWithInfo(key: string, range?: ByteRange, opts: StoreReadOptions = {}): Promise<StoreReadResult> {
    const raw = await this.#get(key, range, opts);
    if (raw.size !== undefined && raw.etag !== undefined) return { body: raw.body, info: { key, size: raw.size, mtime: raw.mtime, etag: raw.etag, isDirectory: false } };
    const head = await this.call(() => this.headObject(this.fullKey(key), opts), opts.signal).catch((error: unknown) => {
      raw.body.destroy();
      throw error;
    });
    if (!head) {
      raw.body.destroy();
      throw new StrataError('ENOENT');
    }
    return { body: raw.body, info: { key, size: head.size, mtime: head.mtime, isDirectory: false } };
  }

  async #get(key: string, range: ByteRange | undefined, opts: StoreReadOptions): Promise<RawRead> {
    throwIfAborted(opts.signal);
    if (range?.length === 0) return { body: Readable.from([]) };
    let raw: RawRead;
    try {
      raw = await this.getObject(this.fullKey(key), range, opts);
    } catch (error) {
      if (range && range.offset > 0 && httpStatusOf(error) === 416) raw = { body: Readable.from([]) };
      else throw this.#mapped(error);
    }
    if (opts.ifMatch !== undefined) await this.#checkVersion(key, raw, opts.ifMatch, opts);
    return raw;
  }

  /**
   * Refuses (`ESTALE`, body released) an answer to a read conditional on `ifMatch` that is of
   * another version. A server that ignores `If-Match` sends the version it has; an answer that
   * names no version (the empty answer to a range at or past the end, `416`, carries no ETag:
   * the object may have shrunk) is checked by a HEAD.
   */
  async #checkVersion(key: string, raw: RawRead, ifMatch: string, opts: StoreCallOptions): Promise<void> {
    let etag = raw.etag;
    if (etag === undefined) {
      const head = await this.call(() => this.headObject(this.fullKey(key), opts), opts.signal).catch((error: unknown) => {
        raw.body.destroy();
        throw error;
      });
      if (head && head.etag === undefined) return; // the store names no versions: nothing to check against
      etag = head?.etag;
    }
    if (etag === ifMatch) return;
    raw.body.destroy();
    throw new StrataError('ESTALE', 'the object changed (its etag differs from the one read)', { op: 'read' });
  }

  async write(key: string, body: Readable | Buffer, opts: StoreWriteOptions = {}): Promise<ObjectInfo> {
    const full = this.fullKey(key);
    const isDirectory = key.endsWith('/');
    let size = Buffer.isBuffer(body) ? body.length : opts.size;
    let counted = 0;
    // A body of another size than declared fails before it is committed.
    const source = sizedBody(body, opts.size, (bytes) => {
      counted += bytes;
    });
    const result = await this.call(() => this.putObject(full, source, size, opts), opts.signal);
    if (!Buffer.isBuffer(body)) size = counted;
    const relative = isDirectory ? key.slice(0, -1) : key;
    if (isDirectory) return { key: relative, size: 0, isDirectory: true, mtime: result.mtime ?? new Date() };
    if (result.etag !== undefined && result.mtime !== undefined) return { key: relative, size: size ?? 0, etag: result.etag, mtime: result.mtime, isDirectory: false };
    // The answer describes the version written: its size is the bytes sent, and the stat only
    // lends its mtime when it shows that version (a store may lag, or a newer write may land).
    const head = await this.call(() => this.headObject(full, opts), opts.signal);
    const written = head !== undefined && (result.etag === undefined || head.etag === result.etag);
    return {
      key: relative,
      size: size ?? head?.size ?? 0,
      etag: result.etag ?? head?.etag,
      mtime: (written ? head.mtime : undefined) ?? result.mtime ?? new Date(),
      isDirectory: false,
    };
  }

  async delete(key: string, opts: StoreCallOptions = {}): Promise<void> {
    await this.call(() => this.deleteObjects([this.fullKey(key)], opts), opts.signal);
  }

  async deleteMany(keys: string[], opts: StoreCallOptions = {}): Promise<void> {
    const full = keys.map((k) => this.fullKey(k));
    for (let i = 0; i < full.length; i += this.deleteBatchSize) {
      const batch = full.slice(i, i + this.deleteBatchSize);
      await this.call(() => this.deleteObjects(batch, opts), opts.signal);
    }
  }

  async copy(from: string, to: string, opts: StoreCallOptions = {}): Promise<ObjectInfo> {
    const target = this.fullKey(to);
    await this.call(() => this.copyObject(this.fullKey(from), target, opts), opts.signal);
    const head = await this.call(() => this.headObject(target, opts), opts.signal);
    if (!head) throw new StrataError('EIO', 'copied object is not visible', {});
    return { key: to, size: head.size, mtime: head.mtime, etag: head.etag, isDirectory: false };
  }
}
