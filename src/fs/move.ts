/**
 * A move within one mount, once the facade has checked it: the store's own rename where it has
 * one, else copy + delete. `MUST_CACHE` data (in the cache only) moves in the cache; pins move
 * with the file or tree once the move succeeded; whatever happened, the caches forget the old
 * and new names. A directory move by copy that fails part-way leaves nothing at its destination;
 * one aborted once its tree is copied completes (the copy is its point of no return). When the
 * store fails to remove the source after the copy, the same move called again removes what is
 * left of it, if that is unchanged and still at the destination (see {@link Mover.finishLeftOver}).
 * @module
 */
import { StrataError, toStrataError } from '../errors.js';
import type { FileInfo } from '../options.js';
import type { Resolved } from '../mount/mount-table.js';
import { objectId, versionOf } from '../cache/page-id.js';
import { KeyLock } from '../cache/key-lock.js';
import { joinPath } from '../path.js';
import type { FsContext } from './context.js';
import type { TreeOps } from './tree.js';
import { moveKey, walkTree, type TreeEntry } from '../ops/tree-walk.js';


/** Moves files and directories within a mount (see the module comment). */
export class Mover {
  /** Directory moves whose source the store failed to remove: by source and destination, the version of each file copied. */
  readonly #leftOvers = new Map<string, Map<string, string>>();
  /** Moves by logical source path, one at a time per source. */
  readonly #sources = new KeyLock();

  constructor(
    private readonly ctx: FsContext,
    private readonly tree: TreeOps,
  ) {}

  /**
   * Runs `fn`, a move of the logical path `source`, once the moves of `source` asked before it
   * have ended: of two moves of one file or directory at once, the second then finds it gone
   * (`ENOENT`), as on a file system, instead of copying it a second time on a store without
   * its own rename. An abort of `signal` while it waits leaves the queue.
   */
  inTurn<T>(source: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#sources.run(source, fn, { signal });
  }

  /**
   * Moves `src` (described by `info`) to `dst` of the same mount; `existing` is what was at
   * `dst` (an empty directory when `info` is one), already checked.
   */
  async move(src: Resolved, dst: Resolved, info: FileInfo, existing: FileInfo | undefined, signal?: AbortSignal): Promise<void> {
    // MUST_CACHE data (not in the store until persist) moves in the cache and stays there.
    if (info.type === 'file') return this.#moveFile(src, dst, (await this.tree.movePending(src, dst, signal)) > 0, signal);
    return this.#moveTree(src, dst, existing, signal);
  }

