/**
 * A `Map` of store keys that counts its keys by length, so a look-up of every ancestor of a deep
 * key (`a`, `a/b`, … of `a/b/…/z`) can skip the lengths no key has without building (and
 * hashing) the ancestor's key: a change at depth `d` then costs about `d` steps, not `d` copies
 * of a key as long as the path.
 * @module
 */

/** See the module comment. Keys whose value `marked` picks are also counted apart. */
export class KeyLengthMap<V> extends Map<string, V> {
  readonly #all = new Map<number, number>();
  readonly #marked = new Map<number, number>();

  /** @param marked the values counted apart (see {@link holdsLength}). */
  constructor(private readonly marked: (value: V) => boolean = () => false) {
    super();
  }

  override set(key: string, value: V): this {
    if (super.has(key)) this.#count(key, super.get(key) as V, -1);
    super.set(key, value);
    this.#count(key, value, 1);
    return this;
  }

  override delete(key: string): boolean {
    if (!super.has(key)) return false;
    this.#count(key, super.get(key) as V, -1);
    return super.delete(key);
  }

  override clear(): void {
    super.clear();
    this.#all.clear();
    this.#marked.clear();
  }

  /** False when no key of `length` characters is held (`markedOnly`: none whose value is marked). */
  holdsLength(length: number, markedOnly = false): boolean {
    return (markedOnly ? this.#marked : this.#all).has(length);
  }

  #count(key: string, value: V, delta: number): void {
    add(this.#all, key.length, delta);
    if (this.marked(value)) add(this.#marked, key.length, delta);
  }
}

function add(counts: Map<number, number>, length: number, delta: number): void {
  const count = (counts.get(length) ?? 0) + delta;
  if (count > 0) counts.set(length, count);
  else counts.delete(length);
}
