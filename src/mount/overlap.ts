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
  if (inner.startsWith(outer + '/')) {
    // `other` lies inside `changed`, at `below`.
    const below = keyOfPath(inner.slice(outer.length + 1));
    if (key === below || key.startsWith(below + '/')) return { key: key.slice(below.length + 1), recursive };
    if (recursive && (key === '' || below.startsWith(key + '/'))) return { key: '', recursive: true };
    return undefined;
  }
  if (outer.startsWith(inner + '/')) {
    // `changed` lies inside `other`, at `above`.
    const above = keyOfPath(outer.slice(inner.length + 1));
    return { key: key === '' ? above : `${above}/${key}`, recursive };
  }
  return undefined;
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
