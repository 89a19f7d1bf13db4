/**
 * Logical paths: validation, normalisation, and the mapping between paths and object keys.
 * @module
 */
import { invalid } from './errors.js';

// Paths with surrogates (emoji…) take the slow path, which checks that they are well formed.
// eslint-disable-next-line no-control-regex
const NORMAL_PATH = /^(?:\/[^/.\u0000-\u001f\u007f\\\ud800-\udfff][^/\u0000-\u001f\u007f\\\ud800-\udfff]*)+$/;
/** A UTF-16 surrogate without its pair: no store can encode it (each turns it into U+FFFD, or fails). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Longest logical path accepted, in UTF-16 code units. */
export const MAX_PATH_LENGTH = 4096;
/** Longest single path component accepted (most stores stop at 1,024 bytes per key). */
export const MAX_NAME_LENGTH = 1024;

/**
 * Validates and normalises a logical path: absolute POSIX, `//` and `.` collapse, `..` resolves
 * lexically and never climbs above `/`, a trailing `/` is dropped (whether the path named a
 * directory by it is {@link namesDirectory}'s to tell). Throws `EINVAL` for a
 * non-string, empty, relative, NUL-bearing, backslash-bearing, over-long or ill-formed
 * (lone surrogate) path.
 */
export function normalizePath(path: unknown, op?: string): string {
  // Fast path: already normal (no empty, '.'-leading or over-long segment, no control characters).
  if (typeof path === 'string' && path.length <= 256 && NORMAL_PATH.test(path)) return path;
  if (typeof path !== 'string') throw invalid(`path must be a string, got ${describe(path)}`, { op });
  if (path.length === 0) throw invalid('path must not be empty', { op });
  if (path.length > MAX_PATH_LENGTH) throw invalid(`path is longer than ${MAX_PATH_LENGTH} characters`, { op });
  if (!path.startsWith('/')) throw invalid(`path must be absolute (start with '/'): ${JSON.stringify(path)}`, { op });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw invalid('path must not contain NUL or control characters', { op });
  if (path.includes('\\')) throw invalid('path must not contain a backslash', { op });
  if (LONE_SURROGATE.test(path)) throw invalid('path is not well-formed Unicode (a lone surrogate)', { op });
  const parts: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      parts.pop();
      continue;
    }
    if (segment.length > MAX_NAME_LENGTH) throw invalid(`path component is longer than ${MAX_NAME_LENGTH} characters`, { op });
    parts.push(segment);
  }
  return '/' + parts.join('/');
}

/**
 * True when a path as given (before {@link normalizePath}) names a directory by its ending, `/`
 * or `/.` (not `/` itself): such a path of a file is `ENOTDIR`, as in Node's `fs`.
 */
export function namesDirectory(path: string): boolean {
  return path.length > 1 && (path.endsWith('/') || path.endsWith('/.'));
}

/** The parent of a normalised path (`/` for `/`). */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last component of a normalised path (`''` for `/`). */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins a normalised directory path and a relative name (`a/b` allowed). */
export function joinPath(dir: string, name: string): string {
  if (name === '') return dir;
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** True when `path` is `ancestor` itself or lies below it (both normalised). */
export function isSameOrBelow(path: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  return path === ancestor || path.startsWith(ancestor + '/');
}

/** The path of `path` relative to `ancestor` (no leading `/`; `''` when equal). */
export function relativeTo(path: string, ancestor: string): string {
  if (path === ancestor) return '';
  return ancestor === '/' ? path.slice(1) : path.slice(ancestor.length + 1);
}

/** Joins object-key parts with `/`, skipping empty ones (`joinKey('a', '', 'b') === 'a/b'`). */
export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** The parent key of a key (`''` at the root). */
export function parentKey(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

/**
 * Normalises a key prefix from a URI or a setting: no leading or trailing `/`, no empty, `.` or
 * `..` segments. Throws `EINVAL` otherwise.
 */
export function normalizePrefix(prefix: unknown, what = 'prefix'): string {
  if (prefix === undefined || prefix === null || prefix === '') return '';
  if (typeof prefix !== 'string') throw invalid(`${what} must be a string, got ${describe(prefix)}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(prefix)) throw invalid(`${what} must not contain control characters or backslashes`);
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw invalid(`${what} has an empty, '.' or '..' segment: ${JSON.stringify(prefix)}`);
  }
  return trimmed;
}

/**
 * Checks a key handed to a store: relative, no empty/`.`/`..` segments, no NUL. Stores call it
 * to make sure nothing below the facade can produce a key that escapes the mount. A key may
 * end in `/` (a directory marker).
 */
export function assertSafeKey(key: string): void {
  if (typeof key !== 'string') throw invalid(`key must be a string, got ${describe(key)}`);
  if (key === '') return;
  if (key.startsWith('/')) throw invalid(`key must be relative: ${JSON.stringify(key)}`);
  if (LONE_SURROGATE.test(key)) throw invalid('key is not well-formed Unicode (a lone surrogate)');
  const body = key.endsWith('/') ? key.slice(0, -1) : key;
  for (const segment of body.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('\0') || segment.includes('\\')) {
      throw invalid(`key has an empty, '.', '..', NUL or backslash segment: ${JSON.stringify(key)}`);
    }
  }
}

/**
 * True when a logical path can name `key`, as a listing reports it: {@link assertSafeKey} accepts
 * it, it has no control characters, and it does not end in `/` (a listed key never does: the
 * `t/` left of a key `t//` made outside stratafs has an empty last segment).
 */
export function isSafeKey(key: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key) || key.endsWith('/')) return false;
  try {
    assertSafeKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directory of a key no logical path can name (`a/b//c`, `t//`, `d/../x`) that one can:
 * its leading segments up to the first one {@link isSafeKey} refuses, the key's own last
 * segment excluded (`a/b`, `t`, `d`). `''` when the first segment is already refused.
 */
export function nameableDirOf(key: string): string {
  const segments = key.split('/');
  const kept: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    // `''` passes isSafeKey (it is the root's key) but is no name: `a//b` makes `a`, not `a/`.
    if (segment === '' || !isSafeKey(segment)) break;
    kept.push(segment);
  }
  return kept.join('/');
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'string') return 'a string'; // never its text: it may be a secret (a config's ${VAR})
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value).slice(0, 40)}`;
}

/**
 * True when a listed key is a safe direct child of the directory key `dir`: a store's listing is
 * not trusted to name only what a logical path can name (`../x`, `a//b`, control characters).
 */
export function isChildKey(key: string, dir: string): boolean {
  if (typeof key !== 'string') return false;
  const name = dir === '' ? key : key.startsWith(dir + '/') ? key.slice(dir.length + 1) : '';
  if (name === '' || name.includes('/')) return false;
  return isSafeKey(key);
}

/**
 * The direct child of the directory key `dir` that `key` lies in or is
 * (`childKeyToward('a/b/c', 'a') === 'a/b'`); `undefined` when `key` is not below `dir`.
 */
export function childKeyToward(key: string, dir: string): string | undefined {
  if (key === dir || !isKeyAtOrBelow(key, dir)) return undefined;
  const start = dir === '' ? 0 : dir.length + 1;
  const end = key.indexOf('/', start);
  return end < 0 ? key : key.slice(0, end);
}

/** Whether store key `key` is `dir` or below it (every key is below the root, `''`). */
export function isKeyAtOrBelow(key: string, dir: string): boolean {
  return dir === '' || key === dir || key.startsWith(dir + '/');
}
