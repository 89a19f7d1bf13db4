/**
 * Operations on whole files and trees that stores lack: remove, copy (within and across
 * mounts, server-side where a store can) and the checks before a move.
 * @module
 */
import { StrataError, isAbortError, toStrataError } from '../errors.js';
import { dirname, isKeyAtOrBelow, joinPath, parentKey } from '../path.js';
import type { FileInfo } from '../options.js';
import type { Resolved } from '../mount/mount-table.js';
import { objectId, versionOf } from '../cache/page-id.js';
import type { PendingWrite } from '../cache/disk-tier-types.js';
import { collect } from '../io/body.js';
import { pageReadStream } from '../io/read-stream.js';
import { readAgainOnNewVersion } from '../io/new-version.js';
import { depth, moveKey, walkTree, type TreeEntry } from '../ops/tree-walk.js';
import { eachLimit } from '../store/each-limit.js';
import type { FsContext } from './context.js';
import type { Namespace } from './namespace.js';
import type { PageSources } from './page-sources.js';
import type { Writer } from './writer.js';

/** Operations in flight at once in a tree operation. */
const CONCURRENCY = 16;

/** The tree operations of one `StrataFS`. */
export class TreeOps {
  constructor(
    private readonly ctx: FsContext,
    private readonly ns: Namespace,
    private readonly writer: Writer,
    private readonly sources: PageSources,
  ) {}

  async removeFile(res: Resolved, signal?: AbortSignal): Promise<void> {
    const state = this.ctx.stateOf(res.mount);
    // After the changes of the file queued before (an upload of it included), none after.
    await this.ctx.inOrder(
      res.mount,
      res.key,
      async () => {
        await this.#removeObject(res, signal);
        await this.ctx.pages.drop(objectId(state.cacheId, res.key), { force: true });
        await this.ctx.pages.setPinned(objectId(state.cacheId, res.key), false); // a file made again at this path is not pinned
        state.meta.removed(res.key);
      },
      signal,
      true,
    );
  }

