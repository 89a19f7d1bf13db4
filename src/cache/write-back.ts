/**
 * The write-back uploader: moves `ASYNC_THROUGH` writes (and `MUST_CACHE` ones on `persist`)
 * from the durable journal in the disk cache to their stores, retrying with backoff while a
 * store is down. Resumes after a crash: pending writes of a store are picked up as soon as a
 * mount of it exists.
 * @module
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Mount } from '../mount/mount-table.js';
import type { ObjectInfo } from '../store/under-store.js';
import type { PendingWrite, WriteJournal } from './disk-tier-types.js';
import { backoffDelay, type RetryPolicy } from '../layers/retry-layer.js';
import { abortError, isAbortError, StrataError, isTemporary, throwIfAborted, toStrataError } from '../errors.js';
import type { KeyLock } from './key-lock.js';
import { READ_WHOLE_BYTES, readPending, streamPending } from './pending-index.js';
import { keepWhileFits } from '../io/body.js';
import { KeepBudget } from '../io/keep-budget.js';
import { objectId } from './page-id.js';
import { settlesWithin } from '../deadline.js';
import { whenAborted } from '../abort-listeners.js';
import { isKeyAtOrBelow, joinPath } from '../path.js';

/** How long `close()` waits for the uploads it starts before it gives up those still on their way. */
const DRAIN_WAIT_MS = 10_000;

/**
 * How long {@link WriteBack.stop} waits for the upload attempts it aborted to end, so that they
 * do not meet a closed journal (one whose store call ignores the abort is left behind).
 */
const STOP_WAIT_MS = 2_000;
/** How many uploads {@link WriteBack.uploadedAs} remembers (the oldest are forgotten first). */
const UPLOADED_AS_KEPT = 4096;

/** The uploader (see the module comment). */
export class WriteBack {
  readonly #uploads = new Map<string, Promise<void>>();
  #stopped = false;
  /** Set by {@link drain}: uploads give up after a bounded number of attempts. */
  #draining = false;
  /** Aborts the uploads on their way when the file system closes. */
  readonly #cancel = new AbortController();
  /** Per store: aborts its uploads on their way when it is unmounted and they do not end in time. */
  readonly #cancelOfStore = new Map<string, AbortController>();
  /** Stores being unmounted: their uploads give up after a bounded number of attempts. */
  readonly #leaving = new Set<string>();
  /** Pending writes whose upload failed for good: warned of once. */
  readonly #givenUpIds = new Set<string>();
  /** The upload attempts on their way (background and `persist`): {@link stop} waits for them. */
  readonly #attempts = new Set<Promise<unknown>>();
  /** The stored object each recent pending write became, by pending write id (see {@link uploadedAs}). */
  readonly #uploadedAs = new Map<string, ObjectInfo>();

  constructor(
    private readonly journal: WriteJournal,
    private readonly retry: RetryPolicy,
    private readonly mountOf: (cacheId: string) => Mount | undefined,
    /** Called once a write is in the store, with its data when it was kept (see `keepBudget`). */
    private readonly onUploaded: (mount: Mount, key: string, info: ObjectInfo, data: Buffer | undefined) => Promise<void>,
    /** Orders each attempt with the other changes of its key (writes and removals through the facade). */
    private readonly locks: KeyLock,
    /** The bytes a streamed upload may keep for `onUploaded`, shared with the other writes on their way: data that does not fit is not kept. */
    private readonly keepBudget = new KeepBudget(0),
  ) {}

  /**
   * The object the pending write `id` became in its store, when this process uploaded it
   * (recent uploads only): a reader that opened the pending version (a handle) reads on there.
   */
  uploadedAs(id: string): ObjectInfo | undefined {
    return this.#uploadedAs.get(id);
  }

  /** Starts uploading a pending write in the background (once). */
  schedule(pending: PendingWrite): Promise<void> {
    const running = this.#uploads.get(pending.id);
    if (running) return running;
    const upload = this.#upload(pending).finally(() => this.#uploads.delete(pending.id));
    this.#uploads.set(pending.id, upload);
    upload.catch(() => undefined);
    return upload;
  }

