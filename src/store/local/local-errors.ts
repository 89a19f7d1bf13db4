/**
 * The local connector's one error-mapping function, and the error it raises when a key would
 * leave the store's root.
 * @module
 */
import { StrataError, isAbortError, toStrataError } from '../../errors.js';

/**
 * Turns what `node:fs` (or the connector itself) threw into a {@link StrataError} that keeps the
 * Node code (`ENOENT`, `ENOTDIR`, `EISDIR`, `ENOTEMPTY`, `EACCES`…). Aborts pass through
 * unchanged so callers see an `AbortError`; a `StrataError` stays as it is.
 */
export function mapLocalError(error: unknown, op?: string): Error {
  if (error instanceof StrataError) return op === undefined ? error : error.withContext({ op });
  if (isAbortError(error)) return error as Error;
  return toStrataError(error, op === undefined ? {} : { op });
}

/** `EACCES`: the key resolves (through a symbolic link) to a place outside the store's root. */
export function outsideRoot(op?: string): StrataError {
  return new StrataError('EACCES', 'path resolves outside the store root', op === undefined ? {} : { op });
}

/** The `code` of a Node error, if any. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
