/**
 * Single-flight: concurrent callers asking for the same key share one in-flight promise.
 * @module
 */
import { SharedSignal } from './shared-signal.js';

/** One task in flight, with the signal its callers share when it has one. */
interface Flight<T> {
  promise: Promise<T>;
  shared?: SharedSignal;
}

/** Runs at most one task per key at a time; later callers of the same key get the same promise. */
export class SingleFlight<T> {
  #inflight = new Map<string, Flight<T>>();

  /** The running task of `key`, if any. */
  get(key: string): Promise<T> | undefined {
    return this.#inflight.get(key)?.promise;
  }

  /**
   * The running task of `key`, if any, for a caller that gives up when `signal` aborts: a task
   * registered with a {@link SharedSignal} is aborted only once every caller has given up.
   */
  join(key: string, signal: AbortSignal | undefined): Promise<T> | undefined {
    const flight = this.#inflight.get(key);
    if (!flight || flight.shared?.abandoned) return undefined; // given up by all its callers: start afresh
    return flight.shared ? flight.shared.hold(flight.promise, signal) : flight.promise;
  }

  /** Joins the running task of `key`, or starts `task` as it. */
  run(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(key);
    if (running) return running.promise;
    const promise = task().finally(() => {
      if (this.#inflight.get(key)?.promise === promise) this.#inflight.delete(key);
    });
    this.#inflight.set(key, { promise });
    return promise;
  }

  /**
   * Joins the running task of `key` for a caller that gives up when `signal` aborts, or starts
   * `task` as it: the task gets a signal (when the caller has one) that aborts only once every
   * caller sharing it has given up.
   */
  share(key: string, signal: AbortSignal | undefined, task: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    const running = this.join(key, signal);
    if (running) return running;
    const joint = new SharedSignal();
    const promise = task(signal ? joint.signal : undefined);
    this.set(key, promise, joint);
    return joint.hold(promise, signal);
  }

  /** Registers an externally made promise as the task of `key` until it settles (`shared`: the signal its callers share). */
  set(key: string, promise: Promise<T>, shared?: SharedSignal): void {
    this.#inflight.set(key, { promise, shared });
    const clear = (): void => {
      if (this.#inflight.get(key)?.promise === promise) this.#inflight.delete(key);
    };
    promise.then(clear, clear);
  }

  /** Lets go of the tasks whose key starts with `prefix`: they run on for their callers, and later callers start afresh. */
  forgetPrefix(prefix: string): void {
    for (const key of this.#inflight.keys()) if (key.startsWith(prefix)) this.#inflight.delete(key);
  }

  /** Number of tasks in flight. */
  get size(): number {
    return this.#inflight.size;
  }
}
