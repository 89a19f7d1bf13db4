/**
 * What the parts of the facade share: the options, the mount table and each mount's state, the
 * page cache, the disk cache and its uploader, and the resolutions every operation needs.
 * @module
 */
import { setMaxListeners } from 'node:events';
import { StrataError } from '../errors.js';
import { linkSignals } from '../abort-listeners.js';
import { isSameOrBelow } from '../path.js';
import type { ReadType, ResolvedOptions } from '../options.js';
import { MountTable, type Mount, type Resolved } from '../mount/mount-table.js';
import { isProcessLocal } from '../mount/open-store.js';
import { changeSeenFrom } from '../mount/overlap.js';
import type { MetadataCache } from '../cache/metadata-cache.js';
import type { CacheCounters, PageCache } from '../cache/page-cache.js';
import type { DiskTier, WriteJournal } from '../cache/disk-tier-types.js';
import type { WriteBack } from '../cache/write-back.js';
import type { SharedTier } from '../cache/shared-tier-types.js';
import { KeyLock } from '../cache/key-lock.js';
import { objectId } from '../cache/page-id.js';
import { KeepBudget } from '../io/keep-budget.js';
import { MountStates } from './mount-states.js';

/** A mount's state besides its table entry. */
export interface MountState {
  /** Its `stat`/`readdir` answers. */
  meta: MetadataCache;
  /** Its hit/miss/byte figures. */
  counters: CacheCounters;
  /** The id its pages are cached under (its store's URI). */
  cacheId: string;
  /** True when stratafs made the store (and so closes it). */
  owned: boolean;
  /** Aborted (with the error they fail with) when the mount goes while writes through it are still on their way: see {@link FsContext.whileMounted}. */
  gone: AbortController;
  /** Aborted when the mount is removed, once its unmount or `close()` stopped waiting for what was on its way: the clean-up of a change that failed there ends then (see {@link FsContext.cleanUpSignal}). */
  removed: AbortController;
}

/** The disk cache: page tier and write-back journal. */
export interface DiskCache {
  tier: DiskTier;
  journal: WriteJournal;
}

/** The shared state of one `StrataFS` (see the module comment). */
export class FsContext {
  readonly table = new MountTable();
  readonly state = new MountStates();
  /** Store requests by operation, counted by the counting layer. */
  readonly requests: Record<string, number> = {};
  disk: DiskCache | undefined;
  writeBack: WriteBack | undefined;
  /** The fleet-wide tier (Redis), when configured. */
  shared: SharedTier | undefined;
  /** Set by `close()`: every later call fails with `EINVAL`. */
  closed = false;
  /** Orders the changes of each object: writes, removals and uploads (keyed by object id). */
  readonly locks = new KeyLock();
  /**
   * The calls that change something (writes, removals, moves) on their way, with the logical
   * paths they work on: `close()` and `unmount()` let them finish.
   */
  readonly #changing = new Map<Promise<unknown>, readonly string[]>();

