/**
 * How cached pages are named: by the object's identity (store URI + key), its version (etag,
 * else size + mtime) and the page index. A new version never meets old pages.
 * @module
 */
import type { ObjectInfo } from '../store/under-store.js';

/** One page of one version of one object. */
export interface PageId {
  /** Store identity + key: `${cacheId}\n${key}` (see {@link objectId}). */
  object: string;
  /** The object's version (see {@link versionOf}). */
  version: string;
  /** Page index from 0. */
  index: number;
}

/** The identity of an object across processes: the mount's cache id (its store URI) and the key. */
export function objectId(cacheId: string, key: string): string {
  return `${cacheId}\n${key}`;
}

/** An object's version: its etag, else size + mtime. */
export function versionOf(info: Pick<ObjectInfo, 'etag' | 'size' | 'mtime'>): string {
  return info.etag ?? `${info.size}@${info.mtime?.getTime() ?? 0}`;
}

/** A page's string key, unique across objects, versions and indexes. */
export function pageKey(id: PageId): string {
  return `${id.object}\n${id.version}\n${id.index}`;
}
