/**
 * Where a `cp` argument points: a logical path of the namespace, or a local file outside it.
 * @module
 */
import { resolve } from 'node:path';
import { invalid } from '../errors.js';
import { namesDirectory, normalizePath } from '../path.js';

/**
 * A logical path (`/data/x`) or a local file (`file:/tmp/x`, `file:///tmp/x`); `asDirectory` when
 * it was written with a trailing `/` (it names a directory).
 */
export type Location = { kind: 'logical' | 'local'; path: string; asDirectory?: boolean };

/**
 * Parses a command-line location. `file:/abs/path` and `file:///abs/path` (also `file:rel/path`,
 * relative to the working directory) are local files; the rest after `file:` is taken literally,
 * with no percent-decoding. Anything else must be an absolute logical path (`EINVAL` otherwise).
 */
export function parseLocation(spec: string): Location {
  if (/^file:/i.test(spec)) {
    let rest = spec.slice('file:'.length);
    if (rest.startsWith('//')) {
      rest = rest.slice(2);
      if (rest.toLowerCase().startsWith('localhost/')) rest = rest.slice('localhost'.length);
      if (!rest.startsWith('/')) throw invalid(`a local path is file:/abs/path or file:///abs/path, not a host: ${JSON.stringify(spec)}`);
    }
    if (rest === '' || rest.includes('\0')) throw invalid(`not a local path: ${JSON.stringify(spec)}`);
    return withEnding({ kind: 'local', path: resolve(rest) }, rest);
  }
  if (!spec.startsWith('/')) throw invalid(`a logical path starts with '/' (a local file is written file:/abs/path): ${JSON.stringify(spec)}`);
  return withEnding({ kind: 'logical', path: normalizePath(spec) }, spec);
}

/** `location`, marked `asDirectory` when it was `written` with a trailing `/` (or `/.`). */
function withEnding(location: Location, written: string): Location {
  return namesDirectory(written) ? { ...location, asDirectory: true } : location;
}

/** How a location is shown in messages. */
export function showLocation(location: Location): string {
  return location.kind === 'local' ? `file:${location.path}` : location.path;
}
