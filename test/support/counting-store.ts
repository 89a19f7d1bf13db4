/**
 * A test `UnderStore` that records every call and every byte it serves, around a MemoryStore.
 * It is a real store (the data lives in memory), not a mock: it lets cache tests assert what
 * reached the store.
 */
import { Readable } from 'node:stream';
import { MemoryStore, type ByteRange, type ObjectInfo, type StoreCallOptions, type StoreCapabilities, type StoreListOptions, type StoreReadOptions, type StoreReadResult, type StoreWriteOptions, type UnderStore } from '../../src/index.js';

/** One recorded call. */
export interface RecordedCall {
  op: string;
  key: string;
  range?: ByteRange;
}

/** See the module comment. `delayMs` slows each read (to let concurrent readers pile up). */
export class CountingStore implements UnderStore {
  readonly inner = new MemoryStore();
  readonly calls: RecordedCall[] = [];
  bytesRead = 0;
  delayMs = 0;
  readonly uri: string;

  constructor(name = `counting-${Math.random().toString(36).slice(2)}`, readonly capabilities: StoreCapabilities = { rangeRead: true, list: true, copy: true, rename: true, directories: false }) {
    this.uri = `counting://${name}`;
  }

  /** Calls of one op. */
  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  reset(): void {
    this.calls.length = 0;
    this.bytesRead = 0;
  }

  stat(key: string, opts?: StoreCallOptions): Promise<ObjectInfo | undefined> {
    this.calls.push({ op: 'stat', key });
    return this.inner.stat(key, opts);
  }

  list(prefix: string, opts?: StoreListOptions): AsyncIterable<ObjectInfo> {
    this.calls.push({ op: 'list', key: prefix });
    return this.inner.list(prefix, opts);
  }

  async read(key: string, range?: ByteRange, opts?: StoreReadOptions): Promise<Readable> {
    return (await this.readWithInfo(key, range, opts)).body;
  }

  /** Recorded as a `read` (it is one request); `capabilities.readInfo` decides whether stratafs uses it. */
  async readWithInfo(key: string, range?: ByteRange, opts?: StoreReadOptions): Promise<StoreReadResult> {
    this.calls.push({ op: 'read', key, range });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const { body, info } = await this.inner.readWithInfo(key, range, opts);
    const counted = body.map((chunk: Buffer) => {
      this.bytesRead += chunk.length;
      return chunk;
    });
    return { body: counted as unknown as Readable, info };
  }

  write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    this.calls.push({ op: 'write', key });
    return this.inner.write(key, body, opts);
  }

  delete(key: string, opts?: StoreCallOptions): Promise<void> {
    this.calls.push({ op: 'delete', key });
    return this.inner.delete(key, opts);
  }

  copy(from: string, to: string, opts?: StoreCallOptions): Promise<ObjectInfo> {
    this.calls.push({ op: 'copy', key: from });
    return this.inner.copy(from, to, opts);
  }

  rename(from: string, to: string, opts?: StoreCallOptions): Promise<void> {
    this.calls.push({ op: 'rename', key: from });
    return this.inner.rename(from, to, opts);
  }
}
