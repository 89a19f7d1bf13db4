/**
 * Exit codes of the `stratafs` command by error class, and the one line it prints on failure.
 * @module
 */
import { StrataError, isAbortError, toStrataError } from '../errors.js';

/**
 * Exit codes:
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | any other failure (`ENOSPC`, `ENOTSUP`, an unexpected error) |
 * | 2 | usage error or `EINVAL` (bad argument, bad config) |
 * | 3 | `ENOENT` |
 * | 4 | `EACCES`, `EROFS` |
 * | 5 | `EEXIST`, `ENOTEMPTY`, `EISDIR`, `ENOTDIR`, `EBUSY`, `EXDEV` |
 * | 6 | `ETIMEDOUT`, `EIO`, `ESTALE` |
 * | 130 | interrupted (Ctrl-C) |
 * | 143 | stopped by SIGTERM |
 */
export const EXIT = {
  ok: 0,
  other: 1,
  usage: 2,
  notFound: 3,
  denied: 4,
  conflict: 5,
  io: 6,
  interrupted: 130,
  terminated: 143,
} as const;

const BY_CODE: Record<string, number> = {
  EINVAL: EXIT.usage,
  ENOENT: EXIT.notFound,
  EACCES: EXIT.denied,
  EROFS: EXIT.denied,
  EEXIST: EXIT.conflict,
  ENOTEMPTY: EXIT.conflict,
  EISDIR: EXIT.conflict,
  ENOTDIR: EXIT.conflict,
  EBUSY: EXIT.conflict,
  EXDEV: EXIT.conflict,
  ETIMEDOUT: EXIT.io,
  EIO: EXIT.io,
  ESTALE: EXIT.io,
};

/** The exit code for an error code (see {@link EXIT}). */
export function exitCodeOf(code: string): number {
  return BY_CODE[code] ?? EXIT.other;
}

/** What the command reports about a failure: the exit code and the one line for stderr. */
export interface Failure {
  exitCode: number;
  line: string;
}

/**
 * The failure report of `error`: `stratafs: CODE: message (path)` (the path part only when
 * there is one) and its exit code. An abort (Ctrl-C) is `stratafs: interrupted`, 130
 * (the runner reports 143 when SIGTERM stopped the command).
 */
export function describeFailure(error: unknown): Failure {
  if (isAbortError(error)) return { exitCode: EXIT.interrupted, line: 'stratafs: interrupted' };
  const e = error instanceof StrataError ? error : toStrataError(error);
  const detail = e.detail.replace(/\s*\n\s*/g, ' ').trim();
  return { exitCode: exitCodeOf(e.code), line: `stratafs: ${e.code}: ${detail}${e.path === undefined ? '' : ` (${e.path})`}` };
}
