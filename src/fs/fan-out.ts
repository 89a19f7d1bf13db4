/**
 * Calls that run many store calls at once under one caller's signal (copy -r, load -r, rm -r,
 * moves) hand them a signal of their own that follows the caller's: it takes any number of
 * listeners, so no `MaxListenersExceededWarning` is printed, the caller's signal gets one
 * listener, and nothing of the call is left on it once the call has ended (as `AbortSignal.any`
 * on Node.js 20 leaves a record of each signal made from a long-lived one).
 * @module
 */
import { setMaxListeners } from 'node:events';
import { linkSignals } from '../abort-listeners.js';

/** Runs `run` with `options` whose `signal` is replaced by one that follows it and takes any number of listeners, for as long as `run` runs. */
export async function withFanOutSignal<T extends { signal?: AbortSignal }, R>(options: T | undefined, run: (options: T | undefined) => Promise<R>): Promise<R> {
  const signal = options?.signal;
  if (!(signal instanceof AbortSignal)) return run(options);
  const follower = linkSignals([signal]);
  setMaxListeners(0, follower.signal);
  try {
    return await run({ ...options, signal: follower.signal } as T);
  } finally {
    follower.dispose();
  }
}
