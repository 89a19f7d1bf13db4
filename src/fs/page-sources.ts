/**
 * A file at its current version as the page cache reads it: from the store (with a version
 * check where the store cannot do it), or from the write-back journal while a write is pending.
 * @module
 */
import { Readable } from 'node:stream';
import { StrataError } from '../errors.js';
import type { Mount } from '../mount/mount-table.js';
import type { FetchedBody, PageSource } from '../cache/page-cache.js';
import { objectId, versionOf } from '../cache/page-id.js';
import { SingleFlight } from '../cache/single-flight.js';
import { readPending } from '../cache/pending-index.js';
import { sliceStream } from '../io/slice-stream.js';
import type { ByteRange, ObjectInfo, StoreReadResult } from '../store/under-store.js';
import type { FsContext, MountState } from './context.js';
import type { Namespace } from './namespace.js';

/** Codes a store read gives for a file that is no longer there (removed, or now a directory). */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/** True when a store read failed because the file it read is no longer there (see {@link GONE}). */
export function isGone(code: string | undefined): boolean {
  return code !== undefined && GONE.has(code);
}

/** A file opened for reading: its page source, and `release()` to call once the read is done. */
export interface OpenedSource {
  src: PageSource;
  mount: Mount;
  info: ObjectInfo;
  /** Lets go of a body opened ahead that the read did not use. */
  release(): void;
}

/** Page sources of one `StrataFS`. */
export class PageSources {
  /** Reads opening a file by its first GET, by object (see {@link #openByRead}). */
  readonly #opening = new SingleFlight<StoreReadResult>();

  constructor(
    private readonly ctx: FsContext,
    private readonly ns: Namespace,
    /** Waits for the disk cache to be open. */
    private readonly ready: () => Promise<void>,
  ) {}

  /**
   * The page source of a file at its current version. With `first` (the first fetch the caller
   * will make: page-aligned, `length` omitted for "to the end"), a file nothing is known of yet
   * may be opened by that fetch's GET instead of a `stat`.
   */
  async openSource(path: string, signal?: AbortSignal, opts: { first?: ByteRange } = {}): Promise<OpenedSource> {
    const res = this.ctx.table.resolve(path);
    if (!res) {
      if (this.ctx.table.hasMountsBelow(path) || path === '/') throw new StrataError('EISDIR');
      throw new StrataError('ENOENT');
    }
    await this.ready();
    if (res.key === '' || this.ctx.table.hasMountsBelow(path)) throw new StrataError('EISDIR');
    const opened = opts.first ? await this.#openByRead(res.mount, res.key, opts.first, signal) : undefined;
    if (opened) return opened;
    const info = await this.ns.storeStat(res.mount, res.key, signal);
    if (!info) throw await this.ns.missing(path, signal);
    if (info.isDirectory) throw new StrataError('EISDIR');
    return { src: this.source(res.mount, res.key, info), mount: res.mount, info, release: () => undefined };
  }

