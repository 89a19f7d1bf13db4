/**
 * Writes through the facade: target checks, the write types (store first, or the durable
 * journal for `MUST_CACHE`/`ASYNC_THROUGH`), directories, and what a write changes in the caches.
 * @module
 */
import type { Readable } from 'node:stream';
import { StrataError, throwIfAborted } from '../errors.js';
import { joinPath, parentKey } from '../path.js';
import type { WriteType } from '../options.js';
import type { Mount, Resolved } from '../mount/mount-table.js';
import { objectId, versionOf } from '../cache/page-id.js';
import { keepWhileFits } from '../io/body.js';
import type { ObjectInfo } from '../store/under-store.js';
import type { PendingWrite } from '../cache/disk-tier-types.js';
import type { FsContext } from './context.js';
import type { Namespace } from './namespace.js';

/** The writer of one `StrataFS`. */
export class Writer {
  constructor(
    private readonly ctx: FsContext,
    private readonly ns: Namespace,
  ) {}

  /** Checks a file write target: not a directory, overwrite rules, no file among its parents. */
  async checkWriteTarget(res: Resolved, overwrite: boolean, signal?: AbortSignal): Promise<void> {
    if (res.key === '') throw new StrataError('EISDIR', 'cannot write to a mount point');
    const existing = await this.ns.storeStat(res.mount, res.key, signal);
    if (existing?.isDirectory) throw new StrataError('EISDIR');
    if (existing && !overwrite) throw new StrataError('EEXIST');
    await this.ensureParent(res, signal);
  }

  /** `ENOTDIR` when a parent of the key is a file (object stores would happily create both). */
  async ensureParent(res: Resolved, signal?: AbortSignal): Promise<void> {
    for (let key = parentKey(res.key); key !== ''; key = parentKey(key)) {
      const info = await this.ns.storeStat(res.mount, key, signal);
      if (info?.isDirectory) return;
      if (info) throw new StrataError('ENOTDIR', `a parent is a file: ${joinPath(res.mount.path, key)}`);
    }
  }

  /**
   * Writes the object, in its turn (see `FsContext.inOrder`). A write to the store drops the
   * pending writes of the key staged before it started (one another process stages meanwhile stays).
   * A write still on its way when its mount goes fails, storing nothing (see `FsContext.whileMounted`).
   */
  async writeObject(res: Resolved, body: Buffer | Readable, mode: WriteType, signal?: AbortSignal): Promise<ObjectInfo> {
    return this.ctx.whileMounted(res.mount, signal, (linked) => this.writeWhileMounted(res, body, mode, linked));
  }

  /** {@link writeObject} once its signal also follows the mount. */
  private async writeWhileMounted(res: Resolved, body: Buffer | Readable, mode: WriteType, signal: AbortSignal): Promise<ObjectInfo> {
    const { mount, key } = res;
    const state = this.ctx.stateOf(mount);
    const object = objectId(state.cacheId, key);
    const replaces = this.ctx.disk?.journal.list(state.cacheId).filter((p) => p.key === key).map((p) => p.id) ?? [];
    if (mode === 'MUST_CACHE' || mode === 'ASYNC_THROUGH') {
      // A stream goes to the journal as it comes; its bytes are kept for the memory tier while they fit.
      const kept = Buffer.isBuffer(body) ? undefined : keepWhileFits(body, this.ctx.keepBudget);
      try {
        throwIfAborted(signal);
        const pending = await this.ctx.disk!.journal.stage(state.cacheId, key, kept ? kept.stream : body, mode, signal);
        await this.dropOlderMustCache(pending);
        const info: ObjectInfo = { key, size: pending.size, mtime: pending.mtime, etag: `pending-${pending.id}`, isDirectory: false };
        await this.ctx.pages.drop(object, { force: true }); // old versions; the journal keeps the new one
        const data = kept ? kept.bytes(pending.size) : (body as Buffer);
        // The journal holds the data on disk: the disk tier keeps no second copy of it.
        if (data) this.ctx.pages.admitWritten(object, versionOf(info), data, true);
        state.meta.written(key, null);
        if (mode === 'ASYNC_THROUGH') this.ctx.writeBack!.schedule(pending);
        return info;
      } finally {
        kept?.release();
      }
    }
    // Another process's upload of an older pending write of the file lands before this write, never after it.
    return this.ctx.holdingUploads(mount, key, async (held) => {
      const dropped = [...new Set([...replaces, ...held])];
      if (!Buffer.isBuffer(body) && mode === 'CACHE_THROUGH') {
        // Keep the pages of a streamed write while they fit the memory tier; drop them past that.
        const kept = keepWhileFits(body, this.ctx.keepBudget);
        try {
          const info = await this.ctx.changingStore(mount, key, () => mount.store.write(key, kept.stream, { signal }));
          return await this.afterWrite(mount, key, info, kept.bytes(info.size), dropped);
        } finally {
          kept.release();
        }
      }
      const data = Buffer.isBuffer(body) ? body : undefined;
      const info = await this.ctx.changingStore(mount, key, () => mount.store.write(key, body, { signal, size: data?.length }));
      return this.afterWrite(mount, key, info, mode === 'CACHE_THROUGH' ? data : undefined, dropped);
    }, signal);
  }

