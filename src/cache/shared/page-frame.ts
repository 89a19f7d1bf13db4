/**
 * The form of a page value in Redis: a 12-byte header, then the page.
 *
 * ```
 * offset 0  u32 BE  PAGE_FRAME_MAGIC (format marker, 'SFP1')
 * offset 4  u32 BE  page length in bytes
 * offset 8  u32 BE  crc32 of the page
 * offset 12         the page
 * ```
 *
 * A value that does not decode (another program's data under the key prefix, a value of an
 * older format, a damaged one) is never served as file bytes: readers treat it as a miss.
 * @module
 */
import { checksum } from '../disk/cache-file.js';

/** Format marker of a page value ('SFP1'); a new layout gets a new number. */
export const PAGE_FRAME_MAGIC = 0x53465031;
/** Bytes before the page in a page value. */
export const PAGE_FRAME_HEADER = 12;

/**
 * The value to store in Redis for `page`: header then page (one copy of the page, the one the
 * value needs anyway).
 */
export function encodePageFrame(page: Buffer): Buffer {
  const header = Buffer.allocUnsafe(PAGE_FRAME_HEADER);
  header.writeUInt32BE(PAGE_FRAME_MAGIC, 0);
  header.writeUInt32BE(page.length, 4);
  header.writeUInt32BE(checksum(page), 8);
  return Buffer.concat([header, page], PAGE_FRAME_HEADER + page.length);
}

/**
 * The page in a value read from Redis, as a view of `value` (no copy); `undefined` when the
 * value is not an intact page value (wrong magic, wrong length or wrong crc32).
 */
export function decodePageFrame(value: Buffer): Buffer | undefined {
  if (value.length < PAGE_FRAME_HEADER) return undefined;
  if (value.readUInt32BE(0) !== PAGE_FRAME_MAGIC) return undefined;
  if (value.readUInt32BE(4) !== value.length - PAGE_FRAME_HEADER) return undefined;
  const page = value.subarray(PAGE_FRAME_HEADER);
  return checksum(page) === value.readUInt32BE(8) ? page : undefined;
}
