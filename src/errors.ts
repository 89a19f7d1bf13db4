/**
 * The one error type of stratafs, its codes, and the helpers that turn a store's error into it.
 * @module
 */
import { whenAborted } from './abort-listeners.js';

/**
 * Every code a {@link StrataError} can carry. They mean what they mean in Node's `fs`:
 * - `ENOENT` no such file or directory; `EEXIST` already exists; `ENOTDIR` a path component is a file;
 * - `EISDIR` a file operation on a directory; `ENOTEMPTY` directory not empty;
 * - `EROFS` read-only mount or the synthetic namespace; `EXDEV` rename across mounts;
 * - `EBUSY` unmount or remove a mount point that holds mounts; `EINVAL` bad argument;
 * - `EACCES` the store refused the credentials, or a path tried to leave its mount;
 * - `ETIMEDOUT` a store request took longer than `timeout`; `ESTALE` an open handle's version is gone;
 * - `ENOSPC` cache full for data that may not be evicted; `ENOTSUP` the store lacks the capability;
 * - `EIO` anything else from a store, after retries.
 */
export const ERROR_CODES = [
  'ENOENT',
  'EEXIST',
  'ENOTDIR',
  'EISDIR',
  'ENOTEMPTY',
  'EROFS',
  'EXDEV',
  'EBUSY',
  'EINVAL',
  'EACCES',
  'ETIMEDOUT',
  'ESTALE',
  'ENOSPC',
  'ENOTSUP',
  'EIO',
] as const;

/** One of {@link ERROR_CODES}. */
export type StrataErrorCode = (typeof ERROR_CODES)[number];

const DESCRIPTIONS: Record<StrataErrorCode, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'illegal operation on a directory',
  ENOTEMPTY: 'directory not empty',
  EROFS: 'read-only file system',
  EXDEV: 'cross-mount rename not permitted',
  EBUSY: 'resource busy',
  EINVAL: 'invalid argument',
  EACCES: 'permission denied',
  ETIMEDOUT: 'operation timed out',
  ESTALE: 'stale file handle',
  ENOSPC: 'no space left in cache',
  ENOTSUP: 'operation not supported by the store',
  EIO: 'input/output error',
};

/** Context that {@link StrataError} carries besides its code. */
export interface StrataErrorContext {
  /** The logical path the operation was about. */
  path?: string;
  /** The operation, like Node's `syscall`: `'stat'`, `'read'`, `'write'`… */
  op?: string;
  /** The mount point the path resolved to. */
  mount?: string;
  /** The store's original error (secrets removed). */
  cause?: unknown;
  /**
   * True when retrying the same request may succeed (throttling, 5xx, a reset connection).
   * Read by the retry layer; never set on errors a caller made.
   */
  temporary?: boolean;
}

/** Marks every {@link StrataError}, shared by all copies of stratafs in a process (`Symbol.for`). */
const STRATA_ERROR = Symbol.for('stratafs.StrataError');

/**
 * Every failure of stratafs. `code` is a Node-style string (see {@link ERROR_CODES}),
 * `path`, `op` and `mount` say where it happened, `cause` holds the store's own error.
 * Messages look like Node's: `ENOENT: no such file or directory, stat '/a/b'`.
 *
 * `instanceof StrataError` holds for a `StrataError` of any copy of stratafs in the process: a
 * connector that gets the CommonJS build while the application imports the ES module (or that
 * bundles its own copy) throws errors the facade still reads, `temporary` flag included.
 */
