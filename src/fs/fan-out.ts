/**
 * Calls that run many store calls at once under one caller's signal (copy -r, load -r, rm -r,
 * moves) hand them a signal of their own that follows the caller's: it takes any number of
 * listeners, so no `MaxListenersExceededWarning` is printed, and the caller's signal gets none.
 * @module
 */
import { setMaxListeners } from 'node:events';

/** `options` with its `signal` replaced by one that follows it and takes any number of listeners. */
export function withFanOutSignal<T extends { signal?: AbortSignal }>(options: T | undefined): T | undefined {
  const signal = options?.signal;
  if (!(signal instanceof AbortSignal)) return options;
  const follower = typeof AbortSignal.any === 'function' ? AbortSignal.any([signal]) : following(signal);
  setMaxListeners(0, follower);
  return { ...options, signal: follower } as T;
}

/** A signal that aborts with `signal` (for Node.js 20 before 20.3, which lacks `AbortSignal.any`). */
function following(signal: AbortSignal): AbortSignal {
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller.signal;
}
