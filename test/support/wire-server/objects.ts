/**
 * Test code: the in-memory buckets of the wire-protocol test server, with the S3 listing rules
 * (prefix, delimiter roll-up into common prefixes, exclusive start marker, page size) and
 * multipart uploads in progress. Both dialects share it.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';

/** One stored object. */
export interface StoredObject {
  data: Buffer;
  /** MD5 of the data, hex (of the part MD5s for multipart objects, S3-style). */
  md5: string;
  /** Number of parts for a multipart object, else 0. */
  parts: number;
  /** Second precision, as HTTP dates carry it. */
  lastModified: Date;
  contentType: string;
}

/** One part of a multipart upload. */
export interface StoredPart {
  data: Buffer;
  md5: string;
}

/** A multipart upload in progress. */
export interface Upload {
  id: string;
  bucket: string;
  key: string;
  initiated: Date;
  contentType: string;
  parts: Map<number, StoredPart>;
}

/** An entry of a listing page: an object or a common prefix. */
export type ListEntry = { kind: 'object'; key: string; object: StoredObject } | { kind: 'prefix'; prefix: string };

/** A listing page. */
export interface ListResult {
  entries: ListEntry[];
  truncated: boolean;
  /** The last entry's key or prefix: the marker of the next page. */
  last: string | undefined;
}

/** Hex MD5 of `data`. */
export function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** Now, truncated to whole seconds. */
export function nowSeconds(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

/** All buckets and uploads of one server. */
export class ObjectSpace {
  readonly #buckets = new Map<string, Map<string, StoredObject>>();
  readonly #uploads = new Map<string, Upload>();

  constructor(buckets: readonly string[]) {
    for (const name of buckets) this.#buckets.set(name, new Map());
  }

  /** The objects of `bucket`, or `undefined` when there is no such bucket. */
  bucket(name: string): Map<string, StoredObject> | undefined {
    return this.#buckets.get(name);
  }

  /** Stores a whole object. */
  put(bucket: Map<string, StoredObject>, key: string, data: Buffer, contentType: string): StoredObject {
    const object: StoredObject = { data, md5: md5Hex(data), parts: 0, lastModified: nowSeconds(), contentType };
    bucket.set(key, object);
    return object;
  }

  /**
   * One listing page below `prefix`: keys after `after` (exclusive), rolled up at `delimiter`
   * into common prefixes, at most `maxKeys` entries.
   */
  list(bucket: Map<string, StoredObject>, prefix: string, delimiter: string, after: string, maxKeys: number): ListResult {
    const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const entries: ListEntry[] = [];
    let truncated = false;
    for (const key of keys) {
      const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
      const entry: ListEntry = cut < 0 ? { kind: 'object', key, object: bucket.get(key) as StoredObject } : { kind: 'prefix', prefix: key.slice(0, cut + delimiter.length) };
      if (entry.kind === 'prefix') {
        const previous = entries[entries.length - 1];
        if (entry.prefix <= after || (previous?.kind === 'prefix' && previous.prefix === entry.prefix)) continue;
      }
      if (entries.length === maxKeys) {
        truncated = true;
        break;
      }
      entries.push(entry);
    }
    const lastEntry = entries[entries.length - 1];
    return { entries, truncated, last: lastEntry === undefined ? undefined : lastEntry.kind === 'object' ? lastEntry.key : lastEntry.prefix };
  }

  /** Starts a multipart upload. */
  createUpload(bucket: string, key: string, contentType: string): Upload {
    const upload: Upload = { id: randomBytes(16).toString('hex').toUpperCase(), bucket, key, initiated: nowSeconds(), contentType, parts: new Map() };
    this.#uploads.set(upload.id, upload);
    return upload;
  }

  /** The upload `id` of `bucket`/`key`, if it is in progress. */
  upload(id: string, bucket: string, key: string): Upload | undefined {
    const upload = this.#uploads.get(id);
    return upload && upload.bucket === bucket && upload.key === key ? upload : undefined;
  }

  /** Ends an upload (completed or aborted). */
  dropUpload(id: string): void {
    this.#uploads.delete(id);
  }

  /** Uploads in progress in `bucket` whose key starts with `prefix`, by key. */
  uploads(bucket: string, prefix: string): Upload[] {
    return [...this.#uploads.values()].filter((u) => u.bucket === bucket && u.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
