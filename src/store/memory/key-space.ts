/**
 * The key space of a memory store: a `Map` of full keys that also counts, for each directory
 * prefix (`a/`, `a/b/`), the keys that start with it, so "is anything below this directory?"
 * costs one look-up per segment however many keys the store holds. The counts live in a tree of
 * segments: a key of any depth updates them in one pass over its segments.
 * @module
 */

/** The keys below one directory prefix: how many, the names of its files, and its sub-directories by name. */
interface PrefixNode {
  count: number;
  readonly children: Map<string, PrefixNode>;
  /** Last segments of the keys directly below (markers, whose last segment is `''`, are not files). */
  readonly files: Set<string>;
}

/** A `Map` from full keys that knows how many keys lie below each directory prefix. */
export class KeySpace<V> extends Map<string, V> {
  /** Keys starting with each directory prefix (ending in `/`), markers included, by segment. */
  #below: PrefixNode = emptyNode();

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
    this.#below = emptyNode();
  }

  /** True when some key starts with `base`, a directory prefix ending in `/`. */
  hasBelow(base: string): boolean {
    if (!base.endsWith('/')) return false;
    let node: PrefixNode | undefined = this.#below;
    for (const segment of base.slice(0, -1).split('/')) {
      node = node.children.get(segment);
      if (node === undefined) return false;
    }
    return node.count > 0;
  }

  /**
   * The direct children of the directory prefix `base` (ending in `/`, or `''` for the whole key
   * space): the names of its files and of its sub-directories (those with a key below them,
   * markers included), looked up in one walk down its segments, whatever else the space holds.
   */
  childrenOf(base: string): { files: string[]; dirs: string[] } {
    let node: PrefixNode | undefined = this.#below;
    if (base !== '') {
      if (!base.endsWith('/')) return { files: [], dirs: [] };
      for (const segment of base.slice(0, -1).split('/')) {
        node = node.children.get(segment);
        if (node === undefined) return { files: [], dirs: [] };
      }
    }
    return { files: [...node.files], dirs: [...node.children.keys()] };
  }

  /** Adds `delta` to the count of each directory prefix of `key` (the part before each `/`). */
  #count(key: string, delta: number): void {
    const segments = key.split('/');
    const name = segments[segments.length - 1]!;
    let node = this.#below;
    // The last segment follows the last `/`: it is no prefix of `key`.
    for (let i = 0; i < segments.length - 1; i++) {
      const segment = segments[i]!;
      let child = node.children.get(segment);
      if (child === undefined) {
        if (delta < 0) return;
        node.children.set(segment, (child = emptyNode()));
      }
      child.count += delta;
      // A prefix no key starts with has none below it either.
      if (child.count <= 0) {
        node.children.delete(segment);
        return;
      }
      node = child;
    }
    if (name === '') return;
    if (delta > 0) node.files.add(name);
    else node.files.delete(name);
  }
}

function emptyNode(): PrefixNode {
  return { count: 0, children: new Map(), files: new Set() };
}