export class StrataError extends Error {
  /** True for a `StrataError` made by any copy of stratafs (see the class comment). */
  static override [Symbol.hasInstance](value: unknown): value is StrataError {
    if (this !== StrataError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [STRATA_ERROR]?: unknown })[STRATA_ERROR] === true;
  }

  /** The error code, e.g. `'ENOENT'`. */
  readonly code: StrataErrorCode;
  /** The logical path, when there is one. */
  path?: string;
  /** The operation that failed (`'stat'`, `'read'`, …). */
  op?: string;
  /** The mount point the path resolved to, when it was resolved. */
  mount?: string;
  /** True when the retry layer may try the request again. */
  temporary: boolean;
  /** The detail given when the error was made, without the code and path decoration. */
  readonly detail: string;

  constructor(code: StrataErrorCode, detail?: string, context: StrataErrorContext = {}) {
    const text = detail ?? DESCRIPTIONS[code];
    super(formatMessage(code, text, context.op, context.path), context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'StrataError';
    this.code = code;
    this.detail = text;
    this.path = context.path;
    this.op = context.op;
    this.mount = context.mount;
    this.temporary = context.temporary ?? false;
    Object.defineProperty(this, STRATA_ERROR, { value: true });
  }

  /** Adds the path/op/mount context once, where the facade knows it; returns `this`. */
  withContext(context: Pick<StrataErrorContext, 'path' | 'op' | 'mount'>): this {
    if (this.path === undefined && context.path !== undefined) this.path = context.path;
    if (this.op === undefined && context.op !== undefined) this.op = context.op;
    if (this.mount === undefined && context.mount !== undefined) this.mount = context.mount;
    this.message = formatMessage(this.code, this.detail, this.op, this.path);
    return this;
  }
}

function formatMessage(code: string, detail: string, op?: string, path?: string): string {
  let message = `${code}: ${detail}`;
  if (op !== undefined) message += `, ${op}`;
  if (path !== undefined) message += ` '${path}'`;
  return message;
}

/** True when `value` is one of {@link ERROR_CODES}. */
export function isErrorCode(value: unknown): value is StrataErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Shorthand for an `EINVAL` about a caller's argument. */
export function invalid(detail: string, context: StrataErrorContext = {}): StrataError {
  return new StrataError('EINVAL', detail, context);
}

/** True when an error says a retry may succeed (see {@link StrataErrorContext.temporary}). */
export function isTemporary(error: unknown): boolean {
  return error instanceof StrataError && error.temporary;
}

/** True when `error` is (or wraps) an abort caused by an `AbortSignal`. */
export function isAbortError(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | undefined;
  return e?.name === 'AbortError' || e?.code === 'ABORT_ERR';
}

/** The error an aborted call fails with, as in Node's `fs`: an `AbortError` (code `ABORT_ERR`) whose `cause` is the signal's reason. */
export function abortError(signal: AbortSignal): Error {
  return newAbortError(signal.reason);
}

/** `error` when it is an `AbortError` as Node's `fs` throws them (code `ABORT_ERR`), else such an error caused by it (an SDK's or a `DOMException`). */
export function asAbortError(error: unknown): Error {
  return (error as { code?: unknown })?.code === 'ABORT_ERR' && error instanceof Error ? error : newAbortError(error);
}

function newAbortError(cause: unknown): Error {
  const error = Object.assign(new Error('the operation was aborted', { cause }), { code: 'ABORT_ERR' });
  error.name = 'AbortError';
  return error;
}

/** `promise`'s outcome, or an {@link abortError} as soon as `signal` fires (`promise` is then left to run, unobserved). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const stop = whenAborted(signal, () => reject(abortError(signal)));
    promise.then(
      (value) => {
        stop();
        resolve(value);
      },
      (error: unknown) => {
        stop();
        reject(error);
      },
    );
  });
}

/** Throws {@link abortError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Node `fs`/`net` codes that mean the same thing as ours. */
const NODE_CODE_MAP: Record<string, StrataErrorCode> = {
  ENOENT: 'ENOENT',
  EEXIST: 'EEXIST',
  ENOTDIR: 'ENOTDIR',
  EISDIR: 'EISDIR',
  ENOTEMPTY: 'ENOTEMPTY',
  EROFS: 'EROFS',
  EXDEV: 'EXDEV',
  EBUSY: 'EBUSY',
  EINVAL: 'EINVAL',
  EACCES: 'EACCES',
  EPERM: 'EACCES',
  ELOOP: 'EACCES',
  ETIMEDOUT: 'ETIMEDOUT',
  ESTALE: 'ESTALE',
  ENOSPC: 'ENOSPC',
  ENOTSUP: 'ENOTSUP',
  EOPNOTSUPP: 'ENOTSUP',
  ENAMETOOLONG: 'EINVAL',
};

/** What a Node code folded into another of ours meant: the message says it, not only what it became. */
const FOLDED_NODE_CODES: Record<string, string> = {
  EPERM: 'operation not permitted (EPERM)',
  ELOOP: 'too many levels of symbolic links (ELOOP)',
  EOPNOTSUPP: 'operation not supported (EOPNOTSUPP)',
  ENAMETOOLONG: 'a name in the path is too long for the store (ENAMETOOLONG)',
};

