/**
 * Opening a GCS download: wait for the response so a missing object fails the call (not the
 * stream), and cut the range locally when a server answers a ranged request with the whole
 * object.
 * @module
 */
import { Transform, addAbortSignal, type Readable, type TransformCallback } from 'node:stream';
import type { File } from '@google-cloud/storage';
import type { ByteRange } from '../under-store.js';

/** Passes on `length` bytes (all, when undefined) after skipping `skip`; then ends and lets the source go. */
class Slice extends Transform {
  #skip: number;
  #left: number;

  constructor(skip: number, length: number | undefined) {
    super();
    this.#skip = skip;
    this.#left = length ?? Number.POSITIVE_INFINITY;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let part = chunk;
    if (this.#skip > 0) {
      const dropped = Math.min(this.#skip, part.length);
      this.#skip -= dropped;
      part = part.subarray(dropped);
    }
    if (part.length > this.#left) part = part.subarray(0, this.#left);
    this.#left -= part.length;
    if (part.length > 0) this.push(part);
    if (this.#left === 0) this.push(null);
    callback();
  }
}

/**
 * Starts the download of `file` (or of `range`) and resolves once the server answered: with
 * the body stream on success, rejecting with the SDK's error (404, 416…, or an `AbortError`
 * when `signal` fires first) otherwise. A ranged
 * request answered `200` (the whole object — the Firebase Storage emulator does so for ranges
 * that start at or past the end) is cut to the range here, so the caller always gets exactly
 * the bytes it asked for.
 */
export async function openGcsRead(file: File, range: ByteRange | undefined, signal?: AbortSignal): Promise<Readable> {
  signal?.throwIfAborted();
  const ranged = range !== undefined && (range.offset > 0 || range.length !== undefined);
  const stream = ranged
    ? file.createReadStream({ start: range.offset, end: range.length !== undefined ? range.offset + range.length - 1 : undefined, validation: false })
    : file.createReadStream();
  if (signal) addAbortSignal(signal, stream); // an abort before the answer destroys the request
  const status = await new Promise<number>((resolve, reject) => {
    stream.once('error', reject);
    stream.on('response', (response: { statusCode?: number; status?: number }) => {
      const code = response.statusCode ?? response.status ?? 0;
      if (code < 300) resolve(code); // otherwise the SDK reads the error body and emits 'error'
    });
    stream.read(0); // the SDK sends the request on the first read
  });
  if (!ranged || status === 206) return stream;
  const slice = new Slice(range.offset, range.length);
  stream.on('error', (error) => slice.destroy(error));
  slice.on('close', () => stream.destroy());
  return stream.pipe(slice);
}