  /**
   * After `staged` (a newer write of its key): drops the `MUST_CACHE` writes of the key older
   * than its newest one (a write staged beside this one may have finished first),
   * which nothing would ever upload and which would keep their disk space until `persist`. One
   * that another process holds stays; older `ASYNC_THROUGH` writes are left to their uploader,
   * which drops them as superseded.
   */
  private async dropOlderMustCache(staged: PendingWrite): Promise<void> {
    const journal = this.ctx.disk!.journal;
    const ofKey = journal.list(staged.cacheId).filter((p) => p.key === staged.key); // oldest first
    for (const p of ofKey.slice(0, -1)) if (p.mode === 'MUST_CACHE' && journal.claim(p.id) === 'superseded') await journal.complete(p.id);
  }

  /** After a write to the store: drops the pending writes it `replaces`, updates the caches. */
  async afterWrite(mount: Mount, key: string, info: ObjectInfo, data: Buffer | undefined, replaces: string[]): Promise<ObjectInfo> {
    const state = this.ctx.stateOf(mount);
    const object = objectId(state.cacheId, key);
    state.counters.bytesToStore += info.size;
    for (const id of replaces) await this.ctx.disk?.journal.complete(id);
    // The new version is known as soon as the pending writes it replaces are gone: a stat or
    // readdir meanwhile must not miss the file or its directories.
    state.meta.written(key, info);
    await this.ctx.pages.drop(object, { force: true }); // old versions; a pin rule pins the new one's pages
    if (data && data.length === info.size) this.ctx.pages.admitWritten(object, versionOf(info), data);
    return info;
  }

  /** Called by the write-back uploader once a pending write is in the store (with its data, when it was kept). */
  async afterUpload(mount: Mount, key: string, info: ObjectInfo, data: Buffer | undefined): Promise<void> {
    const state = this.ctx.state.get(mount);
    if (!state) return;
    state.counters.bytesToStore += info.size;
    const object = objectId(state.cacheId, key);
    if (this.ctx.disk?.journal.find(state.cacheId, key)) return; // a newer pending write supersedes it
    // At once, as the pending write is gone: a stat or readdir meanwhile sees the uploaded file.
    state.meta.written(key, info);
    await this.ctx.pages.drop(object, { force: true }); // old versions; a pin rule pins the new one's pages
    if (data && data.length === info.size) this.ctx.pages.admitWritten(object, versionOf(info), data);
  }

  async makeDirectory(res: Resolved, signal?: AbortSignal): Promise<void> {
    const info = await this.ctx.changingStore(res.mount, res.key, () => res.mount.store.write(res.key + '/', Buffer.alloc(0), { signal, size: 0 }));
    this.ctx.stateOf(res.mount).meta.written(res.key, { ...info, key: res.key, isDirectory: true, size: 0 });
  }
}

