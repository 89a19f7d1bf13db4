/**
 * An abort signal for work that several callers share, such as one store fetch that serves
 * several readers: it aborts only once every caller holding the work has given up.
 * @module
 */
import { abortError } from '../errors.js';

/**
 * The signal of shared work (see the module comment). Each caller waits through
 * {@link SharedSignal.hold}, and stops waiting as soon as its own signal aborts; the work itself
 * is aborted when the last caller has stopped waiting. A caller without a signal holds the work
 * until it is done.
 */
export class SharedSignal {
  readonly #controller = new AbortController();
  #holders = 0;
  #heldForGood = false;

  /** Aborts once every caller has let go. */
  get signal(): AbortSignal {
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
      const onAbort = (): void => {
        this.#letGo(1);
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  #letGo(count: number): void {
    this.#holders -= count;
    if (this.#holders === 0 && !this.#heldForGood) this.#controller.abort();
  }
}
