/**
 * An in-process mirror of the write-back journal's records, so that `stat`/`readdir` can check
 * for pending writes without an index query. It reloads after every change made through it and
 * at most `refreshMs` after a change made by another process on the same cache dir (at once for
 * a `list` asked for `fresh`).
 * @module
 */
import type { Readable } from 'node:stream';
import type { ClaimOutcome, PendingWrite, WriteJournal } from './disk-tier-types.js';

/** The journal with cached look-ups (see the module comment). */
export class PendingIndex implements WriteJournal {
  #byKey = new Map<string, PendingWrite>();
  #all: PendingWrite[] = [];
  #loadedAt = -Infinity;
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
    if (!force && now - this.#loadedAt < this.refreshMs) return;
    this.#loadedAt = now;
    const before = this.#all;
    this.#all = this.journal.list();
    this.#byKey = new Map(this.#all.map((p) => [`${p.cacheId}\n${p.key}`, p]));
    if (before.length > 0) {
      const now = new Map(this.#all.map((p) => [p.id, p]));
      // Gone (uploaded, discarded), or moved to another name, by another process.
      const gone = (p: PendingWrite): boolean => now.get(p.id)?.key !== p.key || now.get(p.id)?.cacheId !== p.cacheId;
      for (const p of before) if (gone(p) && !this.#ownChanges.has(p.id)) this.onGoneElsewhere(p);
    }
    this.#ownChanges.clear();
  }

  #changed(): void {
    this.#loadedAt = -Infinity;
  }

  async stage(cacheId: string, key: string, data: Buffer | AsyncIterable<Uint8Array>, mode: PendingWrite['mode'], signal?: AbortSignal): Promise<PendingWrite> {
    try {
      return await this.journal.stage(cacheId, key, data, mode, signal);
    } finally {
      this.#changed();
    }
  }

  find(cacheId: string, key: string): PendingWrite | undefined {
    this.#fresh();
    if (this.#all.length === 0) return undefined;
    return this.#byKey.get(`${cacheId}\n${key}`);
  }

  list(cacheId?: string, fresh = false): PendingWrite[] {
    this.#fresh(fresh);
    return cacheId === undefined ? [...this.#all] : this.#all.filter((p) => p.cacheId === cacheId);
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
    this.#ownChanges.add(id);
    try {
      await this.journal.complete(id);
    } finally {
      this.#changed();
    }
  }

  async move(id: string, cacheId: string, key: string): Promise<PendingWrite> {
    // The write itself, and the others of its old and new names that it drops, change here.
    const from = this.#all.find((p) => p.id === id);
    const named = (p: PendingWrite, other: PendingWrite | undefined): boolean => other !== undefined && p.cacheId === other.cacheId && p.key === other.key;
    this.#ownChanges.add(id);
    for (const p of this.#all) if (named(p, from) || (p.cacheId === cacheId && p.key === key)) this.#ownChanges.add(p.id);
    try {
      return await this.journal.move(id, cacheId, key);
    } finally {
      this.#changed();
    }
  }

  async discard(cacheId: string, key: string): Promise<void> {
    if (!this.find(cacheId, key)) return;
    for (const p of this.#all) if (p.cacheId === cacheId && p.key === key) this.#ownChanges.add(p.id);
    try {
      await this.journal.discard(cacheId, key);
    } finally {
      this.#changed();
    }
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