  /** Schedules every `ASYNC_THROUGH` write whose store is mounted (after a mount, or a restart). */
  resume(): void {
    for (const pending of this.journal.list()) {
      if (pending.mode === 'ASYNC_THROUGH' && this.mountOf(pending.cacheId)) void this.schedule(pending);
    }
  }

  /**
   * Uploads now, and waits for, the pending writes at or below `key` of one store (`MUST_CACHE`
   * too when `all`). Each gets the retry policy's attempts (one when the store refuses it for
   * good, e.g. `EACCES`); then the call fails with the store's error, and the write stays
   * pending in the journal. One that another process is uploading is waited for until that
   * upload has ended (then it is in the store, or this call uploads it), or until `signal` aborts
   * (which aborts its upload on its way too: the write stays pending).
   * The journal itself is read: a write another process made a moment ago is not missed.
   */
  async persistKey(cacheId: string, key: string, all = false, signal?: AbortSignal): Promise<void> {
    const selected = this.journal.list(cacheId, true).filter((p) => isKeyAtOrBelow(p.key, key) && (all || p.mode === 'ASYNC_THROUGH'));
    const outcomes = await Promise.allSettled(selected.map((p) => this.#persist(p, signal)));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * One upload of a pending write, now; its store's retry layer retries what it can. It waits
   * while another process uploads it, or an older write of the file (that one lands first).
   */
  async #persist(pending: PendingWrite, signal?: AbortSignal): Promise<void> {
    const mount = this.mountOf(pending.cacheId);
    if (!mount) throw new StrataError('EROFS', 'the store is mounted read-only');
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      // An abort of `signal` aborts the upload on its way too (the write stays pending).
      const stop = new AbortController();
      const stopFollowing = signal ? whenAborted(signal, () => stop.abort(signal.reason)) : undefined;
      let outcome: true | { error: unknown };
      try {
        outcome = await this.locks.run(objectId(pending.cacheId, pending.key), () => this.#tracked(this.#attempt(mount, pending, stop, true)), { signal });
      } finally {
        stopFollowing?.();
      }
      if (outcome === true) return;
      throwIfAborted(signal);
      if (!isWaiting(outcome.error) || this.#stopped) throw toStrataError(outcome.error);
      await sleep(backoffDelay(this.retry, Math.min(attempt, 10)), undefined, { signal });
    }
  }

  /**
   * Before a change of a file made in the store itself (a write through it, a removal): claims
   * all its pending writes, waiting while another process uploads one of them, so that no upload
   * of an older version lands after the change (newer pending writes of the file wait for these
   * claims). Resolves with their ids: the change drops them once made, or gives them back
   * ({@link releaseAll}) when it failed. With `below`, the pending writes of the files below
   * `key` (a directory) too.
   */
  async holdUploads(cacheId: string, key: string, signal?: AbortSignal, below = false): Promise<string[]> {
    for (let attempt = 1; ; attempt++) {
      const held = this.journal.claimKey(cacheId, key, below);
      if (held !== undefined) return held;
      throwIfAborted(signal);
      await sleep(backoffDelay(this.retry, Math.min(attempt, 10)), undefined, { signal });
    }
  }

  /** Gives back the claims {@link holdUploads} took, for a change that failed. */
  releaseAll(ids: readonly string[]): void {
    for (const id of ids) this.journal.release(id);
  }

  /** Waits until no `ASYNC_THROUGH` write of a mounted store is pending. */
  async flush(): Promise<void> {
    for (;;) {
      const pending = this.journal.list().filter((p) => p.mode === 'ASYNC_THROUGH' && this.mountOf(p.cacheId));
      if (pending.length === 0 || this.#stopped) return;
      await Promise.all(pending.map((p) => this.schedule(p)));
      // Entries claimed by another process: give it time to finish.
      if (this.journal.list().some((p) => pending.some((q) => q.id === p.id))) await sleep(50);
    }
  }

  /**
   * At close (or at the unmount of the store `cacheId`): uploads what is pending, each write
   * getting at most the retry policy's attempts from now on, and waits at most `waitMs`. A write
   * whose store keeps failing stays in the journal, and the next uploader of its store on the
   * disk cache dir uploads it: neither waits for a store that is down.
   */
  async drain(cacheId?: string, waitMs = DRAIN_WAIT_MS): Promise<void> {
    if (cacheId === undefined) this.#draining = true;
    else this.#leaving.add(cacheId);
    try {
      if (this.#cancel.signal.aborted) return; // gave up already: what is left stays pending
      const pending = this.journal.list(cacheId).filter((p) => p.mode === 'ASYNC_THROUGH' && this.mountOf(p.cacheId));
      const done = await settlesWithin(Promise.allSettled(pending.map((p) => this.schedule(p))), waitMs);
      // An upload stalled with its store (no `timeout` set) does not hold close() or unmount() up: it is given up.
      if (done) return;
      if (cacheId === undefined) this.#cancel.abort(new Error('the file system closed'));
      else this.#cancelOf(cacheId).abort(new Error('the store was unmounted'));
    } finally {
      if (cacheId !== undefined) {
        this.#leaving.delete(cacheId);
        this.#cancelOfStore.delete(cacheId);
      }
    }
  }

  #cancelOf(cacheId: string): AbortController {
    let cancel = this.#cancelOfStore.get(cacheId);
    if (!cancel) this.#cancelOfStore.set(cacheId, (cancel = new AbortController()));
    return cancel;
  }

  /**
   * Stops retrying (at close): the upload attempts on their way are aborted, and it resolves once
   * they have ended (at most {@link STOP_WAIT_MS}), before the journal is closed. What they did
   * not finish stays pending for the next uploader on the disk cache dir.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel.abort(new Error('the file system closed'));
    await settlesWithin(Promise.allSettled([...this.#attempts]), STOP_WAIT_MS);
  }

  /** Keeps `attempt` in {@link #attempts} while it is on its way. */
  #tracked<T>(attempt: Promise<T>): Promise<T> {
    this.#attempts.add(attempt);
    void attempt.finally(() => this.#attempts.delete(attempt)).catch(() => undefined);
    return attempt;
  }

  async #upload(pending: PendingWrite): Promise<void> {
    let drainAttempts = 0;
    for (let attempt = 1; !this.#stopped; attempt++) {
      const mount = this.mountOf(pending.cacheId);
      if (!mount) return;
      // Each attempt runs between the other changes of the key, never beside one (the backoff does not hold it up).
      // An attempt gives way to a change of the file queued behind it: that change replaces this version anyway.
      const yielding = new AbortController();
      const uploaded = await this.locks.run(objectId(pending.cacheId, pending.key), () => this.#tracked(this.#attempt(mount, pending, yielding)), { yielding });
      if (uploaded === true) return;
      if (this.#stopped) return; // given up at close: it stays pending for the next uploader, no warning
      if (!isAbortError(uploaded.error) && !isTemporary(toStrataError(uploaded.error))) throw this.#givenUp(mount, pending, uploaded.error);
      if ((this.#draining || this.#leaving.has(pending.cacheId)) && ++drainAttempts >= this.retry.attempts) return; // left for the next uploader on the dir
      await sleep(backoffDelay({ ...this.retry, maxDelay: Math.max(this.retry.maxDelay, 5000) }, Math.min(attempt, 10)));
    }
  }

  /**
   * A write the store refuses for good (e.g. `EACCES`), or whose data is damaged: retrying will
   * not help, so its background upload ends here, with one warning per write. It stays pending: `persist`
   * tries it again, and `flush` fails with the error.
   */
  #givenUp(mount: Mount, pending: PendingWrite, error: unknown): Error {
    const path = joinPath(mount.path, pending.key);
    const failure = toStrataError(error, { op: 'upload', path, mount: mount.path }); // flush names the file it could not upload
    if (this.#givenUpIds.has(pending.id)) return failure;
    this.#givenUpIds.add(pending.id);
    process.emitWarning(`stratafs: the upload of ${path} failed (${failure.message}); it stays in the disk cache until persist() succeeds`, { code: 'STRATAFS_UPLOAD' });
    return failure;
  }

  /**
   * One upload attempt: `true` when done (or nothing is left to do), else the error it failed with. A write that is no
   * longer the newest pending write of its key is dropped, not uploaded: the newer one holds
   * what the file is now, and an older upload landing after it would bring back old data.
   * With `waitHeld` (a persist), a write another process is uploading is waited for too.
   */
  async #attempt(mount: Mount, pending: PendingWrite, stop = new AbortController(), waitHeld = false): Promise<true | { error: unknown }> {
    const claim = this.journal.claim(pending.id);
    // Another process uploads an older write of the file: this one goes once that one has landed.
    if (claim === 'waiting') return { error: new StrataError('EBUSY', 'another process is uploading an older write of the file', { op: 'upload', temporary: true }) };
    if (claim === 'held' && waitHeld) return { error: new StrataError('EBUSY', 'another process is uploading the write of the file', { op: 'upload', temporary: true }) };
    if (claim === 'superseded') await this.journal.complete(pending.id);
    // Superseded, done elsewhere, discarded by a write or removal through the store, or uploaded by another process.
    if (claim !== 'claimed') return true;
    // Renamed meanwhile (a MUST_CACHE write moves with its file): it is its new name's to upload, never under the old one.
    const current = this.journal.list(undefined, true).find((p) => p.id === pending.id);
    if (current?.key !== pending.key || current.cacheId !== pending.cacheId) {
      this.journal.release(pending.id);
      return true;
    }
    // Given up at close, or when it gives way: the store write is aborted (the claim is
    // released; the write stays pending).
    // (Handlers rather than `AbortSignal.any`: the cancel signals live as long as the file system,
    // and on Node.js 20 they would keep a record of each attempt's signal.)
    let data: Buffer | Readable | undefined;
    let kept: ReturnType<typeof keepWhileFits> | undefined;
    const stopOn = [this.#cancel.signal, this.#cancelOf(pending.cacheId).signal].map((cancel) => whenAborted(cancel, () => stop.abort(cancel.reason)));
    // An upload longer than the lease keeps its claim: another process must not take it over (and upload a newer write meanwhile).
    const stopHolding = this.journal.holdClaim(pending.id);
    try {
      // Small data is read whole (a store write of a Buffer can be retried in place); larger data is streamed, checked on the way.
      const whole = pending.size <= READ_WHOLE_BYTES;
      data = whole ? await readPending(this.journal, pending.id, 0, pending.size) : await streamPending(this.journal, pending.id);
      if (data === undefined) return true; // done elsewhere meanwhile
      if (stop.signal.aborted) throw abortError(stop.signal); // no store write is started for a version given up
      // Its bytes are kept for the memory tier while they fit, as they were when it was written.
      kept = Buffer.isBuffer(data) ? undefined : keepWhileFits(data, this.keepBudget);
      // The turn is held until the store write has settled: one that goes on after the abort must not land after the next change.
      const info = await mount.store.write(pending.key, kept ? kept.stream : data, { size: pending.size, signal: stop.signal });
      this.#uploadedAs.set(pending.id, info);
      if (this.#uploadedAs.size > UPLOADED_AS_KEPT) this.#uploadedAs.delete(this.#uploadedAs.keys().next().value!);
      // Older writes of the key still waiting for a retry are superseded by what the store now
      // holds (the journal lists oldest first; a newer one staged meanwhile stays). They go
      // first: until this one goes too, it is the newest pending write a stat or read finds.
      const all = this.journal.list(pending.cacheId);
      const older = all.slice(0, Math.max(0, all.findIndex((p) => p.id === pending.id))).filter((p) => p.key === pending.key);
      for (const p of [...older, pending]) await this.journal.complete(p.id);
      await this.onUploaded(mount, pending.key, info, kept ? kept.bytes(info.size) : (data as Buffer));
      return true;
    } catch (error) {
      this.journal.release(pending.id);
      return { error };
    } finally {
      kept?.release();
      stopHolding();
      for (const stopListening of stopOn) stopListening();
      if (data !== undefined && !Buffer.isBuffer(data)) data.destroy(); // a stream the store did not read to its end closes its file
    }
  }
}

/** True for the error of an attempt that waits for another process's upload of an older write of its file. */
function isWaiting(error: unknown): boolean {
  return error instanceof StrataError && error.code === 'EBUSY' && error.op === 'upload';
}
