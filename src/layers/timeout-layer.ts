/**
 * Fails a store request that takes longer than `timeout` ms with a temporary `ETIMEDOUT`, and
 * aborts it underneath (the connector gets an aborted signal). The caller's own signal still
 * aborts the call as an abort, not a timeout.
 *
 * A write of a stream is timed by its progress, not as a whole: its clock stops while the store
 * waits for the caller's next bytes (a slow producer, a write stream kept open) and starts again
 * from zero each time the store takes bytes, so it fails only when the store holds the upload up
 * for `timeout` ms (a part or the final commit that does not come back), however large the body.
 *
 * The connector's signal follows the caller's while the request runs (and, for a read, until
 * its body is closed; for a listing, until the listing ends), and no longer: nothing of the
 * request stays on a long-lived caller signal (a listing runs with a signal of its own, given by
 * the signal layer, which always stands above this one).
 * @module
 */
import { Readable } from 'node:stream';
import { StrataError } from '../errors.js';
import { linkSignals } from '../abort-listeners.js';
import type { ObjectInfo, StoreCallOptions, StoreWriteOptions, UnderStore } from '../store/under-store.js';
import { StoreLayer, untilBodyClosed, type CallInfo } from './store-layer.js';

/** The clock of one call: stopped while the store waits for the caller, restarted by each step forward. */
interface CallClock {
  /** Stops the clock (the store waits for the caller). */
  stop(): void;
  /** Starts the clock again from zero (the store made progress). */
  restart(): void;
}

/** The timeout layer (see the module comment). */
export class TimeoutLayer extends StoreLayer {
  constructor(
    inner: UnderStore,
    private readonly timeout: number,
  ) {
    super(inner);
  }

  protected override around<T, O extends StoreCallOptions>(call: CallInfo, fn: (opts: O | undefined) => Promise<T>, opts: O | undefined): Promise<T> {
    return this.#timed(call, (o) => fn(o), opts);
  }

  override write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    if (Buffer.isBuffer(body)) return super.write(key, body, opts);
    return this.#timed({ op: 'write', signal: opts?.signal, replayable: false }, (o, clock) => this.inner.write(key, clockedBody(body, clock), o), opts);
  }

  async #timed<T, O extends StoreCallOptions>(call: CallInfo, fn: (opts: O | undefined, clock: CallClock) => Promise<T>, opts: O | undefined): Promise<T> {
    const timer = new AbortController();
    const linked = linkSignals([call.signal, timer.signal]);
    let handle: NodeJS.Timeout | undefined;
    let fail: (error: StrataError) => void = () => undefined;
    const expired = new Promise<never>((_, reject) => (fail = reject));
    const expire = (): void => {
      // The store request is named in the detail; `op` is left to the facade, which names the
      // caller's operation (`write`, `readdir`), as it does for every other store failure.
      const error = new StrataError('ETIMEDOUT', call.op === 'write' && !call.replayable ? `store write request made no progress for ${this.timeout} ms` : `store ${call.op} request took longer than ${this.timeout} ms`, { temporary: true });
      timer.abort(error);
      fail(error);
    };
    const clock: CallClock = {
      stop: () => {
        clearTimeout(handle);
        handle = undefined; // a cleared timer does not come back with refresh()
      },
      restart: () => {
        if (timer.signal.aborted) return;
        if (handle) handle.refresh();
        else handle = setTimeout(expire, this.timeout);
      },
    };
    clock.restart();
    let result: T;
    try {
      result = await Promise.race([fn({ ...(opts ?? {}), signal: linked.signal } as O, clock), expired]);
    } catch (error) {
      linked.dispose();
      throw error;
    } finally {
      clearTimeout(handle);
      clock.restart = () => undefined;
    }
    // A listing's signal is the listing's own, given by the signal layer above, and goes with it.
    if (call.op !== 'list') untilBodyClosed(result, linked.dispose);
    return result;
  }
}

/**
 * `source` as the store reads it, driving `clock`: stopped while the store waits for `source`'s
 * next chunk, restarted once it came (or the body ended). Destroying it destroys `source`.
 */
function clockedBody(source: Readable, clock: CallClock): Readable {
  const chunks = source[Symbol.asyncIterator]();
  return new Readable({
    read() {
      clock.stop();
      chunks.next().then(
        (next) => {
          clock.restart();
          this.push(next.done ? null : next.value);
        },
        (error: unknown) => this.destroy(error as Error),
      );
    },
    destroy(error, callback) {
      chunks.return?.().then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
}
