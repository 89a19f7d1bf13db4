/**
 * An abort signal for work that several callers share, such as one store fetch that serves
 * several readers: it aborts only once every caller holding the work has given up.
 * @module
 */
import { abortError } from '../errors.js';
import { whenAborted } from '../abort-listeners.js';

/** The callers waiting with one signal, and how to stop listening for its abort. */
interface Waiters {
  rejects: Set<(error: Error) => void>;
  /** Stops listening for the signal's abort. */
  stop: () => void;
}

/**
 * The signal of shared work (see the module comment). Each caller waits through
 * {@link SharedSignal.hold}, and stops waiting as soon as its own signal aborts; the work itself
 * is aborted when the last caller has stopped waiting. A caller without a signal holds the work
 * until it is done. One listener is added to a caller's signal however many waits it has here.
 */
export class SharedSignal {
  /** Made when the signal is first asked for: work nobody can abort needs none. */
  #controller: AbortController | undefined;
  readonly #waiting = new Map<AbortSignal, Waiters>();
  #holders = 0;
  #heldForGood = false;

  /** True once every caller let go (the work is being aborted). */
  get abandoned(): boolean {
    return this.#controller?.signal.aborted ?? false;
  }

  /** Aborts once every caller has let go. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** `work` as one caller waits for it: its outcome, or an `AbortError` as soon as `signal` aborts. */
  hold<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) {
      this.#heldForGood = true;
      return work;
    }
    if (signal.aborted) {
      this.#letGo(0);
      return Promise.reject(abortError(signal));
    }
    this.#holders++;
    return new Promise<T>((resolve, reject) => {
      const waiters = this.#waitersOf(signal);
      waiters.rejects.add(reject);
      const settled = (): void => {
        if (!waiters.rejects.delete(reject) || waiters.rejects.size > 0) return;
        waiters.stop();
        this.#waiting.delete(signal);
      };
      work.then(
        (value) => {
          settled();
          resolve(value);
        },
        (error: unknown) => {
          settled();
          reject(error);
        },
      );
    });
  }

  #waitersOf(signal: AbortSignal): Waiters {
    let waiters = this.#waiting.get(signal);
    if (waiters) return waiters;
    const rejects = new Set<(error: Error) => void>();
    const onAbort = (): void => {
      this.#waiting.delete(signal);
      const error = abortError(signal);
      for (const reject of rejects) reject(error);
      const count = rejects.size;
      rejects.clear();
      this.#letGo(count);
    };
    waiters = { rejects, stop: () => undefined };
    this.#waiting.set(signal, waiters);
    waiters.stop = whenAborted(signal, onAbort);
    return waiters;
  }

  #letGo(count: number): void {
    this.#holders -= count;
    if (this.#holders === 0 && !this.#heldForGood) this.#controller?.abort();
  }
}