  /**
   * A cold read in one request instead of two: when nothing is known of the file (no metadata,
   * no page in any tier, no pending write, no shared tier to ask) and its store names the version
   * a read served (`capabilities.readInfo`), the GET of the caller's first fetch tells the size
   * and the version, its answer is cached as the file's `stat`, and its body is that fetch.
   * `undefined` when this does not apply (then the caller stats as usual; a missing key or a
   * range past the end too, so `ENOENT`, `EISDIR` and the negative cache stay the `stat` path's).
   */
  async #openByRead(mount: Mount, key: string, first: ByteRange, signal?: AbortSignal): Promise<OpenedSource | undefined> {
    const store = mount.store;
    const state = this.ctx.stateOf(mount);
    if (!store.readWithInfo || !store.capabilities.readInfo || this.ctx.sharedFor(state)) return undefined;
    const whole = first.offset === 0 && first.length === undefined;
    if (!whole && !store.capabilities.rangeRead) return undefined; // its answer to a range may be the whole object
    if (state.meta.hasStat(key) || this.ctx.disk?.journal.find(state.cacheId, key)) return undefined;
    const object = objectId(state.cacheId, key);
    if (this.ctx.pages.holdsObject(object)) return undefined;
    const running = this.#opening.get(object);
    if (running) {
      // Another reader is opening it: its answer (metadata) serves this one, its pages are in flight.
      await running.catch(() => undefined);
      return undefined;
    }
    const epoch = state.meta.epoch;
    state.meta.misses++; // the store is asked what the file is
    const opening = store.readWithInfo(key, whole ? undefined : first, { signal });
    this.#opening.set(object, opening);
    let answer: StoreReadResult;
    try {
      answer = await opening;
    } catch (error) {
      if ((error as StrataError).code === 'ENOENT') return undefined;
      throw error;
    }
    const { body, info } = answer;
    if (info.etag === undefined || info.isDirectory || (first.offset > 0 && first.offset >= info.size)) {
      body.destroy();
      return undefined;
    }
    state.meta.setStat(key, info, 0, epoch); // not kept if a change was made meanwhile
    let unused: Readable | undefined = body;
    const take = (): Readable | undefined => {
      const taken = unused;
      unused = undefined;
      return taken;
    };
    const end = Math.min(info.size, first.length === undefined ? Infinity : first.offset + first.length);
    const ahead = { offset: first.offset, length: end - first.offset, take };
    return { src: this.source(mount, key, info, ahead), mount, info, release: () => take()?.destroy() };
  }

  /**
   * The page source of `key` at the version `info` names. `ahead` hands over a body of
   * `[offset, offset + length)` opened ahead at that version: the fetch of exactly that range uses it.
   */
  source(mount: Mount, key: string, info: ObjectInfo, ahead?: { offset: number; length: number; take: () => Readable | undefined }): PageSource {
    const state = this.ctx.stateOf(mount);
    const version = versionOf(info);
    const pending = info.etag?.startsWith('pending-') ? info.etag.slice('pending-'.length) : undefined;
    return {
      object: objectId(state.cacheId, key),
      version,
      size: info.size,
      counters: state.counters,
      local: pending !== undefined,
      fetch: async (offset, length, signal): Promise<FetchedBody> => {
        const opened = ahead?.take();
        if (opened) {
          if (offset === ahead!.offset && length === ahead!.length) return { body: opened }; // the same answer named this version
          opened.destroy();
        }
        if (pending !== undefined) {
          const journal = this.ctx.disk?.journal;
          // The upload may complete (and the journal drop the data) at any moment: then the
          // object is read again at its stored version (the bytes the upload stored).
          const data = journal?.find(state.cacheId, key)?.id === pending ? await readPending(journal, pending, offset, length) : undefined;
          if (data) return { body: Readable.from([data]) };
          this.ctx.stateOf(mount).meta.forget(key);
          // Uploaded by this process: the same bytes are read from the store, as long as it holds that object.
          const stored = this.ctx.writeBack?.uploadedAs(pending);
          if (stored?.size === info.size) return this.#fromStore(mount, state, key, stored, offset, length, signal);
          throw new StrataError('ESTALE', 'the pending write this read started on has been uploaded or replaced');
        }
        return this.#fromStore(mount, state, key, info, offset, length, signal);
      },
    };
  }

  /** Reads `length` bytes at `offset` of `key` at the version `info` names (`ESTALE` when the store holds another). */
  async #fromStore(mount: Mount, state: MountState, key: string, info: ObjectInfo, offset: number, length: number, signal?: AbortSignal): Promise<FetchedBody> {
    const store = mount.store;
    const version = versionOf(info);
    const range = { offset, length };
    const ifMatch = store.capabilities.conditionalRead ? info.etag : undefined;
    let body: Readable;
    try {
      body = store.capabilities.rangeRead ? await store.read(key, range, { signal, ifMatch }) : sliceStream(await store.read(key, undefined, { signal, ifMatch }), range);
    } catch (error) {
      // The store refused this version, or no longer has a file there: what the metadata cache
      // holds of it is out of date.
      const code = (error as StrataError).code;
      if ((ifMatch !== undefined && code === 'ESTALE') || isGone(code)) state.meta.changedOutside(key);
      throw error;
    }
    if (ifMatch !== undefined) return { body };
    // The store cannot check the version itself (or this object has no etag to check it by):
    // check it once the bytes are in, so pages of two versions never meet (the page cache admits
    // nothing of a fetch that fails its check).
    const verify = async (): Promise<void> => {
      // Nothing more is asked of a store unmounted meanwhile (stratafs may have closed it).
      this.ctx.checkMounted(mount, true);
      const now = await store.stat(key, { signal });
      if (!now || versionOf(now) !== version) {
        state.meta.changedOutside(key);
        throw new StrataError('ESTALE', 'the object changed while it was read');
      }
    };
    return { body, verify };
  }
}
