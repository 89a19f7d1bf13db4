/**
 * The data a caller may write (Buffer, Uint8Array, string, Readable, AsyncIterable), checked and
 * turned into what stores take.
 * @module
 */
import { Readable } from 'node:stream';
import { invalid, throwIfAborted } from '../errors.js';
import { describe } from '../path.js';

/** What `writeFile` accepts. */
export type WriteData = Buffer | Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

/** A Buffer for in-memory data, a Readable for streams; `EINVAL` for anything else. */
export function toBody(data: unknown): Buffer | Readable {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Readable) return data;
  if (data !== null && typeof data === 'object' && Symbol.asyncIterator in data) {
    return Readable.from(data as AsyncIterable<Uint8Array>, { objectMode: false });
  }
  throw invalid(`data must be a Buffer, Uint8Array, string, Readable or AsyncIterable, got ${describe(data)}`);
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
