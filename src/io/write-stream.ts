/**
 * The Writable of `createWriteStream`: the bytes written to it are the body of one upload, and
 * it finishes only once that upload is done.
 * @module
 */
import { Readable, Writable } from 'node:stream';

/** Options of {@link uploadingWritable}, as `fs` write streams take them. */
export interface UploadingWritableOptions {
  /** Bytes buffered before `write` returns `false`, both in the Writable and on the upload's side. Default: Node's (16 KiB). */
  highWaterMark?: number;
  /** The encoding of strings written without one. Default: `'utf8'`. */
  defaultEncoding?: BufferEncoding;
}

/** The Writable of `createWriteStream`, with the `fs` write stream's byte count. */
export interface StrataWriteStream extends Writable {
  /** Bytes passed on to the upload so far (not those still queued in the stream), as on an `fs` write stream. */
  readonly bytesWritten: number;
}

/**
 * A Writable whose bytes are streamed into `upload(body, signal)`. `'finish'` comes once the
 * upload resolved (the file is then visible); an upload that fails is the stream's `'error'`.
 * Each write waits while the upload has not taken the bytes before it (backpressure passes
 * through, so memory stays bounded); the upload gets a copy of each chunk, so the writer may
 * reuse its buffer once the write's callback ran, as with `fs` streams. Destroying the stream
 * before `'finish'` (after `end()` too) fails the body and aborts `signal`, so nothing partial
 * is stored and a store that has not yet committed the upload does not; the callbacks of writes
 * the upload had not taken are then called with the error (`ERR_STREAM_DESTROYED` for a
 * `destroy()` without one), so a writer awaiting them never hangs.
 */
export function uploadingWritable(upload: (body: Readable, signal: AbortSignal) => Promise<unknown>, options: UploadingWritableOptions = {}): StrataWriteStream {
  const { highWaterMark, defaultEncoding } = options;
  const cancel = new AbortController();
  /** The callback of a write waiting for the upload to read. */
  let waiting: ((error?: Error | null) => void) | undefined;
  const body = new Readable({
    highWaterMark,
    read() {
      const resume = waiting;
      waiting = undefined;
      resume?.();
    },
  });
  // The upload sees a failure of the body through its own reading; when it already stopped
  // reading (it failed first), the failure has nobody else to tell.
  body.on('error', () => undefined);
  let uploaded: Promise<unknown> | undefined;
  let bytesWritten = 0;
  const writer = new Writable({
    highWaterMark,
    defaultEncoding,
    write(chunk: Buffer, _encoding, callback) {
      // A copy: the caller owns `chunk` again once called back, and the upload may keep what it read.
      bytesWritten += chunk.length;
      if (body.push(Buffer.from(chunk))) callback();
      else waiting = callback;
    },
    final(callback) {
      body.push(null);
      uploaded!.then(() => callback(), (error: Error) => callback(error));
    },
    destroy(error, callback) {
      if (!writer.writableFinished) {
        const reason = error ?? new Error('the write stream was destroyed before it finished');
        if (!body.readableEnded) body.destroy(reason);
        cancel.abort(reason);
      }
      callback(error);
      // A write still waiting for the upload will never be taken: it fails, and with it the
      // writes queued behind it (Node calls their callbacks once the one in progress called back).
      const pending = waiting;
      waiting = undefined;
      pending?.(error ?? destroyedError());
    },
  });
  Object.defineProperty(writer, 'bytesWritten', { get: () => bytesWritten, enumerable: true });
  uploaded = upload(body, cancel.signal);
  uploaded.catch((error: Error) => writer.destroy(error));
  return writer as StrataWriteStream;
}

/** What the writes of a stream destroyed without an error fail with, as in Node (`ERR_STREAM_DESTROYED`). */
function destroyedError(): Error {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
}
