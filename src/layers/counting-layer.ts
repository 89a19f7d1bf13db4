/**
 * Counts store requests by operation, for `stats().storeRequests`.
 * @module
 */
import type { StoreCallOptions, UnderStore } from '../store/under-store.js';
import { StoreLayer, type CallInfo } from './store-layer.js';

/** The counting layer: outermost, so a call counts once however often the retry layer repeats it. */
export class CountingLayer extends StoreLayer {
  constructor(
    inner: UnderStore,
    private readonly requests: Record<string, number>,
  ) {
    super(inner);
  }

  protected override around<T, O extends StoreCallOptions>(call: CallInfo, fn: (opts: O | undefined) => Promise<T>, opts: O | undefined): Promise<T> {
    this.requests[call.op] = (this.requests[call.op] ?? 0) + 1;
    return fn(opts);
  }
}
