/**
 * Fails a store request that takes longer than `timeout` ms with a temporary `ETIMEDOUT`, and
 * aborts it underneath (the connector gets an aborted signal). The caller's own signal still
 * aborts the call as an abort, not a timeout.
 *
 * The connector's signal follows the caller's while the request runs (and, for a read, until
 * its body is closed; for a listing, until the listing ends), and no longer: nothing of the
 * request stays on a long-lived caller signal (a listing runs with a signal of its own, given by
 * the signal layer, which always stands above this one).
 * @module
 */
import { StrataError } from '../errors.js';
import { linkSignals } from '../abort-listeners.js';
import type { StoreCallOptions, UnderStore } from '../store/under-store.js';
import { StoreLayer, untilBodyClosed, type CallInfo } from './store-layer.js';

/** The timeout layer (see the module comment). */
export class TimeoutLayer extends StoreLayer {
  constructor(
    inner: UnderStore,
    private readonly timeout: number,
  ) {
    super(inner);
  }

  protected override async around<T, O extends StoreCallOptions>(call: CallInfo, fn: (opts: O | undefined) => Promise<T>, opts: O | undefined): Promise<T> {
    const timer = new AbortController();
    const linked = linkSignals([call.signal, timer.signal]);
    let handle: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      handle = setTimeout(() => {
        // The store request is named in the detail; `op` is left to the facade, which names the
        // caller's operation (`write`, `readdir`), as it does for every other store failure.
        const error = new StrataError('ETIMEDOUT', `store ${call.op} request took longer than ${this.timeout} ms`, { temporary: true });
        timer.abort(error);
        reject(error);
      }, this.timeout);
    });
    let result: T;
    try {
      result = await Promise.race([fn({ ...(opts ?? {}), signal: linked.signal } as O), expired]);
    } catch (error) {
      linked.dispose();
      throw error;
    } finally {
      clearTimeout(handle);
    }
    // A listing's signal is the listing's own, given by the signal layer above, and goes with it.
    if (call.op !== 'list') untilBodyClosed(result, linked.dispose);
    return result;
  }
}