  /** Runs a call that changes something at `paths`, known to {@link changesSettled} while it runs. */
  changing<T>(call: Promise<T>, paths: readonly string[] = []): Promise<T> {
    const tracked = call.then(
      () => undefined,
      () => undefined,
    );
    this.#changing.set(tracked, paths);
    void tracked.then(() => this.#changing.delete(tracked));
    return call;
  }

  /**
   * Resolves once no changing call is on its way (those started meanwhile included); with
   * `path`, only the calls on a path at or below it, or above it (a tree that holds it).
   */
  async changesSettled(path?: string): Promise<void> {
    const concerned = (paths: readonly string[]): boolean => path === undefined || paths.some((p) => isSameOrBelow(p, path) || isSameOrBelow(path, p));
    for (;;) {
      const calls = [...this.#changing].filter(([, paths]) => concerned(paths)).map(([call]) => call);
      if (calls.length === 0) return;
      await Promise.all(calls);
    }
  }

  /** The bytes streamed writes (and uploads) keep for the memory tier on their way: at most its capacity between them. */
  readonly keepBudget: KeepBudget;

  constructor(
    readonly options: ResolvedOptions,
    public pages: PageCache,
  ) {
    this.keepBudget = new KeepBudget(pages.memory.capacity);
  }

  /** Tells the fleet (through the shared tier) that `key` of the store `cacheId` changed here. */
  shareChange(cacheId: string, key: string, recursive: boolean): void {
    if (this.shared && !isProcessLocal(cacheId)) this.shared.publish({ cacheId, key, recursive });
  }

  /**
   * A change of `key` of the store `cacheId` made elsewhere (through another mount of the store
   * in this process, `except` that one's metadata, or in another process): every mount of the
   * store, or of a part of it that overlaps, forgets what it knew of it; for a mount of another
   * part, so does the fleet's shared tier.
   */
  changedElsewhere(cacheId: string, key: string, recursive: boolean, except?: MetadataCache): void {
    const forgotten = new Set<string>();
    for (const state of this.state.values()) {
      if (state.meta === except) continue;
      const seen = state.cacheId === cacheId ? { key, recursive } : changeSeenFrom(cacheId, { key, recursive }, state.cacheId);
      if (!seen) continue;
      state.meta.changedElsewhere(seen.key, seen.recursive);
      // What the fleet shared for a mount of another part of the store is out of date too (the
      // change was published for its own part only).
      if (state.cacheId !== cacheId && !forgotten.has(state.cacheId) && !isProcessLocal(state.cacheId)) {
        forgotten.add(state.cacheId);
        this.shared?.forget?.({ cacheId: state.cacheId, ...seen });
      }
    }
  }

  /**
   * Runs a store call that changes `key` of `mount`. When it fails, the store may have made the
   * change all the same (its answer lost, a timeout, an abort after the request left): what the
   * caches know of `key` is forgotten, and the next `stat` asks the store.
   */
  async changingStore<T>(mount: Mount, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.stateOf(mount).meta.changedOutside(key);
      throw error;
    }
  }

  /**
   * Runs a store call (see {@link changingStore}) that replaces the file `key` of `mount` there
   * (a removal, a rename or copy onto it), then drops the file's pending writes. Another
   * process's upload of one of them lands before the call, never after it; a call that fails
   * leaves them pending.
   */
  async replacingInStore<T>(mount: Mount, key: string, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.holdingUploads(mount, key, async (held) => {
      const result = await this.changingStore(mount, key, call);
      for (const id of held) await this.disk?.journal.complete(id);
      await this.disk?.journal.discard(this.stateOf(mount).cacheId, key);
      return result;
    }, signal);
  }

  /**
   * Runs `change`, a change of the file `key` of `mount` (of everything below it too, with
   * `below`) made in the store itself, holding the file's pending writes (their ids are passed
   * to it): another process's upload of one of them lands before it, never after it. When the
   * change fails they are given back, still pending; else the change drops them.
   */
  async holdingUploads<T>(mount: Mount, key: string, change: (held: string[]) => Promise<T>, signal?: AbortSignal, below = false): Promise<T> {
    const held = (await this.writeBack?.holdUploads(this.stateOf(mount).cacheId, key, signal, below)) ?? [];
    try {
      return await change(held);
    } catch (error) {
      this.writeBack?.releaseAll(held);
      throw error;
    }
  }

  /** The shared tier for a mount's metadata, unless its store lives in this process only or it asks the store every time. */
  sharedFor(state: MountState): SharedTier | undefined {
    return this.shared && !isProcessLocal(state.cacheId) && state.meta.syncInterval !== 0 ? this.shared : undefined;
  }

  /**
   * Runs `fn` once the changes of the object at `key` of `mount` queued before it have ended (see
   * {@link KeyLock}); `supersedes`: it replaces the object (a write, a removal), so an upload of
   * it on its way gives way.
   */
  inOrder<T>(mount: Mount, key: string, fn: () => Promise<T>, signal?: AbortSignal, supersedes = false): Promise<T> {
    return this.locks.run(objectId(this.stateOf(mount).cacheId, key), fn, { signal, supersedes });
  }

  /**
   * Runs `fn` once it holds the turns of `keys` of `mount` (see {@link inOrder}), those in
   * `replacing` as changes that replace their object. The turns are taken in key order, so two
   * callers that need the same keys never wait for each other in a circle.
   */
  inTurnsOf<T>(mount: Mount, keys: string[], replacing: ReadonlySet<string>, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const [first, ...rest] = [...new Set(keys)].sort();
    if (first === undefined) return fn();
    return this.inOrder(mount, first, () => this.inTurnsOf(mount, rest, replacing, fn, signal), signal, replacing.has(first));
  }

  /**
   * Runs `call`, a write through `mount`, with a signal that aborts when `signal` does, and also
   * when the mount goes (an unmount or `close()` that stopped waiting for it): the write then
   * fails with `EINVAL` as the mount's other changes do, and a store that has not committed it
   * yet does not (a failed write stores nothing, never a file reported as failed).
   */
  whileMounted<T>(mount: Mount, signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.#whileAllMounted([mount], signal, call);
  }

  /**
   * Runs `call`, a change at `paths` (`mkdir`, `rm`, `rename`, `copy`), as {@link whileMounted}
   * runs a write: when the mount of one of them (or one below them) goes, its store calls are
   * aborted and it fails with `EINVAL`, as an abort at that point would leave it.
   */
  whileMountedAt<T>(paths: readonly string[], signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const mounts = new Set(paths.flatMap((path) => this.mountsUnder(path).map(({ mount }) => mount)));
    return this.#whileAllMounted([...mounts], signal, call);
  }

  async #whileAllMounted<T>(mounts: readonly Mount[], signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const gone = mounts.map((mount) => this.stateOf(mount).gone.signal);
    const linked = linkSignals([signal, ...gone]);
    setMaxListeners(0, linked.signal); // (a recursive call hands it to many store calls at once)
    try {
      return await call(linked.signal);
    } catch (error) {
      const left = gone.find((g) => g.aborted);
      throw left && !signal?.aborted ? left.reason : error;
    } finally {
      linked.dispose();
    }
  }

