/**
 * Byte ranges on S3: the `Range` header of a `GetObject`.
 * @module
 */
import type { ByteRange } from '../under-store.js';

/** `bytes=a-b` (or `bytes=a-` without a length); `undefined` when the whole object is wanted. */
export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined || (range.offset === 0 && range.length === undefined)) return undefined;
  return range.length === undefined ? `bytes=${range.offset}-` : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}
