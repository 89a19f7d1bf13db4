/**
 * `MemoryStore`: an object store held in the process's memory. It behaves like the object
 * stores (no real directories, `dir/` markers, implicit directories), so it exercises the same
 * paths as S3, and adds a cheap in-map rename.
 * @module
 */
import { Readable } from 'node:stream';
import { StrataError, abortError, invalid, throwIfAborted } from '../../errors.js';
import { assertSafeKey, joinKey, normalizePrefix } from '../../path.js';
import { prefixPath } from '../bucket-uri.js';
import { sizedBody } from '../stream-utils.js';
import { KeySpace } from './key-space.js';
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
} from '../under-store.js';

/** One stored object. Its `data` is never mutated once stored, so readers can hold subarrays. */
interface MemoryEntry {
  data: Buffer;
  mtime: Date;
  etag: string;
}

/** The key space several views (prefixes) of one named store share. Keys are full keys; markers end in `/`. */
type MemoryData = KeySpace<MemoryEntry>;

/** Named stores of this process (`memory://name`). */
const namedStores = new Map<string, MemoryData>();

/** Process-wide write counter: every write gets a new etag. */
let generation = 0;

function nextEtag(): string {
  generation += 1;
  return `m${generation.toString(16)}`;
}

/** Options of the {@link MemoryStore} constructor. */
export interface MemoryStoreOptions {
  /** Share the key space of the process-wide store of this name (as `memory://name` does). */
  name?: string;
  /** Key prefix all keys of this store live under (`''`: the whole key space). */
  prefix?: string;
}

/**
 * An {@link UnderStore} in memory. `new MemoryStore()` is a new empty store; stores made with
 * the same `name` (or from the URI `memory://name`) share their objects within the process.
 * Writes are all-or-nothing (the body is collected first, into memory of its own); reads return
 * copies, so nothing a caller does with its buffers reaches the stored bytes.
 */
export class MemoryStore implements UnderStore {
  /** `memory://`, `memory://name` or `memory://name/prefix` (prefix segments URL-encoded, as `fromUri` reads them). */
  readonly uri: string;
  /** Ranged reads, listing, copy and rename; directories are markers and prefixes, as on object stores. */
  readonly capabilities: StoreCapabilities = { rangeRead: true, list: true, copy: true, rename: true, directories: false, conditionalRead: true, readInfo: true };

  private readonly data: MemoryData;
  private readonly prefix: string;

  constructor(options: MemoryStoreOptions = {}) {
    this.prefix = normalizePrefix(options.prefix);
    const name = options.name;
    if (name !== undefined && (typeof name !== 'string' || name === '')) throw invalid('memory store name must be a non-empty string');
    if (name === undefined) {
      this.data = new KeySpace();
    } else {
      let data = namedStores.get(name);
      if (!data) {
        data = new KeySpace();
        namedStores.set(name, data);
      }
      this.data = data;
    }
    this.uri = `memory://${name ?? ''}${prefixPath(this.prefix)}`;
  }

  /**
   * The store a `memory:` URI names: `memory://` is a new empty store on each call,
   * `memory://name` the one store of that name in this process (`memory://name/dir`: a view of
   * it below `dir`). `EINVAL` for another scheme, a query, a fragment or credentials.
   */
  static fromUri(uri: URL): MemoryStore {
    if (uri.protocol !== 'memory:') throw invalid(`not a memory: URI: ${uri.protocol}`);
    if (uri.username || uri.password) throw invalid('memory: URI must not carry credentials');
    if (uri.search || uri.hash) throw invalid('memory: URI must not have a query or a fragment');
    let prefix: string;
    try {
      prefix = decodeURIComponent(uri.pathname);
    } catch {
      throw invalid('memory: URI path is not valid percent-encoding');
    }
    const name = uri.host === '' ? undefined : uri.host;
    return new MemoryStore({ name, prefix });
  }

  private full(key: string): string {
    assertSafeKey(key);
    return joinKey(this.prefix, key);
  }