  async #moveFile(src: Resolved, dst: Resolved, movedInCache: boolean, signal?: AbortSignal): Promise<void> {
    const store = src.mount.store;
    const state = this.ctx.stateOf(src.mount);
    if (movedInCache) return this.#movePins(src, dst, false);
    // In the turns of both names (the destination's as a change that replaces it: an upload of
    // it on its way, here or in another process, lands before, a pending one is replaced). A
    // write of the source waits until the move is done, instead of landing between a copy and
    // a delete and being deleted with the old version; the caches forget both names before a
    // write queued behind the move can record its own.
    await this.ctx.inTurnsOf(src.mount, [src.key, dst.key], new Set([dst.key]), async () => {
      if (store.capabilities.rename && store.rename) {
        await this.ctx.replacingInStore(dst.mount, dst.key, () => this.ctx.changingStore(src.mount, src.key, () => store.rename!(src.key, dst.key, { signal })), signal);
      } else {
        await this.tree.copyFileInTurn(src, dst, signal);
        await store.delete(src.key, { signal });
      }
      await this.ctx.pages.drop(objectId(state.cacheId, src.key), { force: true });
      await this.ctx.pages.drop(objectId(state.cacheId, dst.key), { force: true });
      state.meta.removed(src.key);
      state.meta.written(dst.key, null);
    }, signal);
    await this.#movePins(src, dst, false);
  }

  async #moveTree(src: Resolved, dst: Resolved, existing: FileInfo | undefined, signal?: AbortSignal): Promise<void> {
    const store = src.mount.store;
    const state = this.ctx.stateOf(src.mount);
    /** A move that failed once it began to move its MUST_CACHE data: that data goes back where it was. */
    const movePendingBack = async (): Promise<void> => {
      await this.tree.movePending(dst, src).catch(() => undefined);
    };
    const byCopy = !(store.capabilities.rename && store.rename);
    try {
      if (!byCopy) {
        const moved = await this.tree.movePending(src, dst, signal);
        let replaced = false;
        try {
          if (existing) replaced = (await store.delete(dst.key + '/', { signal }), true);
          // A directory that held only MUST_CACHE data has nothing in the store to move.
          if (moved === 0 || (await store.stat(src.key, { signal }))) await store.rename!(src.key, dst.key, { signal });
        } catch (error) {
          if (moved > 0) await movePendingBack();
          // The empty directory it was to replace is there again.
          if (replaced) {
            state.meta.removed(dst.key, true);
            await this.tree.makeDirectories(joinPath(dst.mount.path, dst.key)).catch(() => undefined);
          }
          throw error;
        }
        // The tree is whole at its destination: its pins go with it.
        return await this.#movePins(src, dst, true);
      }
      // MUST_CACHE data moves in the journal once the rest is copied: a process killed while
      // it copies leaves the source whole, rather than that data alone at the destination.
      // The store's older versions of it go first, not to be copied.
      await this.tree.dropOlderVersions(src, signal);
      let copied: TreeEntry[];
      let movingPending = false;
      try {
        copied = await this.tree.copyTree(src, dst, signal);
        movingPending = true;
        await this.tree.movePending(src, dst, signal, { olderDropped: true });
      } catch (error) {
        // Nothing of a move that failed stays at its destination: a retry starts afresh.
        if (movingPending) await movePendingBack();
        await this.tree.removeTree(dst, this.ctx.cleanUpSignal(dst.mount), { keepSelf: existing !== undefined }).catch(() => undefined);
        throw error;
      }
      // The tree is whole at its destination: its pins go with it, whatever happens to the source.
      await this.#movePins(src, dst, true);
      // An abort from now on would leave the tree under both names, so the removal of the
      // source no longer follows the signal: the move completes, unless the mount goes meanwhile
      // (an unmount or close that stopped waiting for it).
      await this.#removeSource(src, dst, new Map(copied.filter((e) => !e.isDirectory).map((e) => [e.key, versionOf(e)])));
    } finally {
      // Whatever the store did before a failure, the caches forget both trees.
      await this.ctx.pages.drop(objectId(state.cacheId, src.key === '' ? '' : src.key + '/'), { prefix: true, force: true });
      state.meta.removed(src.key, true);
      state.meta.removed(dst.key, true);
    }
  }

  /** Removes the source of a move whose tree is copied; on failure, remembers what was copied for {@link finishLeftOver}. */
  async #removeSource(src: Resolved, dst: Resolved, copied: Map<string, string>): Promise<void> {
    const id = this.#leftOverId(src, dst);
    try {
      await this.tree.removeCopied(src, copied, this.ctx.goneSignal(src.mount));
      this.#leftOvers.delete(id);
    } catch (error) {
      this.#leftOvers.set(id, copied);
      const failure = toStrataError(error);
      throw new StrataError(failure.code, `${failure.detail}; the directory is copied to its destination, and what is left of the source is removed by the same rename once the store is back (or by rm -r)`, { cause: failure });
    }
  }

  /**
   * The end of a directory move that copied its tree but failed to remove its source: when every
   * file still at `src` is as it was copied and is at `dst` with its size (and nothing is pending
   * below `src`), removes what is left of `src` and resolves `true`; otherwise `false` (the move
   * is then checked as a new one).
   */
  async finishLeftOver(src: Resolved, dst: Resolved, signal?: AbortSignal): Promise<boolean> {
    const id = this.#leftOverId(src, dst);
    const copied = this.#leftOvers.get(id);
    if (!copied) return false;
    const { cacheId } = this.ctx.stateOf(src.mount);
    if (this.ctx.disk?.journal.list(cacheId).some((p) => p.key.startsWith(src.key + '/'))) return false;
    const store = src.mount.store;
    const [left, there] = await Promise.all([walkTree(store, src.key, { signal }), walkTree(store, dst.key, { signal })]);
    const sizes = new Map(there.filter((e) => !e.isDirectory).map((e) => [e.key, e.size]));
    const unchanged = left.every((e) => e.isDirectory || (copied.get(e.key) === versionOf(e) && sizes.get(moveKey(e.key, src.key, dst.key)) === e.size));
    if (!unchanged) {
      this.#leftOvers.delete(id);
      return false;
    }
    await this.#removeSource(src, dst, copied);
    return true;
  }

  #leftOverId(src: Resolved, dst: Resolved): string {
    return `${this.ctx.stateOf(src.mount).cacheId}\n${src.key}\n${dst.key}`;
  }

  /** Once moved: a pinned file or directory stays pinned under its new name (its old name is not). */
  #movePins(src: Resolved, dst: Resolved, tree: boolean): Promise<void> {
    const { cacheId } = this.ctx.stateOf(src.mount);
    const [from, to] = tree ? [src.key === '' ? '' : src.key + '/', dst.key + '/'] : [src.key, dst.key];
    return this.ctx.pages.movePins(objectId(cacheId, from), objectId(cacheId, to), { prefix: tree });
  }
}
