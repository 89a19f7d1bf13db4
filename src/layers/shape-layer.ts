/**
 * Brings what a connector answers into the shape the rest of stratafs relies on, so a third
 * party's connector that bends the contract a little still reads the right bytes:
 *
 * - a read's body becomes a byte stream: a `Readable` of `Buffer`s is kept as it is (no copy, no
 *   pass-through); one in object mode or with an encoding (chunks that are `Uint8Array`s or
 *   strings, as `Readable.from([...])` makes), a web `ReadableStream`, an (async) iterable of
 *   chunks or plain bytes are turned into one. Strings count as UTF-8 (or the stream's
 *   encoding). Anything else fails with `EIO` naming what came.
 * - the key of a directory a `stat` or a listing names loses its trailing `/` (`dir/` is `dir`),
 *   and a listed `dir/` marker is that directory, not a file.
 * - a listing may be an array, a (sync or async) iterable or a promise of one; a `delete` that
 *   fails with `ENOENT` resolves (a missing key is not an error).
 * - an `mtime` given as an ISO string or epoch milliseconds becomes a `Date`, a `size` given as
 *   a numeric string a number, an `etag` that is not a string a string.
 * - a `write` that resolves with no info, or with one without a `size` (a connector
 *   returning `void`), is followed by a `stat` of what it made, so the caches never hold an
 *   object of unknown size; `EIO` when that `stat` finds nothing.
 *
 * It is the innermost layer: every other one sees the contract's shapes.
 * @module
 */
import { Readable } from 'node:stream';
import { StrataError } from '../errors.js';
import type { ObjectInfo, StoreCallOptions, StoreListOptions, StoreWriteOptions } from '../store/under-store.js';
import { StoreLayer, type CallInfo } from './store-layer.js';

/** The shape layer (see the module comment). */
export class ShapeLayer extends StoreLayer {
  override async stat(key: string, opts?: StoreCallOptions): Promise<ObjectInfo | undefined> {
    const info = await super.stat(key, opts);
    return info && shapeInfo(info);
  }

  override async *list(prefix: string, opts?: StoreListOptions): AsyncIterable<ObjectInfo> {
    const answer: unknown = this.inner.list(prefix, opts);
    const entries: unknown = typeof (answer as PromiseLike<unknown> | null)?.then === 'function' ? await answer : answer;
    if (!isIterable(entries)) throw new StrataError('EIO', `the store's list answered with ${describe(entries)}, not an async iterable`);
    for await (const info of entries as AsyncIterable<ObjectInfo> | Iterable<ObjectInfo>) yield shapeInfo(info);
  }

  /** A missing key is not an error: an `ENOENT` of the store's `delete` (as `fs.unlink` throws) resolves. */
  override async delete(key: string, opts?: StoreCallOptions): Promise<void> {
    try {
      await super.delete(key, opts);
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== 'ENOENT') throw error;
    }
  }

  override async write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    return this.#made(key, await super.write(key, body, opts), opts);
  }

  /** What a `write` or `copy` of `key` answered, or what a `stat` finds when that says too little. */
  async #made(key: string, info: ObjectInfo | undefined, opts?: StoreCallOptions): Promise<ObjectInfo> {
    if (info !== null && typeof info === 'object' && Number.isFinite(info.size)) return shapeInfo({ ...info, key: typeof info.key === 'string' ? info.key : key });
    const found = await this.stat(key, { signal: opts?.signal });
    if (!found) throw new StrataError('EIO', `the store answered a write of ${key} with no size, and a stat of it finds nothing`);
    return found;
  }

  protected override async around<T, O extends StoreCallOptions>(call: CallInfo, fn: (opts: O | undefined) => Promise<T>, opts: O | undefined): Promise<T> {
    const result = await fn(opts);
    if (call.op === 'copy') return (result !== null && typeof result === 'object' ? shapeInfo(result as unknown as ObjectInfo) : result) as T;
    if (call.op !== 'read') return result;
    // `read` answers with a body; `readWithInfo` with `{ body, info }`.
    const answer = result as { body?: unknown; info?: ObjectInfo };
    if (answer !== null && typeof answer === 'object' && 'info' in answer && 'body' in answer && !isStreamLike(answer)) {
      return { ...answer, body: toByteStream(answer.body), info: answer.info && shapeInfo(answer.info) } as T;
    }
    return toByteStream(result) as T;
  }
}

