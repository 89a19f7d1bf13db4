/**
 * Changes of one key, one at a time: the writes, removals and background uploads of a key run in
 * the order they asked, so the store and the caches end with the last of them (never an older
 * write that answered late, and never a check-then-write raced by another writer).
 * @module
 */
import { abortError } from '../errors.js';

/** Runs tasks of the same key one after another (see the module comment). */
export class KeyLock {
  /** The end of each key's queue. */
  readonly #tails = new Map<string, Promise<void>>();

  /**
   * Runs `fn` once every task queued before it for `key` has ended. A caller whose `signal`
   * fires while it waits leaves the queue with an `AbortError` (the tasks after it still wait
   * for the ones before it).
   */
  async run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const before = this.#tails.get(key);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = before ? before.then(() => done) : done;
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    try {
      if (before) await waitFor(before, signal);
      else if (signal?.aborted) throw abortError(signal);
      return await fn();
    } finally {
      release();
    }
  }

}

/** Waits for `promise`, or rejects with an `AbortError` as soon as `signal` fires. */
function waitFor(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