  /** Aborts (with the error the mount's changes fail with) once `mount` goes while they are on their way: see {@link whileMounted}. */
  goneSignal(mount: Mount): AbortSignal {
    return this.stateOf(mount).gone.signal;
  }

  /** Ends the writes still on their way through `mount` (see {@link whileMounted}), which goes now. */
  abandonWrites(mount: Mount): void {
    this.state.get(mount)?.gone.abort(this.#goneError(mount));
  }

  /**
   * The signal of the clean-up of a change through `mount` that failed (what a copy made, the
   * destination of a move): it does not follow the caller's signal nor the mount going, whose
   * failures it cleans up after, but it ends once the mount is removed (see {@link removeMount}),
   * rather than wait for a store that never answers.
   */
  cleanUpSignal(mount: Mount): AbortSignal {
    return this.state.get(mount)?.removed.signal ?? AbortSignal.abort(this.#goneError(mount));
  }

  /** Ends what is still on its way through `mount` (see {@link cleanUpSignal}), which is removed now. */
  removeMount(mount: Mount): void {
    this.state.get(mount)?.removed.abort(this.#goneError(mount));
  }

  /** The state of a mounted mount. */
  stateOf(mount: Mount): MountState {
    const state = this.state.get(mount);
    if (!state) throw this.#goneError(mount);
    return state;
  }

  /** What a change through a mount that went meanwhile fails with. */
  #goneError(mount: Mount): StrataError {
    return this.closed ? closedError() : new StrataError('EINVAL', 'the mount was unmounted during the operation', { mount: mount.path });
  }

  /**
   * Throws what a read through `mount` opened earlier (a handle, a read stream) fails with once
   * it may no longer read: `EINVAL` once this StrataFS is closing (`whileClosing`: once it is
   * closed, so that a stream feeding a write that `close()` lets finish reads on), or once the
   * mount was unmounted (its cached data was dropped and a store stratafs opened for it is closed).
   */
  checkMounted(mount: Mount, whileClosing = false): void {
    if (this.closed && !whileClosing) throw closedError();
    if (!this.state.has(mount)) throw this.closed ? closedError() : new StrataError('EINVAL', 'the mount this was opened on has been unmounted', { mount: mount.path });
  }

  /** Mounted resolution; `ENOENT` when no mount holds the path. */
  resolveMounted(path: string): Resolved {
    const res = this.table.resolve(path);
    if (!res) throw new StrataError('ENOENT', 'no mount holds this path');
    return res;
  }

  /** Resolution for a write: `EROFS` in the synthetic namespace, on read-only mounts and on mount points' ancestors. */
  writable(path: string): Resolved {
    const res = this.table.resolve(path);
    if (!res) throw new StrataError('EROFS', 'no mount holds this path (the namespace above mounts is read-only)');
    if (res.mount.readOnly) throw new StrataError('EROFS', 'mount is read-only');
    if (this.table.hasMountsBelow(path) && !this.table.get(path)) throw new StrataError('EROFS', 'path is a directory of the namespace holding mount points');
    return res;
  }

  /** Every (mount, key) whose data lies at or below `path`. */
  mountsUnder(path: string): Resolved[] {
    const out: Resolved[] = [];
    const own = this.table.resolve(path);
    if (own) out.push(own);
    for (const mount of this.table.list()) if (mount.path !== own?.mount.path && isSameOrBelow(mount.path, path) && mount.path !== path) out.push({ mount, key: '' });
    return out;
  }

  readType(mount: Mount, given: ReadType | undefined): ReadType {
    return given ?? mount.readType ?? this.options.readType;
  }

  /** A mount of the store `cacheId` (one that is not read-only when `writable`). */
  mountByCacheId(cacheId: string, writable = false): Mount | undefined {
    return this.state.mountOf(cacheId, writable);
  }
}

/** What a call on a closed `StrataFS` fails with. */
export function closedError(): StrataError {
  return new StrataError('EINVAL', 'this StrataFS is closed');
}
