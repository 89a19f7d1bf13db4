/**
 * The data a caller may write (Buffer, any TypedArray or DataView, string, Readable, iterable),
 * checked and turned into what stores take.
 * @module
 */
import { Readable } from 'node:stream';
import { invalid, throwIfAborted } from '../errors.js';
import { describe } from '../path.js';
import type { KeepBudget } from './keep-budget.js';

/**
 * What `writeFile` accepts, as `fs.writeFile` does: bytes (a Buffer, any TypedArray or a
 * DataView: the bytes it views), a string, a Readable, or an async or plain iterable of chunks
 * (bytes or strings).
 */
export type WriteData = Buffer | ArrayBufferView | string | Readable | AsyncIterable<ArrayBufferView | string> | Iterable<ArrayBufferView | string>;

/**
 * A Buffer for in-memory data (a string in `encoding`, default `'utf8'`; the bytes a TypedArray
 * or DataView views), a Readable for streams (an iterable's chunks copied); `EINVAL` for anything else.
 */
export function toBody(data: unknown, encoding: BufferEncoding = 'utf8'): Buffer | Readable {
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return viewBytes(data);
  if (typeof data === 'string') return Buffer.from(data, encoding);
  if (data instanceof Readable) {
    // A stream of strings (object mode, or after setEncoding) is written as their bytes, like fs does.
    if (!data.readableObjectMode && data.readableEncoding === null) return data;
    const encoding = data.readableEncoding ?? 'utf8';
    return data.map((chunk: unknown) => bytesOf(chunk, encoding)) as Readable;
  }
  if (data !== null && typeof data === 'object' && (Symbol.asyncIterator in data || Symbol.iterator in data)) {
    return Readable.from(copiedChunks(data as AsyncIterable<unknown> | Iterable<unknown>), { objectMode: false });
  }
  throw invalid(`data must be a Buffer, TypedArray, DataView, string, Readable or iterable, got ${describe(data)}`);
}

/** The bytes a TypedArray or DataView views, without a copy. */
function viewBytes(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * The chunks of an async iterable being written, each as bytes of its own: like `fs.writeFile`,
 * which writes each chunk before it asks for the next, the iterable may reuse its buffer once it
 * is asked for the next chunk, while the upload may still hold the earlier ones (parts, a cache).
 */
async function* copiedChunks(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<Buffer> {
  for await (const chunk of source) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(bytesOf(chunk, 'utf8'));
}

/** One chunk of a stream being written, as bytes; `EINVAL` for anything but bytes and strings. */
function bytesOf(chunk: unknown, encoding: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (ArrayBuffer.isView(chunk)) return viewBytes(chunk);
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding);
  throw invalid(`a stream to write must yield Buffers, TypedArrays, DataViews or strings, got ${describe(chunk)}`);
}

/** Reads a whole stream into one Buffer. */
export async function collect(stream: Readable | AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    throwIfAborted(signal);
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * `body` passed through as `stream`, its chunks kept on the way while `budget` (shared by the
 * writes on their way) has room for them: `bytes(size)` is then all of them in one Buffer, when
 * they are all there is (`size` bytes) and were all kept; else `undefined` (the cache is not
 * filled with a part of a file). `release()` gives the kept bytes back to the budget: call it
 * once the write is over, whatever its outcome.
 */
export function keepWhileFits(body: Readable, budget: KeepBudget): { stream: Readable; bytes(size: number): Buffer | undefined; release(): void } {
  let chunks: Buffer[] | undefined = [];
  let kept = 0;
  let seen = 0;
  const release = (): void => {
    budget.give(kept);
    kept = 0;
    chunks = undefined;
  };
  const stream = body.map((chunk: Buffer) => {
    seen += chunk.length;
    if (chunks && budget.take(chunk.length)) {
      chunks.push(chunk);
      kept += chunk.length;
    } else if (chunks) release(); // it does not fit: nothing of it is kept
    return chunk;
  }) as unknown as Readable;
  return { stream, bytes: (size) => (chunks && seen === size ? Buffer.concat(chunks) : undefined), release };
}
