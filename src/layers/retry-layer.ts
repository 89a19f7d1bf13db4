/**
 * Retries temporary store errors (throttling, 5xx, broken connections, timeouts) with
 * exponential backoff and full jitter. Never retries a call that cannot be replayed (a write of
 * a stream) or an aborted one.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StrataError, isAbortError, isTemporary, sanitizeCause, toStrataError } from '../errors.js';
import type { StoreCallOptions, UnderStore } from '../store/under-store.js';
import { StoreLayer, type CallInfo } from './store-layer.js';

/** Retry settings: total attempts (1 = no retry) and the backoff bounds in ms. */
export interface RetryPolicy {
  attempts: number;
  minDelay: number;
  maxDelay: number;
}

/** The delay before retry number `attempt` (1-based): full jitter below `min * 2^(attempt-1)`, capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelay, policy.minDelay * 2 ** (attempt - 1));
  return policy.minDelay / 2 + Math.random() * Math.max(0, ceiling - policy.minDelay / 2);
}

/** The retry layer (see the module comment). */
export class RetryLayer extends StoreLayer {
  constructor(
    inner: UnderStore,
    private readonly policy: RetryPolicy,
  ) {
    super(inner);
  }

  protected override async around<T, O extends StoreCallOptions>(call: CallInfo, fn: (opts: O | undefined) => Promise<T>, opts: O | undefined): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(opts);
      } catch (error) {
        if (isAbortError(error) && call.signal?.aborted) throw error;
        // An SDK that reports a dropped connection as an abort (no signal of ours fired) gets a retry.
        const mapped = isAbortError(error) ? new StrataError('EIO', 'the store connection was aborted', { temporary: true, cause: sanitizeCause(error) }) : toStrataError(error);
        if (attempt >= this.policy.attempts || !call.replayable || !isTemporary(mapped)) throw mapped;
        await sleep(backoffDelay(this.policy, attempt), undefined, { signal: call.signal });
      }
    }
  }
}
