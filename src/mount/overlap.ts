/**
 * Mounts of overlapping parts of one store (`s3://b/data` and `s3://b/data/2024`): a change one
 * of them makes is a change of the other's keys too, named differently.
 * @module
 */
import { splitCacheId } from './open-store.js';

/** A change of a key of a store (`recursive`: and of everything below it). */
export interface KeyChange {
  key: string;
  recursive: boolean;
}

/**
 * The change of `change.key` of the store `changed` as the keys of the store `other` name it,
 * when one of the two lies inside the other; `undefined` when it touches nothing of `other`.
 * The ids hold URIs, whose paths are `%`-encoded: the part between them is decoded into a key.
 */
export function changeSeenFrom(changed: string, change: KeyChange, other: string): KeyChange | undefined {
  const [outer, outerOwner] = splitCacheId(changed);
  const [inner, innerOwner] = splitCacheId(other);
  if (outerOwner !== innerOwner) return undefined;
  const { key, recursive } = change;
  const innerPart = partBelow(inner, outer);
  if (innerPart !== undefined) {
    // `other` lies inside `changed`, at `below`.
    const below = keyOfPath(innerPart);
    if (key === below || key.startsWith(below + '/')) return { key: key.slice(below.length + 1), recursive };
    if (recursive && (key === '' || below.startsWith(key + '/'))) return { key: '', recursive: true };
    return undefined;
  }
  const outerPart = partBelow(outer, inner);
  if (outerPart !== undefined) {
    // `changed` lies inside `other`, at `above`.
    const above = keyOfPath(outerPart);
    return { key: key === '' ? above : `${above}/${key}`, recursive };
  }
  return undefined;
}

/**
 * The path of the URI `uri` below the URI `base` (`s3://b/data/2024` below `s3://b/data`:
 * `2024`), when it lies strictly inside it; `base` may end with `/` (`file:///`, the root of a
 * local file system).
 */
function partBelow(uri: string, base: string): string | undefined {
  const dir = base.endsWith('/') ? base : base + '/';
  return uri.startsWith(dir) && uri.length > dir.length ? uri.slice(dir.length) : undefined;
}

/**
 * The store key a URI's path part names: each segment `%`-decoded, as store URIs encode their
 * prefix (`caf%C3%A9%20x` -> `café x`); a segment that is not valid `%`-encoding is kept as written.
 */
function keyOfPath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join('/');
}
