/**
 * Letting the event loop turn between calls served from memory. A call the cache answers (a
 * `readFile`, `stat` or stream page of cached data) completes with promise callbacks alone, so a
 * loop of them (`while (!done) await fs.readFile(p)`, a hash of a cached file) would hold the
 * event loop for as long as it runs: no timer, I/O callback or other request would run meanwhile.
 * An `fs` call takes a turn of the event loop each time; these take one every few milliseconds.
 * @module
 */

/** How long calls may complete back to back without the event loop turning. */
const MAX_HOLD_MS = 10;

/** Resolves on the event loop's next turn (after its timers and I/O); `undefined` once it has turned. */
let nextTurn: Promise<void> | undefined;
/** When {@link nextTurn} was asked for. */
let askedAt = 0;

/**
 * `undefined` while the event loop turns as usual (nothing to wait for); once calls have run back
 * to back for {@link MAX_HOLD_MS} without it turning, a promise that resolves on its next turn.
 * Call it once per call made (`const turn = eventLoopTurn(); if (turn) await turn;`).
 */
export function eventLoopTurn(): Promise<void> | undefined {
  if (!nextTurn) {
    askedAt = performance.now();
    nextTurn = new Promise((resolve) =>
      setImmediate(() => {
        nextTurn = undefined;
        resolve();
      }),
    );
    return undefined;
  }
  return performance.now() - askedAt >= MAX_HOLD_MS ? nextTurn : undefined;
}