  /** Prefix that all keys below the directory `key` start with (`''` for the whole key space). */
  private dirBase(key: string): string {
    const full = this.full(key.endsWith('/') ? key.slice(0, -1) : key);
    return full === '' ? '' : full + '/';
  }

  private relative(fullKey: string): string {
    return this.prefix === '' ? fullKey : fullKey.slice(this.prefix.length + 1);
  }

  private hasBelow(base: string): boolean {
    return this.data.hasBelow(base);
  }

  async stat(key: string, opts: StoreCallOptions = {}): Promise<ObjectInfo | undefined> {
    throwIfAborted(opts.signal);
    const dirOnly = key.endsWith('/');
    const name = dirOnly ? key.slice(0, -1) : key;
    if (name === '') {
      assertSafeKey(key);
      return { key: '', size: 0, isDirectory: true };
    }
    const full = this.full(name);
    const entry = dirOnly ? undefined : this.data.get(full);
    if (entry) return fileInfo(name, entry);
    const marker = this.data.get(full + '/');
    if (marker) return directoryInfo(name, marker);
    if (this.hasBelow(full + '/')) return { key: name, size: 0, isDirectory: true };
    return undefined;
  }

  async *list(prefix: string, opts: StoreListOptions = {}): AsyncIterable<ObjectInfo> {
    const base = this.dirBase(prefix);
    if (!opts.recursive) {
      // The directory's own children, whatever else the store holds.
      const { files, dirs } = this.data.childrenOf(base);
      const found = files.map((name) => [base + name, this.data.get(base + name)] as const);
      for (const [fullKey, entry] of found) {
        throwIfAborted(opts.signal);
        if (entry) yield fileInfo(this.relative(fullKey), entry);
      }
      for (const name of dirs) {
        throwIfAborted(opts.signal);
        yield { key: this.relative(base + name), size: 0, isDirectory: true };
      }
      return;
    }
    const snapshot = [...this.data.entries()].filter(([key]) => key.startsWith(base) && key !== base);
    const seenDirs = new Set<string>();
    for (const [fullKey, entry] of snapshot) {
      throwIfAborted(opts.signal);
      const rest = fullKey.slice(base.length);
      const slash = rest.indexOf('/');
      if (opts.recursive || slash < 0) {
        if (rest.endsWith('/')) {
          const key = this.relative(fullKey.slice(0, -1));
          if (seenDirs.has(key)) continue;
          seenDirs.add(key);
          yield directoryInfo(key, entry);
        } else {
          yield fileInfo(this.relative(fullKey), entry);
        }
        continue;
      }
      const key = this.relative(base + rest.slice(0, slash));
      if (seenDirs.has(key)) continue;
      seenDirs.add(key);
      yield { key, size: 0, isDirectory: true };
    }
  }

  async read(key: string, range?: ByteRange, opts: StoreReadOptions = {}): Promise<Readable> {
    return (await this.readWithInfo(key, range, opts)).body;
  }

  /** {@link read}, with the info of the version it served. */
  async readWithInfo(key: string, range?: ByteRange, opts: StoreReadOptions = {}): Promise<StoreReadResult> {
    throwIfAborted(opts.signal);
    const entry = this.data.get(this.full(key));
    if (!entry) throw new StrataError('ENOENT', undefined, { op: 'read' });
    if (opts.ifMatch !== undefined && opts.ifMatch !== entry.etag) throw new StrataError('ESTALE', 'the object changed', { op: 'read' });
    const size = entry.data.length;
    const start = Math.min(range?.offset ?? 0, size);
    const end = range?.length === undefined ? size : Math.min(start + range.length, size);
    return { body: bufferStream(entry.data.subarray(start, end)), info: fileInfo(key, entry) };
  }

  async write(key: string, body: Readable | Buffer, opts: StoreWriteOptions = {}): Promise<ObjectInfo> {
    const full = this.full(key);
    if (full === this.prefix && !key.endsWith('/')) throw new StrataError('EISDIR', 'cannot write the store root', { op: 'write' });
    const data = await collect(sizedBody(body, opts.size), opts.signal);
    throwIfAborted(opts.signal);
    const entry: MemoryEntry = { data, mtime: new Date(), etag: nextEtag() };
    if (key.endsWith('/')) {
      this.data.set(full, { ...entry, data: Buffer.alloc(0) });
      return directoryInfo(key.slice(0, -1), entry);
    }
    this.data.set(full, entry);
    return fileInfo(key, entry);
  }

