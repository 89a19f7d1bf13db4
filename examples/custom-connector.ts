/**
 * A connector of your own in 40 lines: a key-value store on a Map, registered under `kv://`.
 * stratafs derives directories, recursive listing, copy, rename and caching from these few
 * primitives.   npx tsx examples/custom-connector.ts
 */
import { Readable } from 'node:stream';
import { StrataFS, registerStore, type ObjectInfo, type UnderStore } from '../src/index.js';

class KeyValueStore implements UnderStore {
  readonly capabilities = { rangeRead: true, list: true, copy: false, rename: false, directories: false };
  readonly #objects = new Map<string, { data: Buffer; mtime: Date; etag: string }>();
  #version = 0;
  constructor(readonly uri: string) {}

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const object = this.#objects.get(key);
    if (object) return { key, size: object.data.length, mtime: object.mtime, etag: object.etag, isDirectory: false };
    const isDir = key === '' || [...this.#objects.keys()].some((k) => k.startsWith(key + '/'));
    return isDir ? { key, size: 0, isDirectory: true } : undefined;
  }
  async *list(prefix: string, opts?: { recursive?: boolean }): AsyncIterable<ObjectInfo> {
    const seen = new Set<string>();
    for (const key of this.#objects.keys()) {
      if (prefix !== '' && !key.startsWith(prefix + '/')) continue;
      const rest = prefix === '' ? key : key.slice(prefix.length + 1);
      const child = opts?.recursive ? rest : rest.split('/')[0]!;
      const full = prefix === '' ? child : `${prefix}/${child}`;
      if (seen.has(full) || child === '') continue;
      seen.add(full);
      yield (await this.stat(full))!;
    }
  }
  async read(key: string, range?: { offset: number; length?: number }): Promise<Readable> {
    const data = this.#objects.get(key)?.data;
    if (!data) throw Object.assign(new Error(`no such key: ${key}`), { code: 'ENOENT' });
    return Readable.from([data.subarray(range?.offset ?? 0, range?.length === undefined ? undefined : (range.offset ?? 0) + range.length)]);
  }
  async write(key: string, body: Readable | Buffer): Promise<ObjectInfo> {
    const data = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray());
    if (!key.endsWith('/')) this.#objects.set(key, { data, mtime: new Date(), etag: `v${++this.#version}` });
    return (await this.stat(key.replace(/\/$/, '')))!;
  }
  async delete(key: string): Promise<void> {
    this.#objects.delete(key);
  }
}

registerStore('kv', (uri) => new KeyValueStore(uri.href));

const fs = new StrataFS();
await fs.mount('/kv', 'kv://demo');
await fs.writeFile('/kv/reports/2024/q1.txt', 'revenue: 42');
await fs.writeFile('/kv/reports/2024/q2.txt', 'revenue: 57');
await fs.rename('/kv/reports/2024', '/kv/reports/archive');
console.log(await fs.readdir('/kv', { recursive: true }));
console.log((await fs.readFile('/kv/reports/archive/q2.txt', { offset: 9, length: 2 })).toString());
console.log('hits', fs.stats().hits, 'misses', fs.stats().misses);
await fs.close();
