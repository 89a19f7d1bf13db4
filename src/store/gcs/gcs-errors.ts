/**
 * The GCS connector's one error mapping: an `ApiError` (or an auth / network error) becomes a
 * `StrataError` with a Node-style code, a temporary flag, and no secret.
 * @module
 */
import { StrataError, isAbortError, redact, sanitizeCause, type StrataErrorCode } from '../../errors.js';
import { httpStatusOf, mapStoreError } from '../store-errors.js';
import type { StoreCallOptions } from '../under-store.js';

/** JSON-API reasons that mean the credentials were refused. */
const AUTH_REASONS = new Set(['forbidden', 'unauthorized', 'authError', 'required', 'accessNotConfigured', 'userProjectMissing', 'insufficientPermissions']);
/** Messages of google-auth-library and OpenSSL when credentials cannot be had or used. */
const AUTH_MESSAGES = /could not load the default credentials|could not refresh access token|invalid_grant|invalid_client|unauthorized_client|DECODER routines|no key or keyFile set|PEM_read/i;
/** JSON-API reasons that say "try again later". */
const TEMPORARY_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'backendError', 'internalError']);
/**
 * How a resumable upload reports an answer its SDK would retry (5xx, 429, 408) once its own
 * retries are used up or off: a plain `Error` without the status, worth a retry all the same.
 */
const RESUMABLE_RETRY_MESSAGES = /^Retry (total time )?limit exceeded/;

/** What {@link mapGcsError} knows about the store and the call. */
export interface GcsErrorContext {
  /** The store's bucket, named when it is missing. */
  bucket: string;
  /** Secrets to remove from messages. */
  secrets: readonly string[];
  /** The call's options when the error came from a call: an abort its signal did not cause is a timeout. */
  call?: StoreCallOptions;
  /** The request was about the bucket (a listing, an upload): a 404 means the bucket is missing. */
  bucketLevel?: boolean;
  /** The key file the credentials come from, named when it cannot be read or used. */
  keyFilename?: string;
}

/** How reading a key file fails (a system error of the read). */
const KEY_FILE_FAILURES = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM']);
/** The system calls of reading a key file. */
const KEY_FILE_CALLS = new Set(['open', 'read', 'stat', 'lstat', 'fstat']);
/** google-auth-library's answer to a key file whose content is not a key. */
const UNUSABLE_KEY = /key must be a string, a buffer or an object/i;

function reasonOf(error: unknown): string | undefined {
  const errors = (error as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return undefined;
  const reason = (errors[0] as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/**
 * Maps anything the GCS SDK threw: 404 -> `ENOENT` (a missing bucket names it), 401/403 and
 * credential failures -> `EACCES`, 412 -> `ESTALE`, 409 -> `EEXIST`, 429/5xx, broken
 * connections, download hash mismatches and resumable uploads whose answer was one to retry ->
 * temporary `EIO`, timeouts -> `ETIMEDOUT`.
 * Aborts the caller asked for pass through.
 */
export function mapGcsError(error: unknown, context: GcsErrorContext): Error {
  if (error instanceof StrataError) return error;
  if (isAbortError(error)) {
    if (context.call === undefined || context.call.signal?.aborted) return error as Error;
    return new StrataError('ETIMEDOUT', 'GCS request timed out', { temporary: true });
  }
  const { secrets } = context;
  const status = httpStatusOf(error);
  const reason = reasonOf(error);
  const raw = (error as { message?: unknown } | undefined)?.message;
  const message = typeof raw === 'string' && raw.trim() !== '' ? raw.trim().split('\n')[0] : undefined;
  const make = (code: StrataErrorCode, detail: string): StrataError => new StrataError(code, redact(detail, secrets), { cause: sanitizeCause(error, secrets) });
  const { keyFilename } = context;
  if (keyFilename !== undefined && status === undefined) {
    // The key file cannot be read (it is missing, a directory, not readable) or is not a key.
    const fsError = error as { code?: unknown; path?: unknown; syscall?: unknown } | undefined;
    // Node names the path, except when reading a directory (EISDIR).
    const ofKeyFile = fsError?.path === keyFilename || (fsError?.path === undefined && fsError?.code === 'EISDIR');
    const fsCode = ofKeyFile && KEY_FILE_CALLS.has(String(fsError?.syscall)) ? fsError?.code : undefined;
    if (typeof fsCode === 'string' && KEY_FILE_FAILURES.has(fsCode)) return make('EACCES', `GCS keyFilename '${keyFilename}' cannot be read (${fsCode})`);
    if ((error instanceof SyntaxError && /JSON/.test(message ?? '')) || UNUSABLE_KEY.test(message ?? '')) return make('EACCES', `GCS keyFilename '${keyFilename}' does not hold a usable service account key`);
  }
  if (status === 404 && (context.bucketLevel || /bucket does not exist/i.test(message ?? ''))) return make('ENOENT', `bucket '${context.bucket}' does not exist`);
  if ((reason !== undefined && AUTH_REASONS.has(reason)) || AUTH_MESSAGES.test(message ?? '')) {
    return make('EACCES', `GCS refused or could not use the credentials: ${message ?? `HTTP ${status ?? '?'}`}`);
  }
  if (reason === 'conditionNotMet') return make('ESTALE', message ?? 'precondition failed');
  const mapped = mapStoreError(error, { secrets, detail: message ?? (status !== undefined ? `GCS answered HTTP ${status}` : undefined), service: 'Google Cloud Storage' });
  const code = (error as { code?: unknown } | undefined)?.code;
  const temporary = (reason !== undefined && TEMPORARY_REASONS.has(reason)) || code === 'CONTENT_DOWNLOAD_MISMATCH' || (status === undefined && RESUMABLE_RETRY_MESSAGES.test(message ?? ''));
  if (mapped instanceof StrataError && temporary) mapped.temporary = true;
  return mapped;
}
