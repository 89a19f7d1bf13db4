/**
 * The Writable of `createWriteStream`: the bytes written to it are the body of one upload, and
 * it finishes only once that upload is done.
 * @module
 */
import { Readable, Writable } from 'node:stream';

/**
 * A Writable whose bytes are streamed into `upload(body)`. `'finish'` comes once the upload
 * resolved (the file is then visible); an upload that fails is the stream's `'error'`. Each
 * write waits while the upload has not taken the bytes before it (backpressure passes through,
 * so memory stays bounded). Destroying the stream before it finished fails the upload, so
 * nothing partial is ever stored.
 */
export function uploadingWritable(upload: (body: Readable) => Promise<unknown>): Writable {
  /** The callback of a write waiting for the upload to read. */
  let waiting: ((error?: Error | null) => void) | undefined;
  const body = new Readable({
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
  const writer = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (body.push(chunk)) callback();
      else waiting = callback;
    },
    final(callback) {
      body.push(null);
      uploaded!.then(() => callback(), (error: Error) => callback(error));
    },
    destroy(error, callback) {
      if (!body.readableEnded) body.destroy(error ?? new Error('the write stream was destroyed before it finished'));
      callback(error);
    },
  });
  uploaded = upload(body);
  uploaded.catch((error: Error) => writer.destroy(error));
  return writer;
}
