/**
 * JSON forms of the metadata the shared tier stores and of the invalidations it publishes. A
 * metadata value is framed as `SFM1:<crc32 of the JSON, hex>:<JSON>`: one that is not (another
 * program's value under the same key, an older format, a flipped bit) is unreadable, a miss.
 * @module
 */
import type { ObjectInfo } from '../../store/under-store.js';
import { checksum } from '../disk/cache-file.js';
import type { Invalidation } from '../shared-tier-types.js';

interface WireInfo {
  k: string;
  s: number;
  m?: number;
  e?: string;
  d?: 1;
}

function toWire(info: ObjectInfo): WireInfo {
  const wire: WireInfo = { k: info.key, s: info.size };
  if (info.mtime) wire.m = info.mtime.getTime();
  if (info.etag !== undefined) wire.e = info.etag;
  if (info.isDirectory) wire.d = 1;
  return wire;
}

function fromWire(wire: WireInfo): ObjectInfo {
  const info: ObjectInfo = { key: wire.k, size: wire.s, isDirectory: wire.d === 1 };
  if (wire.m !== undefined) info.mtime = new Date(wire.m);
  if (wire.e !== undefined) info.etag = wire.e;
  return info;
}

/**
 * A metadata entry: the value, the mount epoch it was taken in, the TTL (ms) it was stored with,
 * and when the store gave the answer (`takenAt`, ms since the epoch by the writer's clock).
 */
export interface MetaEntry<T> {
  value: T;
  epoch: number;
  ttlMs: number;
  takenAt: number;
}

/** The marker that starts every metadata value of this format. */
const META_MARKER = 'SFM1:';

/** `json` framed with the marker and its crc32 (see the module comment). */
export function framed(json: string): string {
  return `${META_MARKER}${checksum(Buffer.from(json, 'utf8')).toString(16)}:${json}`;
}

/** The JSON of a framed value; `undefined` when the marker or the crc32 does not match. */
export function unframed(text: string): string | undefined {
  if (!text.startsWith(META_MARKER)) return undefined;
  const colon = text.indexOf(':', META_MARKER.length);
  if (colon < 0) return undefined;
  const json = text.slice(colon + 1);
  return text.slice(META_MARKER.length, colon) === checksum(Buffer.from(json, 'utf8')).toString(16) ? json : undefined;
}

/** Encodes a stat answer (`null`: known missing) taken from the store at `takenAt`. */
export function encodeStat(value: ObjectInfo | null, epoch: number, ttlMs: number, takenAt: number): string {
  return framed(JSON.stringify({ v: value === null ? null : toWire(value), p: epoch, t: ttlMs, a: takenAt }));
}

/** Encodes a directory listing taken from the store at `takenAt`. */
export function encodeList(value: ObjectInfo[], epoch: number, ttlMs: number, takenAt: number): string {
  return framed(JSON.stringify({ v: value.map(toWire), p: epoch, t: ttlMs, a: takenAt }));
}

/**
 * The fields of an entry; `undefined` when unreadable: not framed as this format writes it (see
 * the module comment), or without `a` (its age is unknown, so it is not used).
 */
function decodeEntry(text: string): { v: unknown; p: number; t: number; a: number } | undefined {
  const json = unframed(text);
  if (json === undefined) return undefined;
  try {
    const raw = JSON.parse(json) as { v?: unknown; p?: unknown; t?: unknown; a?: unknown };
    if (typeof raw !== 'object' || raw === null || typeof raw.p !== 'number' || typeof raw.t !== 'number' || !('v' in raw)) return undefined;
    if (typeof raw.a !== 'number' || !Number.isFinite(raw.a)) return undefined;
    return { v: raw.v, p: raw.p, t: raw.t, a: raw.a };
  } catch {
    return undefined;
  }
}

function isWire(value: unknown): value is WireInfo {
  const w = value as WireInfo | null;
  return typeof w === 'object' && w !== null && typeof w.k === 'string' && typeof w.s === 'number';
}

/** Decodes a stat entry (`undefined` when unreadable or without its time, see {@link MetaEntry}). */
export function decodeStat(text: string): MetaEntry<ObjectInfo | null> | undefined {
  const raw = decodeEntry(text);
  if (!raw) return undefined;
  if (raw.v !== null && !isWire(raw.v)) return undefined;
  return { value: raw.v === null ? null : fromWire(raw.v), epoch: raw.p, ttlMs: raw.t, takenAt: raw.a };
}

/** Decodes a listing entry (`undefined` when unreadable or without its time, see {@link MetaEntry}). */
export function decodeList(text: string): MetaEntry<ObjectInfo[]> | undefined {
  const raw = decodeEntry(text);
  if (!raw || !Array.isArray(raw.v) || !raw.v.every(isWire)) return undefined;
  return { value: (raw.v as WireInfo[]).map(fromWire), epoch: raw.p, ttlMs: raw.t, takenAt: raw.a };
}

/** An invalidation on the wire, with the id of the instance that sent it. */
export function encodeInvalidation(from: string, invalidation: Invalidation): string {
  return JSON.stringify({ f: from, c: invalidation.cacheId, k: invalidation.key, r: invalidation.recursive ? 1 : 0 });
}

/** Decodes an invalidation message (`undefined` when it is not one). */
export function decodeInvalidation(text: string): { from: string; invalidation: Invalidation } | undefined {
  try {
    const raw = JSON.parse(text) as { f?: unknown; c?: unknown; k?: unknown; r?: unknown };
    if (typeof raw.f !== 'string' || typeof raw.c !== 'string' || typeof raw.k !== 'string') return undefined;
    return { from: raw.f, invalidation: { cacheId: raw.c, key: raw.k, recursive: raw.r === 1 } };
  } catch {
    return undefined;
  }
}
