/**
 * Gives each store call a signal of its own that follows the caller's: the connector (and its
 * SDK) listens on that signal, never on the caller's, which gets one listener however many calls
 * run under it (see `abort-listeners.ts`). A service that hands one long-lived signal to thirty
 * concurrent calls then prints no `MaxListenersExceededWarning`, with or without a `timeout`.
 *
 * The call's signal follows the caller's while the call runs (for a read, until its body is
 * closed; for a listing, until the listing ends) and no longer: nothing of the call stays on the
 * caller's signal. An abort of the caller's signal aborts the call's at once, with its reason.
 * @module
 */
import { linkSignals } from '../abort-listeners.js';
import type { ObjectInfo, StoreCallOptions, StoreListOptions } from '../store/under-store.js';
import { StoreLayer, untilBodyClosed, type CallInfo } from './store-layer.js';

/** The signal layer (see the module comment). */
export class SignalLayer extends StoreLayer {
  /**
   * A listing runs with a signal of its own that follows the caller's until the listing ends
   * (a listing fetches its later pages with the signal its first page was given).
   */
  override async *list(prefix: string, opts?: StoreListOptions): AsyncIterable<ObjectInfo> {
    if (!opts?.signal) return yield* super.list(prefix, opts);
    const listing = linkSignals([opts.signal]);
    try {
      yield* super.list(prefix, { ...opts, signal: listing.signal });
    } finally {
      listing.dispose();
    }
  }

  protected override async around<T, O extends StoreCallOptions>(call: CallInfo, fn: (opts: O | undefined) => Promise<T>, opts: O | undefined): Promise<T> {
    // A listing has its signal already (see list).
    if (!call.signal || call.op === 'list') return fn(opts);
    const linked = linkSignals([call.signal]);
    let result: T;
    try {
      result = await fn({ ...(opts ?? {}), signal: linked.signal } as O);
    } catch (error) {
      linked.dispose();
      throw error;
    }
    untilBodyClosed(result, linked.dispose);
    return result;
  }
}
