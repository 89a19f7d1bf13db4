/**
 * A connector of your own in 50 lines: a key-value store on a Map, registered under `kv://`.
 * stratafs derives recursive listing and removal, copy, rename and caching from these few
 * primitives; the connector keeps `dir/` markers (for `mkdir`) and honours abort signals, so it
 * passes the conformance suites.   npx tsx examples/custom-connector.ts
 */
import { Readable } from 'node:stream';
import { StrataFS, registerStore, type ByteRange, type ObjectInfo, type StoreCallOptions, type StoreListOptions, type StoreWriteOptions, type UnderStore } from '../src/index.js';

/** Fails with an `AbortError` once `signal` has fired (`signal.throwIfAborted()` would throw the bare reason). */
function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw Object.assign(new Error('the operation was aborted', { cause: signal.reason }), { name: 'AbortError' });
}

class KeyValueStore implements UnderStore {
  readonly capabilities = { rangeRead: true, list: true, copy: false, rename: false, directories: false };
  readonly #objects = new Map<string, { data: Buffer; mtime: Date; etag: string }>(); // a key ending in '/' is a directory marker
  #version = 0;
  constructor(readonly uri: string) {}

  async stat(key: string, opts?: StoreCallOptions): Promise<ObjectInfo | undefined> {
    checkAbort(opts?.signal);
    const object = key.endsWith('/') ? undefined : this.#objects.get(key); // 'dir/' names only a directory
    if (object) return { key, size: object.data.length, mtime: object.mtime, etag: object.etag, isDirectory: false };
    const dir = key.replace(/\/$/, '');
    const isDir = dir === '' || [...this.#objects.keys()].some((k) => k.startsWith(dir + '/')); // a marker or a key below
    const marker = this.#objects.get(dir + '/'); // a marker lends its mtime: the directory has one
    return isDir ? { key: dir, size: 0, isDirectory: true, ...(marker && { mtime: marker.mtime }) } : undefined;
  }
  async *list(prefix: string, opts?: StoreListOptions): AsyncIterable<ObjectInfo> {
    checkAbort(opts?.signal);
    const base = prefix.replace(/\/$/, '') === '' ? '' : prefix.replace(/\/$/, '') + '/';
    const seen = new Set<string>();
    for (const key of [...this.#objects.keys()]) {
      if (!key.startsWith(base)) continue;
      const parts = key.slice(base.length).split('/'); // a marker 'a/b/' ends with ''
      for (let i = 1; i <= (opts?.recursive ? parts.length : 1); i++) {
        const child = base + parts.slice(0, i).join('/');
        if (parts[i - 1] === '' || seen.has(child)) continue;
        seen.add(child);
        yield (await this.stat(child))!;
      }
    }
  }
  async read(key: string, range?: ByteRange, opts?: StoreCallOptions): Promise<Readable> {
    checkAbort(opts?.signal);
    const data = key.endsWith('/') ? undefined : this.#objects.get(key)?.data;
    if (!data) throw Object.assign(new Error(`no such key: ${key}`), { code: 'ENOENT' });
    const start = range?.offset ?? 0;
    return Readable.from([data.subarray(start, range?.length === undefined ? undefined : start + range.length)]);
  }
  async write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    const data = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray({ signal: opts?.signal }));
    checkAbort(opts?.signal); // all or nothing: an aborted write stores nothing
    this.#objects.set(key, { data, mtime: new Date(), etag: `v${++this.#version}` });
    return (await this.stat(key))!;
  }
  async delete(key: string, opts?: StoreCallOptions): Promise<void> {
    checkAbort(opts?.signal);
    this.#objects.delete(key);
  }
}

registerStore('kv', (uri) => new KeyValueStore(uri.href));

const fs = new StrataFS();
await fs.mount('/kv', 'kv://demo');
await fs.writeFile('/kv/reports/2024/q1.txt', 'revenue: 42');
await fs.writeFile('/kv/reports/2024/q2.txt', 'revenue: 57');
await fs.rename('/kv/reports/2024', '/kv/reports/archive');
await fs.mkdir('/kv/reports/drafts'); // an empty directory: a 'reports/drafts/' marker
console.log(await fs.readdir('/kv', { recursive: true }));
console.log((await fs.readFile('/kv/reports/archive/q2.txt', { offset: 9, length: 2 })).toString());
console.log('hits', fs.stats().hits, 'misses', fs.stats().misses);
await fs.close();
