/**
 * Checks each call against the store's capabilities before it reaches the store: a call the
 * store declares it cannot make fails at once with `ENOTSUP`, the same way for every connector,
 * and is not counted as a store request. Today that is `list` on a store with
 * `capabilities.list: false`; the facade never asks a store for a `copy` or a `rename` it does
 * not declare.
 *
 * On such a mount, whatever must know what is in a directory fails with `ENOTSUP`: `readdir`,
 * `rm` of a directory (recursive or not), `copy` with `recursive`, a `rename` of a directory by
 * copy (a store with its own `rename` moves directories without listing), `load` with
 * `recursive` and `pin` of a directory. Files work as usual, and `stat` is the store's own.
 * @module
 */
import { StrataError } from '../errors.js';
import type { ObjectInfo, StoreListOptions } from '../store/under-store.js';
import { StoreLayer } from './store-layer.js';

/** The capability layer (see the module comment). */
export class CapabilityLayer extends StoreLayer {
  override async *list(prefix: string, opts?: StoreListOptions): AsyncIterable<ObjectInfo> {
    if (!this.capabilities.list) throw new StrataError('ENOTSUP', `the store ${this.uri} cannot list directories (capabilities.list is false)`);
    yield* super.list(prefix, opts);
  }
}
