/**
 * `file:` URIs -> a local root directory.
 * @module
 */
import { posix } from 'node:path';
import { invalid } from '../../errors.js';

/**
 * The absolute directory a `file:///abs/dir` URI names. The path's percent-encoding is decoded
 * exactly once; an encoded `/` or `\`, a NUL, a `.`/`..` segment, a query, a fragment,
 * credentials, or a host other than `localhost` is `EINVAL`.
 */
export function rootFromFileUri(uri: URL): string {
  if (uri.protocol !== 'file:') throw invalid(`not a file: URI: ${uri.protocol}`);
  if (uri.username || uri.password) throw invalid('file: URI must not carry credentials');
  if (uri.hostname !== '' && uri.hostname.toLowerCase() !== 'localhost') throw invalid(`file: URI must not name a remote host: ${uri.hostname}`);
  if (uri.port !== '') throw invalid('file: URI must not have a port');
  if (uri.search || uri.hash) throw invalid('file: URI must not have a query or a fragment');
  const raw = uri.pathname;
  if (/%(2f|5c|00)/i.test(raw)) throw invalid('file: URI path must not contain an encoded "/", "\\" or NUL');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw invalid('file: URI path is not valid percent-encoding');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) throw invalid('file: URI path must not contain control characters or backslashes');
  if (!decoded.startsWith('/')) throw invalid('file: URI path must be absolute');
  for (const segment of decoded.split('/')) {
    if (segment === '.' || segment === '..') throw invalid('file: URI path must not contain "." or ".." segments');
  }
  const root = posix.normalize(decoded);
  return root.length > 1 ? root.replace(/\/+$/, '') : root;
}