  async delete(key: string, opts: StoreCallOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    this.data.delete(this.full(key));
  }

  async deleteMany(keys: string[], opts: StoreCallOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    const full = keys.map((k) => this.full(k));
    for (const k of full) this.data.delete(k);
  }

  async copy(from: string, to: string, opts: StoreCallOptions = {}): Promise<ObjectInfo> {
    throwIfAborted(opts.signal);
    const source = this.data.get(this.full(from));
    if (!source) throw new StrataError('ENOENT', undefined, { op: 'copy' });
    const target = this.full(to);
    const entry: MemoryEntry = { data: source.data, mtime: new Date(), etag: nextEtag() };
    this.data.set(target, entry);
    return fileInfo(to, entry);
  }

  /**
   * Moves a file, or a directory with everything below it (its marker included), in one step.
   * `ENOENT` when `from` does not exist, `EINVAL` when moving a directory into itself,
   * `ENOTEMPTY` when a directory would land on a non-empty one.
   */
  async rename(from: string, to: string, opts: StoreCallOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    const source = this.full(from);
    const target = this.full(to);
    const file = this.data.get(source);
    if (file) {
      if (this.data.has(target + '/') || this.hasBelow(target + '/')) throw new StrataError('EISDIR', undefined, { op: 'rename' });
      this.data.delete(source);
      this.data.set(target, file);
      return;
    }
    const base = source + '/';
    const moving = [...this.data.entries()].filter(([key]) => key.startsWith(base));
    if (moving.length === 0) throw new StrataError('ENOENT', undefined, { op: 'rename' });
    if (source === target) return;
    if ((target + '/').startsWith(base)) throw invalid('cannot move a directory into itself', { op: 'rename' });
    const targetBase = target + '/';
    for (const key of this.data.keys()) {
      if (key.startsWith(targetBase) && key !== targetBase) throw new StrataError('ENOTEMPTY', undefined, { op: 'rename' });
    }
    if (this.data.has(target)) throw new StrataError('ENOTDIR', undefined, { op: 'rename' });
    for (const [key] of moving) this.data.delete(key);
    for (const [key, entry] of moving) this.data.set(targetBase + key.slice(base.length), entry);
  }
}

/** The answer about a stored file, with a `Date` of the caller's own. */
function fileInfo(key: string, entry: MemoryEntry): ObjectInfo {
  return { key, size: entry.data.length, mtime: new Date(entry.mtime), etag: entry.etag, isDirectory: false };
}

/** The answer about a directory marker, with a `Date` of the caller's own. */
function directoryInfo(key: string, marker: MemoryEntry): ObjectInfo {
  return { key, size: 0, mtime: new Date(marker.mtime), isDirectory: true };
}

/** A byte stream of a copy of `data`: the reader owns what it reads, as from a remote store. */
function bufferStream(data: Buffer): Readable {
  let done = false;
  return new Readable({
    read() {
      if (!done && data.length > 0) this.push(Buffer.from(data));
      done = true;
      this.push(null);
    },
  });
}

/** The whole body as one Buffer; rejects at once (and destroys the body) when `signal` aborts, even if the body stalls. */
async function collect(body: Readable | Buffer, signal: AbortSignal | undefined): Promise<Buffer> {
  throwIfAborted(signal);
  if (Buffer.isBuffer(body)) return Buffer.from(body);
  return new Promise<Buffer>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(signal!));
      body.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = <T>(fn: (value: T) => void) => (value: T): void => {
      signal?.removeEventListener('abort', onAbort);
      fn(value);
    };
    readChunks(body).then(settle(resolve), settle(reject));
  });
}

async function readChunks(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string));
  return Buffer.concat(chunks);
}
