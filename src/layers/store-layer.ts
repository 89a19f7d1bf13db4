/**
 * A layer is a store wrapped around a store: same interface in and out. Layers stack in this
 * order, outermost first: capability -> counting (stats) -> signal -> retry -> timeout -> shape ->
 * the connector. So a call the store cannot make fails before it is counted, a call counts once
 * however often it is retried, has a signal of its own for all its attempts, and each attempt
 * has its own timeout.
 * @module
 */
import { Readable } from 'node:stream';
import type {
  ByteRange,
  ObjectInfo,
  StoreCallOptions,
  StoreCapabilities,
  StoreListOptions,
  StoreReadOptions,
  StoreReadResult,
  StoreWriteOptions,
  UnderStore,
} from '../store/under-store.js';

/** The store operations a layer sees. */
export type StoreOp = 'stat' | 'list' | 'read' | 'write' | 'delete' | 'copy' | 'rename';

/** What a layer knows about one call. */
export interface CallInfo {
  op: StoreOp;
  /** The call's abort signal, if any. */
  signal?: AbortSignal;
  /** False for calls that cannot be replayed (a write of a stream). */
  replayable: boolean;
}

/**
 * Forwards every call to `inner` through {@link around}; subclasses override `around` (and
 * may override single methods). Optional methods exist only when `inner` has them.
 */
export class StoreLayer implements UnderStore {
  readonly deleteMany?: (keys: string[], opts?: StoreCallOptions) => Promise<void>;
  readonly copy?: (from: string, to: string, opts?: StoreCallOptions) => Promise<ObjectInfo>;
  readonly rename?: (from: string, to: string, opts?: StoreCallOptions) => Promise<void>;
  readonly readWithInfo?: (key: string, range?: ByteRange, opts?: StoreReadOptions) => Promise<StoreReadResult>;

  constructor(readonly inner: UnderStore) {
    const store = inner;
    if (store.deleteMany) this.deleteMany = (keys, opts) => this.around({ op: 'delete', signal: opts?.signal, replayable: true }, (o) => store.deleteMany!(keys, o), opts);
    if (store.copy) this.copy = (from, to, opts) => this.around({ op: 'copy', signal: opts?.signal, replayable: true }, (o) => store.copy!(from, to, o), opts);
    if (store.readWithInfo) this.readWithInfo = (key, range, opts) => this.around({ op: 'read', signal: opts?.signal, replayable: true }, (o) => store.readWithInfo!(key, range, o), opts);
    if (store.rename) this.rename = (from, to, opts) => this.around({ op: 'rename', signal: opts?.signal, replayable: false }, (o) => store.rename!(from, to, o), opts);
  }

  get uri(): string {
    return this.inner.uri;
  }

  get capabilities(): StoreCapabilities {
    return this.inner.capabilities;
  }

  /** Runs one call; `fn` receives the options to pass on (a layer may swap the signal). */
  protected around<T, O extends StoreCallOptions>(call: CallInfo, fn: (opts: O | undefined) => Promise<T>, opts: O | undefined): Promise<T> {
    void call;
    return fn(opts);
  }

  stat(key: string, opts?: StoreCallOptions): Promise<ObjectInfo | undefined> {
    return this.around({ op: 'stat', signal: opts?.signal, replayable: true }, (o) => this.inner.stat(key, o), opts);
  }

  async *list(prefix: string, opts?: StoreListOptions): AsyncIterable<ObjectInfo> {
    // The first page is fetched under the layer (retry/timeout); the rest streams through. A
    // listing that threw is finished, so each attempt starts a new one.
    let iterator: AsyncIterator<ObjectInfo> | undefined;
    // A first page the layer gave up on (a timeout, an abort) may still be pending in a store
    // that ignores its signal: the listing is then closed once that page settles, not waited for.
    let pending: Promise<unknown> | undefined;
    try {
      const first = await this.around(
        { op: 'list', signal: opts?.signal, replayable: true },
        async (o) => {
          iterator = this.inner.list(prefix, o)[Symbol.asyncIterator]();
          pending = iterator.next();
          const page = await pending;
          pending = undefined;
          return page as IteratorResult<ObjectInfo>;
        },
        opts,
      );
      if (first.done) return;
      yield first.value;
      for (;;) {
        const next = await iterator!.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      const open = iterator;
      if (pending === undefined) await open?.return?.();
      else void pending.then(() => open?.return?.()).catch(() => undefined);
    }
  }

  read(key: string, range?: ByteRange, opts?: StoreReadOptions): Promise<Readable> {
    return this.around({ op: 'read', signal: opts?.signal, replayable: true }, (o) => this.inner.read(key, range, o), opts);
  }

  write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    return this.around({ op: 'write', signal: opts?.signal, replayable: Buffer.isBuffer(body) }, (o) => this.inner.write(key, body, o), opts);
  }

  delete(key: string, opts?: StoreCallOptions): Promise<void> {
    return this.around({ op: 'delete', signal: opts?.signal, replayable: true }, (o) => this.inner.delete(key, o), opts);
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/** Runs `done` once the body a read answered with is closed, or at once for any other answer. */
export function untilBodyClosed(result: unknown, done: () => void): void {
  const body = result instanceof Readable ? result : (result as { body?: unknown } | undefined)?.body;
  if (body instanceof Readable && !body.closed) body.once('close', done);
  else done();
}
