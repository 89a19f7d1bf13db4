/**
 * Where a `cp` argument points: a logical path of the namespace, or a local file outside it.
 * @module
 */
import { resolve } from 'node:path';
import { invalid } from '../errors.js';
import { normalizePath } from '../path.js';

/** A logical path (`/data/x`) or a local file (`file:/tmp/x`, `file:///tmp/x`). */
export type Location = { kind: 'logical'; path: string } | { kind: 'local'; path: string };

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
    return { kind: 'local', path: resolve(rest) };
  }
  if (!spec.startsWith('/')) throw invalid(`a logical path starts with '/' (a local file is written file:/abs/path): ${JSON.stringify(spec)}`);
  return { kind: 'logical', path: normalizePath(spec) };
}

/** How a location is shown in messages. */
export function showLocation(location: Location): string {
  return location.kind === 'local' ? `file:${location.path}` : location.path;
}
