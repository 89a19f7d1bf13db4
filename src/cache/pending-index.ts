/**
 * An in-process mirror of the write-back journal's records, so that `stat`/`readdir` can check
 * for pending writes without an index query. A change made through it is applied to the mirror
 * as it succeeds, so a burst of writes does not re-read the whole journal after each one; the
 * journal is read again when a change through it failed, when its change mark (see
 * `WriteJournal.changeMark`) tells of a change made elsewhere by the time a change through it
 * ends, and — for changes made by another process on the same cache dir — at most `refreshMs`
 * after one (at once for a `list` asked for `fresh`).
 * @module
 */
import type { Readable } from 'node:stream';
import type { ClaimOutcome, PendingWrite, WriteJournal } from './disk-tier-types.js';
import { PendingMirror } from './pending-mirror.js';

/** The journal with cached look-ups (see the module comment). */
export class PendingIndex implements WriteJournal {
  #mirror = new PendingMirror();
  /** When the journal was last read or its change mark last checked. */
  #checkedAt = -Infinity;
  /** False until the journal is read again (a change through this index failed, or was made elsewhere meanwhile). */
  #current = false;
  /** The journal's change mark when the mirror was last known to match it. */
  #mark: number | undefined;
  /** Ids completed or discarded through this index since the last reload. */
  readonly #ownChanges = new Set<string>();

  constructor(
    private readonly journal: WriteJournal,
    private readonly refreshMs = 1000,
    /** Told of each pending write that a reload finds gone, completed or discarded by another process. */
    private readonly onGoneElsewhere: (pending: PendingWrite) => void = () => undefined,
  ) {}

  #fresh(force = false): void {
    const now = performance.now();
    if (this.#current && !force && now - this.#checkedAt < this.refreshMs) return;
    this.#checkedAt = now;
    if (this.#current && this.#mark !== undefined && this.journal.changeMark?.() === this.#mark) return;
    const before = this.#mirror;
    this.#mirror = new PendingMirror(this.journal.list());
    this.#mark = this.journal.changeMark?.();
    this.#current = true;
    // Gone (uploaded, discarded), or moved to another name, by another process.
    const gone = (p: PendingWrite): boolean => this.#mirror.get(p.id)?.key !== p.key || this.#mirror.get(p.id)?.cacheId !== p.cacheId;
    for (const p of before.all()) if (gone(p) && !this.#ownChanges.has(p.id)) this.onGoneElsewhere(p);
    this.#ownChanges.clear();
  }

  /**
   * After a change through this index: `apply` brings the mirror up to date with it when the
   * mirror was current and nothing else changed the journal meanwhile; else it is read again.
   */
  #changed(apply?: () => void): boolean {
    if (apply && this.#current && this.#mark !== undefined && this.journal.changeMark?.() === this.#mark) {
      apply();
      return true;
    }
    this.#current = false;
    return false;
  }

  async stage(cacheId: string, key: string, data: Buffer | AsyncIterable<Uint8Array>, mode: PendingWrite['mode'], signal?: AbortSignal): Promise<PendingWrite> {
    let staged: PendingWrite;
    try {
      staged = await this.journal.stage(cacheId, key, data, mode, signal);
    } catch (error) {
      this.#changed();
      throw error;
    }
    this.#changed(() => this.#mirror.add(staged));
    return staged;
  }

  find(cacheId: string, key: string): PendingWrite | undefined {
    this.#fresh();
    return this.#mirror.newest(cacheId, key);
  }

  list(cacheId?: string, fresh = false): PendingWrite[] {
    this.#fresh(fresh);
    const all = this.#mirror.all();
    return cacheId === undefined ? [...all] : all.filter((p) => p.cacheId === cacheId);
  }

  async read(id: string, offset: number, length: number): Promise<Buffer> {
    try {
      return await this.journal.read(id, offset, length);
    } catch (error) {
      this.#changed(); // uploaded or discarded, maybe by another process: look again
      throw error;
    }
  }

  async readStream(id: string): Promise<Readable> {
    try {
      return await this.journal.readStream(id);
    } catch (error) {
      this.#changed(); // uploaded or discarded, maybe by another process: look again
      throw error;
    }
  }

  claim(id: string): ClaimOutcome {
    return this.journal.claim(id);
  }

  claimKey(cacheId: string, key: string, below?: boolean): string[] | undefined {
    return this.journal.claimKey(cacheId, key, below);
  }

  holdClaim(id: string): () => void {
    return this.journal.holdClaim(id);
  }

  release(id: string): void {
    this.journal.release(id);
  }

  async complete(id: string): Promise<void> {
    await this.#changing([id], () => this.journal.complete(id), () => this.#mirror.remove(id));
  }

  async move(id: string, cacheId: string, key: string): Promise<PendingWrite> {
    // The write itself, and the others of its old and new names that it drops, change here.
    const from = this.#mirror.get(id);
    const dropped = [...(from ? this.#mirror.ofKey(from.cacheId, from.key) : []), ...this.#mirror.ofKey(cacheId, key)];
    let moved!: PendingWrite;
    await this.#changing(
      [id, ...dropped.map((p) => p.id)],
      async () => void (moved = await this.journal.move(id, cacheId, key)),
      () => {
        for (const p of dropped) this.#mirror.remove(p.id);
        this.#mirror.add(moved);
        // A write of those names that came meanwhile is not guessed at: the journal is read again.
        const left = [...(from ? this.#mirror.ofKey(from.cacheId, from.key) : []), ...this.#mirror.ofKey(cacheId, key)];
        if (left.some((p) => p.id !== id)) this.#current = false;
      },
    );
    return moved;
  }

  async discard(cacheId: string, key: string): Promise<void> {
    if (!this.find(cacheId, key)) return;
    const changes = this.#mirror.ofKey(cacheId, key).map((p) => p.id);
    await this.#changing(changes, () => this.journal.discard(cacheId, key), () => this.#mirror.removeKey(cacheId, key));
  }

  /**
   * Runs `change` of the journal, which changes the writes `ids`: a reload meanwhile does not
   * take them for changes made elsewhere. Once it succeeded, `apply` brings the mirror up to date.
   */
  async #changing(ids: string[], change: () => Promise<void>, apply: () => void): Promise<void> {
    for (const id of ids) this.#ownChanges.add(id);
    try {
      await change();
    } catch (error) {
      this.#changed();
      throw error;
    }
    // Once applied, a later change of these writes is one made elsewhere (a reload clears them too).
    if (this.#changed(apply)) for (const id of ids) this.#ownChanges.delete(id);
  }
}

/**
 * Pending writes up to this size are read whole where all of their data is needed (an upload, a
 * move); larger ones are streamed from the disk, so their size never has to fit in memory.
 */
export const READ_WHOLE_BYTES = 16 * 1024 * 1024;

/** `length` bytes at `offset` of a pending write's data; `undefined` once it is no longer pending (uploaded, replaced). Damage is `EIO`. */
export async function readPending(journal: WriteJournal, id: string, offset: number, length: number): Promise<Buffer | undefined> {
  try {
    return await journal.read(id, offset, length);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A pending write's whole data as a checked stream (see `WriteJournal.readStream`); `undefined` once it is no longer pending. */
export async function streamPending(journal: WriteJournal, id: string): Promise<Readable | undefined> {
  try {
    return await journal.readStream(id);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}