/**
 * Failures that a retry may cure: network failures, and the process (`EMFILE`) or the system
 * (`ENFILE`) out of file descriptors for a moment, which ends as other reads close theirs.
 */
const TEMPORARY_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_BODY_TIMEOUT', 'ESOCKETTIMEDOUT', 'EMFILE', 'ENFILE']);

/**
 * Turns anything a store threw into a {@link StrataError}: a `StrataError` stays as it is, an
 * error with a Node-style `code` keeps that code, network resets become temporary `EIO`,
 * aborts stay aborts, anything else becomes `EIO`. Secrets are removed from the message and cause.
 */
export function toStrataError(error: unknown, context: StrataErrorContext = {}, secrets: readonly string[] = []): StrataError {
  if (error instanceof StrataError) return error.withContext(context);
  const e = error as { code?: unknown; message?: unknown; name?: unknown } | undefined;
  const nodeCode = typeof e?.code === 'string' ? e.code : undefined;
  const cause = sanitizeCause(error, secrets);
  if (nodeCode !== undefined && NODE_CODE_MAP[nodeCode] !== undefined) {
    const code = NODE_CODE_MAP[nodeCode];
    return new StrataError(code, FOLDED_NODE_CODES[nodeCode], { ...context, cause, temporary: code === 'ETIMEDOUT' });
  }
  const temporary = nodeCode !== undefined && TEMPORARY_NODE_CODES.has(nodeCode);
  return new StrataError('EIO', redact(describeThrown(error), secrets), { ...context, cause, temporary });
}

/**
 * What a thrown value says, for a message: an error's `message`, a thrown string itself, else
 * what the value is (`{ code: 403 }` is "the store failed (code 403)", not "[object Object]").
 */
function describeThrown(error: unknown): string {
  const e = error as { message?: unknown; code?: unknown; status?: unknown; statusCode?: unknown } | null | undefined;
  if (typeof e?.message === 'string') return e.message;
  if (typeof error === 'string') return error;
  if (error === null || typeof error !== 'object') return `the store failed with ${String(error)}`;
  const code = [e!.code, e!.status, e!.statusCode].find((c) => typeof c === 'string' || typeof c === 'number');
  return code === undefined ? 'the store failed with a value that is not an Error' : `the store failed (code ${String(code)})`;
}

/**
 * Replaces every occurrence of each secret in `text` with `***`, and strips the usual
 * credential-bearing patterns (SAS signatures, AWS signatures, bearer tokens) even when the
 * secret itself was not passed.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out
    .replace(/([?&](?:sig|signature|x-amz-signature|x-amz-security-token|x-goog-signature|se|sv|sp|spr|st|srt|ss|skoid|sktid|skt|ske|sks|skv)=)[^&\s"']+/gi, '$1***')
    .replace(/(Signature=)[0-9a-f]+/gi, '$1***')
    .replace(/(Bearer\s+)[\w.~+/=-]+/gi, '$1***')
    .replace(/(AccountKey=)[^;\s"']+/gi, '$1***')
    .replace(/(SharedAccessSignature=)[^;\s"']+/gi, '$1***')
    .replace(/(q-signature=)[0-9a-f]+/gi, '$1***')
    .replace(/(OSS\s+[^:\s]+:)[\w+/=]+/g, '$1***');
}

/**
 * A copy of a store's error that is safe to show: same name, code, status and message
 * (redacted), without request objects, headers or credentials.
 */
export function sanitizeCause(error: unknown, secrets: readonly string[] = []): Error | undefined {
  if (error === undefined || error === null) return undefined;
  const e = error as { name?: unknown; message?: unknown; code?: unknown; statusCode?: unknown; status?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const safe = new Error(redact(describeThrown(error), secrets)) as Error & { code?: unknown; statusCode?: unknown };
  if (typeof e.name === 'string') safe.name = e.name;
  if (e.code !== undefined && (typeof e.code === 'string' || typeof e.code === 'number')) safe.code = e.code;
  const status = e.$metadata?.httpStatusCode ?? e.statusCode ?? e.status;
  if (typeof status === 'number') safe.statusCode = status;
  safe.stack = undefined;
  return safe;
}
