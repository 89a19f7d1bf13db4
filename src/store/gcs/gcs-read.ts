/**
 * Opening a GCS download: wait for the response so a missing object fails the call (not the
 * stream), and cut the range locally when a server answers a ranged request with the whole
 * object.
 * @module
 */
import { addAbortSignal, type Readable } from 'node:stream';
import type { File } from '@google-cloud/storage';
import { throwIfAborted } from '../../errors.js';
import { sliceStream } from '../../io/slice-stream.js';
import type { ByteRange } from '../under-store.js';

/**
 * Starts the download of `file` (or of `range`) and resolves once the server answered: with
 * the body stream on success, rejecting with the SDK's error (404, 416…, or an `AbortError`
 * when `signal` fires first) otherwise. A ranged
 * request answered `200` (the whole object — the Firebase Storage emulator does so for ranges
 * that start at or past the end) is cut to the range here, so the caller always gets exactly
 * the bytes it asked for.
 */
export async function openGcsRead(file: File, range: ByteRange | undefined, signal?: AbortSignal): Promise<Readable> {
  throwIfAborted(signal);
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
  return sliceStream(stream, range);
}
