/**
 * Names of the shared tier's Redis keys. Object identities (store URI + key) are hashed, so no
 * store key, URI or anything else from the user appears in a Redis key. The hash sits inside a
 * Cluster hash tag (`{…}`): the pages and leases of one object version share a hash slot (one
 * `MGET` / pipeline per object), and so do the metadata entries and the epoch of one mount.
 * @module
 */
import { createHash } from 'node:crypto';
import type { PageId } from '../page-id.js';

/** A short, URL-safe digest of `text` (128 bits of SHA-256). */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** Key builder for one key prefix and page size. */
export class SharedKeys {
  /** The pub/sub channel of invalidations. */
  readonly channel: string;

  constructor(
    private readonly prefix: string,
    private readonly pageSize: number,
  ) {
    this.channel = `${prefix}invalidate`;
  }

  /** The hash-slot tag of one version of one object (pages and leases). */
  versionTag(id: Pick<PageId, 'object' | 'version'>): string {
    return digest(`${this.pageSize}\n${id.object}\n${id.version}`);
  }

  /** A page: `<prefix>p:{<tag>}:<index>`. */
  page(tag: string, index: number): string {
    return `${this.prefix}p:{${tag}}:${index}`;
  }

  /** The single-flight lease of a page: `<prefix>l:{<tag>}:<index>`. */
  lease(tag: string, index: number): string {
    return `${this.prefix}l:{${tag}}:${index}`;
  }

  /** The hash-slot tag of one mount (its cache id). */
  mountTag(cacheId: string): string {
    return digest(cacheId);
  }

  /** The metadata epoch of a mount: bumped by recursive invalidations, stale entries carry an older one. */
  epoch(mountTag: string): string {
    return `${this.prefix}e:{${mountTag}}`;
  }

  /** A shared stat answer. */
  stat(mountTag: string, key: string): string {
    return `${this.prefix}s:{${mountTag}}:${digest(key)}`;
  }

  /** A shared directory listing. */
  list(mountTag: string, key: string): string {
    return `${this.prefix}d:{${mountTag}}:${digest(key)}`;
  }
}
