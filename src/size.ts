/**
 * Byte sizes: numbers or strings such as `'64MiB'`, `'1.5GB'`, `'512k'`.
 * @module
 */
import { invalid } from './errors.js';

/** A number of bytes. */
export type Bytes = number;
/** A number of milliseconds. */
export type Milliseconds = number;
/** Bytes as a number or a size string: `'1MiB'`, `'256MB'`, `'4k'` (k/M/G/T; `i` = 1024, none or `B` = 1000 for KB/MB, 1024 for K/M). */
export type SizeLike = number | string;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses a size into whole bytes (a fraction of a unit rounds down: `'1.1k'` is 1126). Throws
 * `EINVAL` naming `what` for negative, NaN, infinite, non-integral or unparsable input, a
 * fraction of a byte (`'1.5'`) included.
 */
export function parseSize(value: unknown, what = 'size'): Bytes {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be a non-negative integer number of bytes, got ${value}`);
    return value;
  }
  if (typeof value !== 'string') throw invalid(`${what} must be a number of bytes or a size string like '64MiB'`);
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const factor = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  // The text is quoted only when it looks like a size (a mistyped unit): it may be a secret otherwise.
  const shown = /^\s*[\d.]+\s*[a-zA-Z]{0,3}\s*$/.test(value) ? `: ${JSON.stringify(value)}` : '';
  if (!match || factor === undefined) throw invalid(`${what} is not a size${shown} (try '64MiB' or 1048576)`);
  // A fraction of a unit is fine ('1.5GiB'); a fraction of a byte is not.
  if (factor === 1 && match[1]!.includes('.')) throw invalid(`${what} must be a whole number of bytes${shown}`);
  const bytes = Math.floor(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw invalid(`${what} is too large${shown}`);
  return bytes;
}