/**
 * `info` in the contract's types: a directory's key without its trailing `/` (a listed `dir/`
 * marker is the directory `dir`), an `mtime` given as an ISO string or epoch milliseconds as a
 * `Date` (dropped when it names no time), a numeric `size` given as a string as a number, an
 * `etag` that is not a string as one. `info` itself when it needs nothing.
 */
function shapeInfo(info: ObjectInfo): ObjectInfo {
  const raw = info as unknown as { key: unknown; size: unknown; mtime?: unknown; etag?: unknown };
  const patch: Partial<ObjectInfo> & { mtime?: Date | undefined; etag?: string | undefined } = {};
  let changed = false;
  if (typeof raw.key === 'string' && raw.key.endsWith('/') && raw.key !== '/') {
    Object.assign(patch, { key: raw.key.replace(/\/+$/, ''), size: 0, isDirectory: true });
    changed = true;
  } else if (typeof raw.size === 'string' && raw.size.trim() !== '' && Number.isFinite(Number(raw.size))) {
    patch.size = Number(raw.size);
    changed = true;
  }
  if (raw.mtime !== undefined && !(raw.mtime instanceof Date && !Number.isNaN(raw.mtime.getTime()))) {
    const date = typeof raw.mtime === 'string' || typeof raw.mtime === 'number' ? new Date(raw.mtime) : undefined;
    patch.mtime = date && !Number.isNaN(date.getTime()) ? date : undefined;
    changed = true;
  }
  if (raw.etag !== undefined && typeof raw.etag !== 'string') {
    patch.etag = raw.etag === null ? undefined : String(raw.etag);
    changed = true;
  }
  if (!changed) return info;
  const out = { ...info, ...patch };
  if (out.mtime === undefined) delete out.mtime;
  if (out.etag === undefined) delete out.etag;
  return out;
}

function isIterable(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (Symbol.asyncIterator in value || Symbol.iterator in value);
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

function isStreamLike(value: unknown): boolean {
  const v = value as { pipe?: unknown; getReader?: unknown; [Symbol.asyncIterator]?: unknown };
  return typeof v?.pipe === 'function' || typeof v?.getReader === 'function' || typeof v?.[Symbol.asyncIterator] === 'function';
}

/** One chunk of a body as bytes; `EIO` for anything that is not bytes or text. */
function chunkBytes(chunk: unknown, encoding: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk);
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding);
  throw new StrataError('EIO', `the store's read body gave a chunk that is not bytes (${describe(chunk)})`);
}

/** A byte-mode `Readable` of `body` (see the module comment). */
function toByteStream(body: unknown): Readable {
  if (body instanceof Readable) {
    if (!body.readableObjectMode && !body.readableEncoding) return body;
    const encoding = body.readableEncoding ?? 'utf8';
    return Readable.from(bytesOf(body, encoding), { objectMode: false });
  }
  if (Buffer.isBuffer(body) || ArrayBuffer.isView(body) || body instanceof ArrayBuffer) return Readable.from([chunkBytes(body, 'utf8')], { objectMode: false });
  if (typeof (body as { getReader?: unknown } | null)?.getReader === 'function') {
    return Readable.from(bytesOf(body as AsyncIterable<unknown>, 'utf8'), { objectMode: false });
  }
  if (isIterable(body)) return Readable.from(bytesOf(body as AsyncIterable<unknown>, 'utf8'), { objectMode: false });
  throw new StrataError('EIO', `the store's read answered with ${describe(body)}, not a Readable`);
}

/** The chunks of `source` as `Buffer`s; closing the result closes `source`. */
async function* bytesOf(source: AsyncIterable<unknown> | Iterable<unknown>, encoding: BufferEncoding): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const bytes = chunkBytes(chunk, encoding);
    if (bytes.length > 0) yield bytes;
  }
}
