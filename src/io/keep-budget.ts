/**
 * The bound on the bytes that streamed writes keep in memory for the memory tier while they go
 * to the store or the disk cache: one budget for all the writes on their way at once, so that
 * concurrent write streams hold at most the memory tier's capacity between them (not that much each).
 * @module
 */

/** Bytes kept by the writes on their way, at most `limit` in all (see the module comment). */
export class KeepBudget {
  #used = 0;

  constructor(
    /** Most bytes kept at once, across writes (the memory tier's capacity). */
    readonly limit: number,
  ) {}

  /** Bytes kept now. */
  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` when they fit; `false` (nothing taken) when they do not. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  /** Gives back `bytes` taken earlier. */
  give(bytes: number): void {
    this.#used -= bytes;
  }
}
