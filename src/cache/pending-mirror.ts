/**
 * The pending writes as held in memory by a `PendingIndex`: by id and by key, oldest first, each
 * change costing the writes of one key, not all of them.
 * @module
 */
import type { PendingWrite } from './disk-tier-types.js';

const keyOf = (cacheId: string, key: string): string => `${cacheId}\n${key}`;

/** See the module comment. */
export class PendingMirror {
  /** Every write, oldest first (by `seq`). */
  #byId = new Map<string, PendingWrite>();
  /** The writes of each key, oldest first. */
  #byKey = new Map<string, PendingWrite[]>();
  /** The largest `seq` added: a write with a larger one goes last. */
  #lastSeq = -Infinity;
  /** {@link all}, kept until the next change. */
  #all: PendingWrite[] | undefined;

  /** A mirror of `all` (oldest first). */
  constructor(all: PendingWrite[] = []) {
    for (const p of all) {
      this.#byId.set(p.id, p);
      this.#listOf(p.cacheId, p.key).push(p);
      this.#lastSeq = Math.max(this.#lastSeq, p.seq ?? -Infinity);
    }
    this.#all = all;
  }

  /** Every write, oldest first (do not change the array). */
  all(): readonly PendingWrite[] {
    return (this.#all ??= [...this.#byId.values()]);
  }

  /** The write of that id. */
  get(id: string): PendingWrite | undefined {
    return this.#byId.get(id);
  }

  /** The writes of a key, oldest first (do not change the array). */
  ofKey(cacheId: string, key: string): readonly PendingWrite[] {
    return this.#byKey.get(keyOf(cacheId, key)) ?? [];
  }

  /** The newest write of a key. */
  newest(cacheId: string, key: string): PendingWrite | undefined {
    return this.ofKey(cacheId, key).at(-1);
  }

  /** Adds a write in its place by age (replacing one of its id). */
  add(p: PendingWrite): void {
    this.remove(p.id);
    this.#byId.set(p.id, p);
    // Stages that ended in another order than they were recorded: sorted again (rare).
    if (p.seq !== undefined && p.seq < this.#lastSeq) this.#byId = new Map([...this.#byId].sort(([, a], [, b]) => (a.seq ?? 0) - (b.seq ?? 0)));
    this.#lastSeq = Math.max(this.#lastSeq, p.seq ?? -Infinity);
    const ofKey = this.#listOf(p.cacheId, p.key);
    let at = ofKey.length;
    while (at > 0 && p.seq !== undefined && (ofKey[at - 1]!.seq ?? -Infinity) > p.seq) at--;
    ofKey.splice(at, 0, p);
    this.#all = undefined;
  }

  /** Drops the write of that id. */
  remove(id: string): void {
    const p = this.#byId.get(id);
    if (!p) return;
    this.#byId.delete(id);
    const rest = this.ofKey(p.cacheId, p.key).filter((q) => q.id !== id);
    if (rest.length > 0) this.#byKey.set(keyOf(p.cacheId, p.key), rest);
    else this.#byKey.delete(keyOf(p.cacheId, p.key));
    this.#all = undefined;
  }

  /** Drops every write of a key. */
  removeKey(cacheId: string, key: string): void {
    for (const p of this.ofKey(cacheId, key)) this.remove(p.id);
  }

  /** The (changeable) list of a key's writes, made when missing. */
  #listOf(cacheId: string, key: string): PendingWrite[] {
    const k = keyOf(cacheId, key);
    let list = this.#byKey.get(k);
    if (!list) this.#byKey.set(k, (list = []));
    return list;
  }
}
