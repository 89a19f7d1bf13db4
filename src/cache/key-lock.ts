/**
 * Changes of one key, one at a time: the writes, removals and background uploads of a key run in
 * the order they asked, so the store and the caches end with the last of them (never an older
 * write that answered late, and never a check-then-write raced by another writer).
 * @module
 */
import { abortError, untilAborted } from '../errors.js';

/** How a task takes its turn (see {@link KeyLock.run}). */
export interface TurnOptions {
  /** Leaves the queue with an `AbortError` when it fires while the task waits. */
  signal?: AbortSignal;
  /** Aborted when a task that `supersedes` this one is queued behind it. */
  yielding?: AbortController;
  /** The task replaces what a yielding task would store (a write, a removal). */
  supersedes?: boolean;
}

/** Runs tasks of the same key one after another (see the module comment). */
export class KeyLock {
  /** The end of each key's queue. */
  readonly #tails = new Map<string, Promise<void>>();
  /** The task of each key that gives way to a change queued behind it (see `yielding` in {@link run}). */
  readonly #yielding = new Map<string, AbortController>();
  /** Tasks waiting per key that replace what a yielding task would store (see `supersedes`). */
  readonly #superseding = new Map<string, number>();

  /** True while a task of `key` runs or waits. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  /**
   * Runs `fn` once every task queued before it for `key` has ended. A caller whose `signal`
   * fires while it waits leaves the queue with an `AbortError` (the tasks after it still wait
   * for the ones before it). With `yielding`, the task gives way: `yielding` is aborted as soon
   * as a task that `supersedes` it is queued behind it (a background upload of a version that
   * the next change replaces anyway); it still ends before that task starts.
   */
  async run<T>(key: string, fn: () => Promise<T>, { signal, yielding, supersedes = false }: TurnOptions = {}): Promise<T> {
    const before = this.#tails.get(key);
    if (supersedes && !signal?.aborted) {
      this.#yielding.get(key)?.abort(new Error('a newer change of this file is waiting'));
      this.#superseding.set(key, (this.#superseding.get(key) ?? 0) + 1);
    }
    let waiting = supersedes && !signal?.aborted;
    const started = (): void => {
      if (!waiting) return;
      waiting = false;
      const left = this.#superseding.get(key)! - 1;
      if (left > 0) this.#superseding.set(key, left);
      else this.#superseding.delete(key);
    };
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = before ? before.then(() => done) : done;
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    try {
      try {
        if (before) await untilAborted(before, signal);
        else if (signal?.aborted) throw abortError(signal);
      } finally {
        started();
      }
      if (yielding) {
        if ((this.#superseding.get(key) ?? 0) > 0) yielding.abort(new Error('a newer change of this file is waiting'));
        this.#yielding.set(key, yielding);
      }
      return await fn();
    } finally {
      if (yielding && this.#yielding.get(key) === yielding) this.#yielding.delete(key);
      release();
    }
  }
}
