/**
 * Stream helpers the cloud connectors share: reading the head of an upload to pick a single
 * request over a streamed one, and guarding a download stream (mapped errors, abort, cleanup).
 * @module
 */
import { Readable, Transform, addAbortSignal, pipeline } from 'node:stream';
import { invalid, throwIfAborted } from '../errors.js';
import type { Bytes } from '../size.js';

/** What {@link readHead} found: the whole body (it fitted), or a stream replaying the head then the rest. */
export type UploadHead = { complete: true; data: Buffer } | { complete: false; stream: Readable };

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk));
}

/**
 * Reads `source` until more than `limit` bytes came or it ended. A body of at most `limit`
 * bytes comes back whole (`complete: true`: one simple request); a larger one as a stream that
 * yields what was read, then the rest of `source` (`complete: false`: a streamed upload). At
 * most `limit` plus one chunk is held in memory. `signal` aborts the reading (and destroys
 * `source`); so does destroying the returned stream.
 */
export async function readHead(source: Readable, limit: Bytes, signal?: AbortSignal): Promise<UploadHead> {
  throwIfAborted(signal);
  if (signal) addAbortSignal(signal, source);
  const iterator = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    while (size <= limit) {
      const next = await iterator.next();
      if (next.done) return { complete: true, data: Buffer.concat(chunks, size) };
      const chunk = toBuffer(next.value);
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      while (chunks.length > 0) yield chunks.shift() as Buffer;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield toBuffer(next.value);
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { complete: false, stream: Readable.from(replay(), { objectMode: false }) };
}

/**
 * `body` held to the size its writer declared (`StoreWriteOptions.size`): a Buffer of another
 * length fails at once, and a stream fails as soon as it yields more bytes than `size`, or when it
 * ends short of them — before its end reaches the upload, so no store commits a truncated or
 * overlong object. `EINVAL` naming both sizes. `counted` is told the size of each chunk that
 * passes. A stream comes back as a new stream whose destruction (an abort) destroys `body` too,
 * even while it waits for data; `size` and `counted` undefined: `body` itself, unchecked.
 */
export function sizedBody<B extends Readable | Buffer>(body: B, size: Bytes | undefined, counted?: (bytes: Bytes) => void): B {
  if (size === undefined && (counted === undefined || Buffer.isBuffer(body))) return body;
  const wrong = (seen: number | undefined): Error => invalid(`the body has ${seen === undefined ? 'more' : seen} bytes, not the ${size} it was declared to have`, { op: 'write' });
  if (Buffer.isBuffer(body)) {
    if (body.length !== size) throw wrong(body.length);
    return body;
  }
  let seen = 0;
  const checked = new Transform({
    transform(chunk: unknown, _encoding, callback) {
      const data = toBuffer(chunk);
      seen += data.length;
      counted?.(data.length);
      callback(size !== undefined && seen > size ? wrong(undefined) : null, data);
    },
    flush(callback) {
      callback(size === undefined || seen === size ? null : wrong(seen)); // before the end is pushed: the upload sees the error, never the end
    },
  });
  // Destroying the checked stream (an abort) destroys `body` too, even while it waits for data
  // (a stream made by `Readable.map` would wait for `body`'s next chunk first).
  pipeline(body as Readable, checked, () => undefined);
  return checked as unknown as B;
}

/**
 * Guards a download stream for the caller, in place: every error it emits passes through
 * `mapError` (so a failure mid-stream carries a `StrataError` code), `signal` destroys it with an
 * `AbortError`, and an error while nobody reads it is not an unhandled `'error'`. The stream is
 * returned itself, not piped into another one: a pass-through stream costs about 20 ms of CPU
 * per 64 MiB read (a tenth of a whole read from a local server). A source that is not a
 * `Readable` (an old-style stream) is wrapped in one first.
 */
export function guardStream(source: NodeJS.ReadableStream, mapError: (error: unknown) => Error, signal?: AbortSignal): Readable {
  const stream = source instanceof Readable ? source : new Readable().wrap(source);
  const emit = stream.emit;
  stream.emit = function (this: Readable, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error') args[0] = mapError(args[0]);
    return emit.call(this, event, ...args);
  } as Readable['emit'];
  stream.on('error', () => undefined); // readers still get the error; nobody reading is no crash
  if (signal) addAbortSignal(signal, stream);
  return stream;
}