  /**
   * Deletes the object of one file in the store, then drops its pending writes: a delete that
   * fails (or a crash in between) leaves the file as it was last written, never the older
   * version the store held under its pending writes. Another process's upload of one of them
   * lands before the delete, never after it.
   */
  #removeObject(res: Resolved, signal?: AbortSignal): Promise<void> {
    return this.ctx.replacingInStore(res.mount, res.key, () => res.mount.store.delete(res.key, { signal }), signal);
  }

  /**
   * Removes a directory and everything below it (files first, then directories deepest first);
   * with `keepSelf`, only what is below it.
   */
  async removeTree(res: Resolved, signal?: AbortSignal, { keepSelf = false } = {}): Promise<void> {
    const { mount, key } = res;
    const state = this.ctx.stateOf(mount);
    const store = mount.store;
    // Another process's upload of a pending write below lands before the removal, never after it; the removal drops them.
    const held = (await this.ctx.writeBack?.holdUploads(state.cacheId, key, signal, true)) ?? [];
    try {
      // Files with pending writes go first, each once an upload of it already running has ended (it must not land after the delete).
      for (const p of this.ctx.disk?.journal.list(state.cacheId) ?? []) {
        if (key === '' || p.key.startsWith(key + '/')) await this.ctx.inOrder(mount, p.key, () => this.#removeObject({ mount, key: p.key }, signal), signal, true);
      }
      const all = await walkTree(store, key, { signal });
      const files = all.filter((e) => !e.isDirectory).map((e) => e.key);
      // A delete that fails names the file or directory it was for, as `rm -r` of `fs` does.
      const remove = (k: string, name = k): Promise<void> => named(store.delete(k, { signal }), mount, name);
      if (store.deleteMany && files.length > 1) await store.deleteMany(files, { signal });
      else await eachLimit(files, CONCURRENCY, (k) => remove(k));
      // Markers only where one can be: an implicit directory of an object store has none to delete.
      const dirs = all.filter((e) => e.isDirectory && !(e.implicit && !store.capabilities.directories));
      await removeMarkers(dirs, mount, signal);
      if (key !== '' && !keepSelf) await store.delete(key + '/', { signal });
      if (key !== '' && !keepSelf && (await store.stat(key, { signal }))?.isDirectory) {
        const added = await walkTree(store, key, { signal });
        if (added.length === 0) throw unnamableEntries();
        const names = added.slice(0, 3).map((e) => joinPath(mount.path, e.key));
        throw new StrataError('ENOTEMPTY', `entries were added to the directory while it was removed (${names.join(', ')}${added.length > names.length ? ', ...' : ''}); they are still there`);
      }
    } catch (error) {
      this.ctx.writeBack?.releaseAll(held);
      throw error;
    } finally {
      // What was deleted before a failure is gone from the caches too.
      await this.ctx.pages.drop(objectId(state.cacheId, key === '' ? '' : key + '/'), { prefix: true, force: true });
      if (key !== '') await this.ctx.pages.drop(objectId(state.cacheId, key), { force: true });
      state.meta.removed(key, true);
    }
    // The pins of the directory and of what was in it go with them (a pin of a directory above stays).
    if (key !== '' && !keepSelf) await this.ctx.pages.setPinned(objectId(state.cacheId, key + '/'), false, { prefix: true });
    for (const id of held) await this.ctx.disk?.journal.complete(id);
  }

  /**
   * Removes the source of a tree copied elsewhere (a directory move by copy): the files `copied`
   * names (key and the version it was copied at) that are still at that version and that no
   * change through this StrataFS is writing, then the directories left empty. A file another client of the store added or rewrote there meanwhile
   * (or a write pending below) is never copied, so it stays, with its directories, instead of
   * being lost with the source. `signal` ends it where it is (what was removed stays removed).
   */
  async removeCopied(res: Resolved, copied: ReadonlyMap<string, string>, signal?: AbortSignal): Promise<void> {
    const { mount, key } = res;
    const store = mount.store;
    const state = this.ctx.stateOf(mount);
    try {
      const all = await walkTree(store, key, { signal });
      // A file whose change is on its way (a write stream begun before the move) is left to it.
      const isCopied = (e: TreeEntry): boolean => copied.get(e.key) === versionOf(e) && !this.ctx.locks.busy(objectId(state.cacheId, e.key));
      const files = all.filter((e) => !e.isDirectory && isCopied(e)).map((e) => e.key);
      const kept = [...all.filter((e) => !e.isDirectory && !isCopied(e)).map((e) => e.key), ...(this.ctx.disk?.journal.list(state.cacheId).map((p) => p.key) ?? [])].filter((k) => isKeyAtOrBelow(k, key));
      const remove = (k: string, name = k): Promise<void> => named(store.delete(k, { signal }), mount, name);
      if (store.deleteMany && files.length > 1) await store.deleteMany(files, { signal });
      else await eachLimit(files, CONCURRENCY, (k) => remove(k));
      const holdsKept = (dir: string): boolean => kept.some((k) => isKeyAtOrBelow(k, dir));
      const dirs = all.filter((e) => e.isDirectory && !(e.implicit && !store.capabilities.directories) && !holdsKept(e.key));
      await removeMarkers(dirs, mount);
      if (key === '' || kept.length > 0) return;
      await store.delete(key + '/', { signal });
      // What another client of the store wrote into it after it was listed stays, as what was found above does.
      if ((await store.stat(key, { signal }))?.isDirectory && (await walkTree(store, key, { signal })).length === 0) throw unnamableEntries();
    } finally {
      // What was deleted before a failure is gone from the caches too.
      await this.ctx.pages.drop(objectId(state.cacheId, key === '' ? '' : key + '/'), { prefix: true, force: true });
      state.meta.removed(key, true);
    }
  }

  async checkMoveTarget(info: FileInfo, existing: FileInfo | undefined, target: string, signal?: AbortSignal): Promise<void> {
    if (!existing) return;
    if (this.ctx.table.get(target) || this.ctx.table.hasMountsBelow(target)) throw new StrataError('EBUSY', 'destination is or holds a mount point');
    if (info.type === 'file' && existing.type === 'directory') throw new StrataError('EISDIR', 'destination is a directory');
    if (info.type === 'directory' && existing.type === 'file') throw new StrataError('ENOTDIR', 'destination is a file');
    if (info.type === 'directory' && (await this.ns.listDir(target, false, signal)).size > 0) throw new StrataError('ENOTEMPTY', 'destination directory is not empty');
  }

  /**
   * Copies one file: server-side within a store that can, else streamed through. Without
   * `overwrite`, a file found at `dst` in its turn fails it with `EEXIST`: of two such copies
   * (or writes) to one new name at once, one wins and the others fail, as `writeFile` does.
   */
  async copyFile(src: Resolved, dst: Resolved, signal?: AbortSignal, overwrite = true): Promise<void> {
    // In the destination's turn: an upload of it on its way lands before, a pending one is replaced.
    await this.ctx.inOrder(dst.mount, dst.key, async () => {
      if (!overwrite && (await this.ns.storeStat(dst.mount, dst.key, signal))) throw new StrataError('EEXIST', 'destination exists');
      await this.copyFileInTurn(src, dst, signal);
    }, signal, true);
  }

  /** {@link copyFile} for a caller that already holds the destination's turn. */
  async copyFileInTurn(src: Resolved, dst: Resolved, signal?: AbortSignal): Promise<void> {
    const dstState = this.ctx.stateOf(dst.mount);
    const srcState = this.ctx.stateOf(src.mount);
    const pendingSource = this.ctx.disk?.journal.find(srcState.cacheId, src.key);
    // One store (one mount, or one store object mounted at two paths) copies by itself.
    const store = dst.mount.store;
    if (src.mount.rawStore === dst.mount.rawStore && !pendingSource && store.capabilities.copy && store.copy) {
      // Another process's upload of a pending write of the destination lands before the copy, never after it.
      const info = await this.ctx.replacingInStore(dst.mount, dst.key, () => store.copy!(src.key, dst.key, { signal }), signal);
      await this.ctx.pages.drop(objectId(dstState.cacheId, dst.key), { force: true });
      dstState.meta.written(dst.key, info);
      return;
    }
    const mode = dst.mount.writeType ?? this.ctx.options.writeType;
    const writeType = mode === 'MUST_CACHE' || mode === 'ASYNC_THROUGH' ? mode : 'THROUGH';
    // A failure reading the source names the source; one writing the destination names the destination.
    const context = { path: joinPath(src.mount.path, src.key), op: 'read', mount: src.mount.path };
    // A source rewritten while it is copied (ESTALE) is copied again at its new version, as
    // readFile reads it again: the failed write stored nothing, and the copy is one whole version.
    await readAgainOnNewVersion(
      async () => {
        const info = await this.ns.storeStat(src.mount, src.key, signal);
        if (!info || info.isDirectory) throw new StrataError('ENOENT', 'source file vanished');
        const stream = pageReadStream(this.ctx.pages, async () => this.sources.source(src.mount, src.key, info), 0, undefined, { readType: 'NO_CACHE', signal, shareChunks: true, context }); // the upload only reads them
        try {
          const body = info.size <= this.ctx.options.pageSize * 8 ? await collect(stream, signal) : stream;
          await this.writer.writeObject(dst, body, writeType, signal);
        } catch (error) {
          if (isAbortError(error)) throw error;
          const failure = toStrataError(error);
          throw failure.path === context.path ? failure : failure.withContext({ path: joinPath(dst.mount.path, dst.key), mount: dst.mount.path });
        }
      },
      (error) => {
        const sourceChanged = (error as StrataError).code === 'ESTALE' && (error as StrataError).path === context.path;
        if (sourceChanged) srcState.meta.changedOutside(src.key);
        return sourceChanged;
      },
    );
  }

  /**
   * Moves the `MUST_CACHE` writes at or below `src` (a file, or a directory) to the same place
   * below `dst` in the journal: they stay in the cache only, as they were, each renamed in one
   * durable step (a crash leaves it under one name; its data is not copied). The store's own
   * object at a moved file's old key (an older version) is removed first, so the old path is
   * gone, unless `olderDropped` says {@link dropOlderVersions} did it. Resolves with the number
   * of writes moved.
   */
  async movePending(src: Resolved, dst: Resolved, signal?: AbortSignal, { olderDropped = false } = {}): Promise<number> {
    const journal = this.ctx.disk?.journal;
    if (!journal) return 0;
    const state = this.ctx.stateOf(src.mount);
    const dstState = this.ctx.stateOf(dst.mount);
    let moved = 0;
    for (const pending of this.#mustCacheAt(src)) {
      const to = moveKey(pending.key, src.key, dst.key);
      // In the turn of its old name: a persist of it on its way ends first (it is then in the
      // store, and moves with it), never after the move with the moved write taken for its own.
      const stillPending = await this.ctx.inOrder(src.mount, pending.key, async () => {
        if (journal.find(state.cacheId, pending.key)?.id !== pending.id) return false;
        // The older version goes first: a delete that fails (or a crash before the move) leaves the write where it was.
        if (!olderDropped) await src.mount.store.delete(pending.key, { signal });
        await journal.move(pending.id, dstState.cacheId, to);
        return true;
      }, signal);
      if (!stillPending) continue;
      moved++;
      await this.ctx.pages.drop(objectId(state.cacheId, pending.key), { force: true });
      await this.ctx.pages.drop(objectId(dstState.cacheId, to), { force: true });
      state.meta.removed(pending.key);
      dstState.meta.written(to, null);
    }
    return moved;
  }

  /**
   * Removes the store's own object (an older version) at the key of each `MUST_CACHE` write at or
   * below `res`: the writes stay where they are, and a copy of the tree made next does not
   * bring that older version along.
   */
  async dropOlderVersions(res: Resolved, signal?: AbortSignal): Promise<void> {
    const { cacheId } = this.ctx.stateOf(res.mount);
    for (const pending of this.#mustCacheAt(res)) {
      await this.ctx.inOrder(res.mount, pending.key, async () => {
        if (this.ctx.disk?.journal.find(cacheId, pending.key)?.id === pending.id) await res.mount.store.delete(pending.key, { signal });
      }, signal);
    }
  }

  /** The newest `MUST_CACHE` write of each key at or below `res`. */
  #mustCacheAt(res: Resolved): PendingWrite[] {
    const { cacheId } = this.ctx.stateOf(res.mount);
    const all = (this.ctx.disk?.journal.list(cacheId) ?? []).filter((p) => p.mode === 'MUST_CACHE' && isKeyAtOrBelow(p.key, res.key));
    return [...new Map(all.map((p) => [p.key, p])).values()];
  }

  /**
   * Recursive copy of a logical directory (may span nested mounts on the source side). Every
   * destination is checked before anything is copied, and the first conflict in path order
   * (shallower first, then by name) fails the copy with nothing made: `ENOTDIR` for a directory
   * over a file, `EISDIR` for a file over a directory, `EEXIST` for a file over a file without
   * `overwrite`. A copy that fails part-way removes the files and directories it made.
   */
  async copyLogicalTree(source: string, target: string, overwrite: boolean, signal?: AbortSignal): Promise<void> {
    const entries = [...(await this.ns.listDir(source, true, signal)).entries()].sort(([a], [b]) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
    const root = await this.ns.statInfo(target, signal);
    if (root && root.type !== 'directory') throw this.#conflict('ENOTDIR', 'destination is a file', target);
    // Below a destination that does not exist yet, nothing is in the way.
    const existing: (FileInfo | undefined)[] = new Array(entries.length);
    if (root) await eachLimit([...entries.keys()], CONCURRENCY, async (i) => void (existing[i] = await this.ns.statInfo(joinPath(target, entries[i]![0]), signal)));
    entries.forEach(([rel, entry], i) => {
      const found = existing[i];
      if (!found) return;
      const to = joinPath(target, rel);
      if (entry.type === 'directory' && found.type === 'file') throw this.#conflict('ENOTDIR', 'destination is a file', to);
      if (entry.type === 'file' && found.type === 'directory') throw this.#conflict('EISDIR', 'destination is a directory', to);
      if (entry.type === 'file' && !overwrite) throw this.#conflict('EEXIST', 'destination exists', to);
    });
    if (!root) await this.makeDirectories(dirname(target), signal);
    // What this copy makes (shallower first), removed again when it fails: a retry then finds no
    // file of its own in the way (`EEXIST` without `overwrite`). Files it replaced stay replaced.
    // (Each as resolved when made: its clean-up goes to that mount's store, whatever the table holds by then.)
    const made: { res: Resolved; dir: boolean }[] = [];
    const makeDirectory = async (path: string): Promise<void> => {
      const res = this.ctx.writable(path);
      made.push({ res, dir: true });
      await this.writer.makeDirectory(res, signal);
    };
    try {
      if (!root) await makeDirectory(target);
      for (const [i, [rel, entry]] of entries.entries()) {
        if (entry.type !== 'directory' || existing[i]) continue;
        await makeDirectory(joinPath(target, rel));
      }
      await eachLimit(
        [...entries.keys()].filter((i) => entries[i]![1].type === 'file'),
        CONCURRENCY,
        async (i) => {
          const rel = entries[i]![0];
          const dst = this.ctx.writable(joinPath(target, rel));
          if (!existing[i]) made.push({ res: dst, dir: false });
          await this.copyFile(this.ctx.resolveMounted(joinPath(source, rel)), dst, signal);
        },
      );
    } catch (error) {
      await this.#unmake(made);
      throw error;
    }
  }

  /** A destination of a recursive copy in the way: the error names it (its `path` and `mount`), as a single file's copy does. */
  #conflict(code: 'ENOTDIR' | 'EISDIR' | 'EEXIST', detail: string, to: string): StrataError {
    return new StrataError(code, detail, { path: to, mount: this.ctx.table.resolve(to)?.mount.path });
  }

  /**
   * Removes what a failed copy made: its files, then its directories deepest first, each only
   * as a marker (what else was written into one since stays). Whatever fails here is left.
   */
  async #unmake(made: { res: Resolved; dir: boolean }[]): Promise<void> {
    for (const { res } of made.filter((m) => !m.dir)) await this.removeFile(res, this.ctx.cleanUpSignal(res.mount)).catch(() => undefined);
    for (const { res } of made.filter((m) => m.dir).reverse()) {
      await res.mount.store.delete(res.key + '/', { signal: this.ctx.cleanUpSignal(res.mount) }).catch(() => undefined);
      this.ctx.state.get(res.mount)?.meta.removed(res.key);
    }
  }

  /**
   * Copies a directory tree within one mount (rename without store rename). On an object store,
   * a directory known only from the keys below it stays so (no marker is made for it), the
   * copied directory itself included: it gets a marker when the source has one (its `stat`
   * reports the marker's `mtime`, as a recursive listing does) or nothing below it. Resolves
   * with what it found below `src`.
   */
  async copyTree(src: Resolved, dst: Resolved, signal?: AbortSignal): Promise<TreeEntry[]> {
    const store = src.mount.store;
    const all = await walkTree(store, src.key, { signal });
    const marked = store.capabilities.directories || all.length === 0 || src.key === '' || (await store.stat(src.key + '/', { signal }))?.mtime !== undefined;
    if (marked) await this.writer.makeDirectory(dst, signal);
    // A directory with nothing below it exists by its marker, whatever the listing said of it.
    const parents = new Set(all.map((e) => parentKey(e.key)));
    const markers = all.filter((e) => e.isDirectory && (dst.mount.store.capabilities.directories || !(e.implicit || e.unmarked) || !parents.has(e.key)));
    for (const dir of markers.sort((a, b) => depth(a.key) - depth(b.key))) {
      await this.writer.makeDirectory({ mount: dst.mount, key: moveKey(dir.key, src.key, dst.key) }, signal);
    }
    await eachLimit(
      all.filter((e) => !e.isDirectory),
      CONCURRENCY,
      (file) => this.copyFile({ mount: src.mount, key: file.key }, { mount: dst.mount, key: moveKey(file.key, src.key, dst.key) }, signal),
    );
    return all;
  }


  /** Creates `path` and its missing parents as directories (the target of a recursive copy). */
  async makeDirectories(path: string, signal?: AbortSignal): Promise<void> {
    const info = await this.ns.statInfo(path, signal);
    if (info?.type === 'directory') return;
    if (info) throw new StrataError('ENOTDIR', `destination is a file: ${path}`);
    await this.makeDirectories(dirname(path), signal);
    await this.writer.makeDirectory(this.ctx.writable(path), signal);
  }
}

