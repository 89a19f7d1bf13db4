/**
 * Listening for a caller's abort without leaving anything on its signal. A service often hands
 * one long-lived signal (its shutdown signal) to every call: each call listening on it on its
 * own would trip Node's `MaxListenersExceededWarning` as soon as eleven calls run at once, and
 * `AbortSignal.any` on Node.js 20 keeps a record of every signal made from it for as long as it
 * lives. Here a signal gets one listener however many calls wait on it, and a call's handler is
 * removed as soon as the call ends.
 * @module
 */

/** For each signal, what to run when it aborts, and the one listener on it that runs them. */
const handlersOf = new WeakMap<AbortSignal, { handlers: Set<() => void>; listener: () => void }>();

/**
 * Runs `handler` once when `signal` aborts (at once when it has aborted already). The returned
 * function stops that; the last handler of a signal to stop removes its one listener.
 */
export function whenAborted(signal: AbortSignal, handler: () => void): () => void {
  if (signal.aborted) {
    handler();
    return () => undefined;
  }
  let entry = handlersOf.get(signal);
  if (!entry) {
    const handlers = new Set<() => void>();
    const listener = (): void => {
      handlersOf.delete(signal);
      for (const run of handlers) run();
      handlers.clear();
    };
    entry = { handlers, listener };
    handlersOf.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { handlers, listener } = entry;
  // A handler added twice still runs (and is stopped) on its own.
  const own = (): void => handler();
  handlers.add(own);
  return () => {
    if (!handlers.delete(own) || handlers.size > 0) return;
    signal.removeEventListener('abort', listener);
    if (handlersOf.get(signal)?.handlers === handlers) handlersOf.delete(signal);
  };
}

/** A signal that follows others for as long as the work it is given to runs. */
export interface LinkedSignal {
  /** Aborts, with the same reason, when the first of the signals it follows aborts. */
  readonly signal: AbortSignal;
  /** Stops following them (call it once the work is done; idempotent). */
  dispose(): void;
}

/**
 * A signal that aborts when any of `signals` does (`undefined` ones are skipped), like
 * `AbortSignal.any`, but that leaves nothing on them once {@link LinkedSignal.dispose} is called.
 */
export function linkSignals(signals: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const stops: (() => void)[] = [];
  const dispose = (): void => {
    for (const stop of stops.splice(0)) stop();
  };
  for (const source of signals) {
    if (!source) continue;
    stops.push(
      whenAborted(source, () => {
        controller.abort(source.reason);
        dispose();
      }),
    );
    if (controller.signal.aborted) break;
  }
  return { signal: controller.signal, dispose };
}
