/**
 * The key space of a memory store: a `Map` of full keys that also counts, for each directory
 * prefix (`a/`, `a/b/`), the keys that start with it, so "is anything below this directory?"
 * costs one look-up however many keys the store holds.
 * @module
 */

/** A `Map` from full keys that knows how many keys lie below each directory prefix. */
export class KeySpace<V> extends Map<string, V> {
  /** Keys starting with each directory prefix (ending in `/`), markers included. */
  readonly #below = new Map<string, number>();

  override set(key: string, value: V): this {
    if (!super.has(key)) this.#count(key, 1);
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    const had = super.delete(key);
    if (had) this.#count(key, -1);
    return had;
  }

  override clear(): void {
    super.clear();
    this.#below.clear();
  }

  /** True when some key starts with `base`, a directory prefix ending in `/`. */
  hasBelow(base: string): boolean {
    return (this.#below.get(base) ?? 0) > 0;
  }

  #count(key: string, delta: number): void {
    for (let slash = key.indexOf('/'); slash >= 0; slash = key.indexOf('/', slash + 1)) {
      const base = key.slice(0, slash + 1);
      const count = (this.#below.get(base) ?? 0) + delta;
      if (count > 0) this.#below.set(base, count);
      else this.#below.delete(base);
    }
  }
}
