/**
 * Single-flight: concurrent callers asking for the same key share one in-flight promise.
 * @module
 */

/** Runs at most one task per key at a time; later callers of the same key get the same promise. */
export class SingleFlight<T> {
  #inflight = new Map<string, Promise<T>>();

  /** The running task of `key`, if any. */
  get(key: string): Promise<T> | undefined {
    return this.#inflight.get(key);
  }

  /** Joins the running task of `key`, or starts `task` as it. */
  run(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const promise = task().finally(() => {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return promise;
  }

  /** Registers an externally made promise as the task of `key` until it settles. */
  set(key: string, promise: Promise<T>): void {
    this.#inflight.set(key, promise);
    const clear = (): void => {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    };
    promise.then(clear, clear);
  }

  /** Number of tasks in flight. */
  get size(): number {
    return this.#inflight.size;
  }
}
