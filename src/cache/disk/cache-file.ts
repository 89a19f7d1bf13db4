/**
 * The format of the files in a disk cache dir. A page file or a journal data file holds the
 * data first (so a page can be read at its own offsets), then a trailer that describes it:
 * `[data][JSON meta][u32 LE meta length][u32 LE magic]`. The trailer makes every file
 * self-describing, so the index can be rebuilt from the files alone when it is lost.
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { PRIVATE_FILE_MODE } from './disk-cache-dir.js';
import * as zlib from 'node:zlib';

/** Magic number ending a page file (`SFP1`). */
export const PAGE_MAGIC = 0x31504653;
/** Magic number ending a journal data file (`SFJ1`). */
export const JOURNAL_MAGIC = 0x314a4653;
/** Longest trailer accepted when reading one back (keys are bounded; anything longer is damage). */
const MAX_META_BYTES = 1 << 20;

/** What a page file's trailer says about its page. */
export interface PageFileMeta {
  /** The index key of the page (page size + page key). */
  key: string;
  /** Object id (see `objectId`). */
  object: string;
  /** Object version. */
  version: string;
  /** Page size of the cache that wrote it. */
  pageSize: number;
  /** Page index. */
  index: number;
  /** Data bytes. */
  size: number;
  /** crc32 of the data. */
  crc: number;
}

/** What a journal data file's trailer says about its pending write. */
export interface JournalFileMeta {
  /** Journal id. */
  id: string;
  /** Mount cache id. */
  cacheId: string;
  /** Object key. */
  key: string;
  /** Data bytes. */
  size: number;
  /** Stage time, ms since the epoch. */
  mtime: number;
  /** Write mode. */
  mode: 'ASYNC_THROUGH' | 'MUST_CACHE';
  /** crc32 of the data. */
  crc: number;
  /** Order of stages within one millisecond of one process. */
  order: number;
}

/** crc32 of `data`, continuing from the crc32 of what came before it when given (zlib's, hardware-assisted where the CPU has it). */
export const checksum: (data: Uint8Array, previous?: number) => number = (() => {
  const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (typeof native === 'function') return (data: Uint8Array, previous = 0) => native(data, previous);
  return crc32Fallback;
})();

let crcTable: Uint32Array | undefined;

/** Table-driven crc32, only for Node versions whose zlib lacks `crc32`. */
function crc32Fallback(data: Uint8Array, previous = 0): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Builds the trailer that follows the data in a cache file. */
export function encodeTrailer(meta: PageFileMeta | JournalFileMeta, magic: number): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const trailer = Buffer.allocUnsafe(json.length + 8);
  json.copy(trailer, 0);
  trailer.writeUInt32LE(json.length, json.length);
  trailer.writeUInt32LE(magic, json.length + 4);
  return trailer;
}

/**
 * Reads a cache file's trailer (synchronously: only used while rebuilding the index).
 * `undefined` when the file is too short, has the wrong magic, or its trailer does not parse or
 * does not match the data length.
 */
export function readTrailerSync<T extends PageFileMeta | JournalFileMeta>(path: string, magic: number): T | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const total = fstatSync(fd).size;
    if (total < 8) return undefined;
    const tail = Buffer.alloc(8);
    if (readSync(fd, tail, 0, 8, total - 8) !== 8) return undefined;
    if (tail.readUInt32LE(4) !== magic) return undefined;
    const metaLength = tail.readUInt32LE(0);
    if (metaLength > MAX_META_BYTES || metaLength > total - 8) return undefined;
    const json = Buffer.alloc(metaLength);
    if (readSync(fd, json, 0, metaLength, total - 8 - metaLength) !== metaLength) return undefined;
    const meta = JSON.parse(json.toString('utf8')) as T;
    if (typeof meta !== 'object' || meta === null || meta.size !== total - 8 - metaLength) return undefined;
    return meta;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** crc32 of the first `size` bytes of a file, read synchronously in chunks (index rebuild only). */
export function fileChecksumSync(path: string, size: number): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const chunk = Buffer.allocUnsafe(Math.min(Math.max(size, 1), 4 << 20));
    let crc = 0;
    const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
    if (typeof native !== 'function') {
      const all = Buffer.allocUnsafe(size);
      if (readSync(fd, all, 0, size, 0) !== size) return undefined;
      return crc32Fallback(all);
    }
    for (let position = 0; position < size; ) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - position), position);
      if (n <= 0) return undefined;
      crc = native(chunk.subarray(0, n), crc);
      position += n;
    }
    return crc;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` then `trailer` to a new file (fails if it exists); `sync` fsyncs it before closing. */
export async function writeCacheFile(path: string, data: Uint8Array, trailer: Buffer, sync: boolean): Promise<void> {
  const handle = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    const total = data.length + trailer.length;
    let written = (await handle.writev([data, trailer])).bytesWritten;
    // writev may write less than asked (rare, very large buffers): finish with plain writes.
    while (written < total) {
      const [source, at] = written < data.length ? [data, written] : [trailer, written - data.length];
      const { bytesWritten } = await handle.write(source, at, source.length - at, written);
      written += bytesWritten;
    }
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Streams `chunks` to a new file (fails if it exists), then the trailer `trailerOf` builds from
 * the data's size and crc32; `sync` fsyncs it before closing. Resolves with that size and crc32.
 * An error of `chunks` (or of `trailerOf`) is thrown as it is; the caller removes the file.
 */
export async function streamCacheFile(
  path: string,
  chunks: AsyncIterable<Uint8Array>,
  trailerOf: (size: number, crc: number) => Buffer,
  sync: boolean,
): Promise<{ size: number; crc: number }> {
  const handle = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    let size = 0;
    let crc = 0;
    for await (const chunk of chunks) {
      crc = checksum(chunk, crc);
      await writeAll(handle, chunk, size);
      size += chunk.length;
    }
    await writeAll(handle, trailerOf(size, crc), size);
    if (sync) await handle.sync();
    return { size, crc };
  } finally {
    await handle.close();
  }
}

/** Writes all of `data` at `position` (a write may take less than asked). */
async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Replaces the trailer of a cache file whose data is its first `size` bytes, and fsyncs it (the
 * data is not touched).
 */
export async function rewriteTrailer(path: string, size: number, trailer: Buffer): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(size);
    await writeAll(handle, trailer, size);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
