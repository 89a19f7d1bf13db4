/**
 * A file at its current version as the page cache reads it: from the store (with a version
 * check where the store cannot do it), or from the write-back journal while a write is pending.
 * @module
 */
import { Readable } from 'node:stream';
import { StrataError } from '../errors.js';
import type { Mount } from '../mount/mount-table.js';
import type { PageSource } from '../cache/page-cache.js';
import { objectId, versionOf } from '../cache/page-id.js';
import { sliceStream } from '../io/body.js';
import { verifiedVersion } from '../io/verified-stream.js';
import type { ObjectInfo } from '../store/under-store.js';
import type { FsContext } from './context.js';
import type { Namespace } from './namespace.js';

/** Page sources of one `StrataFS`. */
export class PageSources {
  constructor(
    private readonly ctx: FsContext,
    private readonly ns: Namespace,
    /** Waits for the disk cache to be open. */
    private readonly ready: () => Promise<void>,
  ) {}

  /** The page source of a file at its current version. */
  async openSource(path: string, signal?: AbortSignal): Promise<{ src: PageSource; mount: Mount; info: ObjectInfo }> {
    const res = this.ctx.table.resolve(path);
    if (!res) {
      if (this.ctx.table.hasMountsBelow(path) || path === '/') throw new StrataError('EISDIR');
      throw new StrataError('ENOENT');
    }
    await this.ready();
    if (res.key === '' || this.ctx.table.hasMountsBelow(path)) throw new StrataError('EISDIR');
    const info = await this.ns.storeStat(res.mount, res.key, signal);
    if (!info) throw new StrataError('ENOENT');
    if (info.isDirectory) throw new StrataError('EISDIR');
    return { src: this.source(res.mount, res.key, info), mount: res.mount, info };
  }

  source(mount: Mount, key: string, info: ObjectInfo): PageSource {
    const state = this.ctx.state.get(mount)!;
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
          const journal = this.ctx.disk?.journal;
          // The upload may complete (and the journal drop the data) at any moment: then the
          // object is read again at its stored version.
          const data = journal?.find(state.cacheId, key)?.id === pending ? await journal.read(pending, offset, length).catch(() => undefined) : undefined;
          if (data) return Readable.from([data]);
          this.ctx.stateOf(mount).meta.forget(key);
          throw new StrataError('ESTALE', 'the pending write this read started on has been uploaded or replaced');
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
}
