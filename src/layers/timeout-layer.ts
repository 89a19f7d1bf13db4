/**
 * Fails a store request that takes longer than `timeout` ms with a temporary `ETIMEDOUT`, and
 * aborts it underneath (the connector gets an aborted signal). The caller's own signal still
 * aborts the call as an abort, not a timeout.
 * @module
 */
import { StrataError } from '../errors.js';
import type { StoreCallOptions, UnderStore } from '../store/under-store.js';
import { StoreLayer, type CallInfo } from './store-layer.js';

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
    const signal = call.signal ? AbortSignal.any([call.signal, timer.signal]) : timer.signal;
    let handle: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      handle = setTimeout(() => {
        const error = new StrataError('ETIMEDOUT', `store request took longer than ${this.timeout} ms`, { op: call.op, temporary: true });
        timer.abort(error);
        reject(error);
      }, this.timeout);
    });
    try {
      return await Promise.race([fn({ ...(opts ?? {}), signal } as O), expired]);
    } finally {
      clearTimeout(handle);
    }
  }
}
