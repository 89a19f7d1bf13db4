/**
 * A store body passed through with a check before its end: how stratafs reads stores that
 * cannot check an object's version themselves.
 * @module
 */
import { PassThrough, type Readable } from 'node:stream';

/**
 * `body` passed through, then `check` run before the end (it throws to fail the stream).
 * Destroying the result destroys `body` at once, even while it waits for data.
 */
export function verifiedVersion(body: Readable, check: () => Promise<void>): Readable {
  const out = new PassThrough();
  body.once('error', (error) => out.destroy(error));
  out.once('close', () => body.destroy());
  body.once('end', () => check().then(() => out.end(), (error: Error) => out.destroy(error)));
  body.pipe(out, { end: false });
  return out;
}