/**
 * What the removal of a directory fails with when the store still has it once everything listed
 * below it is deleted: keys no path can name (`a//b`, a backslash, control characters) are never
 * listed, so never deleted.
 */
function unnamableEntries(): StrataError {
  return new StrataError('ENOTEMPTY', "the directory still holds entries no path can name (keys with '//', a backslash or control characters); remove them with the store's own tools");
}

/**
 * Removes the directories `dirs` of a removed tree (their markers, on an object store): on a file
 * system one by one, deepest first (a directory goes once it is empty); on an object store, where
 * a marker holds nothing, in the store's batches when it has them, not one request each.
 */
async function removeMarkers(dirs: TreeEntry[], mount: Resolved['mount'], signal?: AbortSignal): Promise<void> {
  const store = mount.store;
  if (!store.capabilities.directories && store.deleteMany && dirs.length > 1) return store.deleteMany(dirs.map((dir) => dir.key + '/'), { signal });
  const deepestFirst = dirs.map((dir) => ({ key: dir.key, depth: depth(dir.key) })).sort((a, b) => b.depth - a.depth);
  for (const dir of deepestFirst) await named(store.delete(dir.key + '/', { signal }), mount, dir.key);
}

/** `call`, whose failure (an abort aside) names the path of `key` in `mount`. */
async function named(call: Promise<void>, mount: Resolved['mount'], key: string): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw toStrataError(error).withContext({ path: joinPath(mount.path, key), mount: mount.path });
  }
}
