/**
 * Helpers every connector's one error-mapping function uses: HTTP status -> code, temporary flag.
 * @module
 */
import { StrataError, isAbortError, redact, sanitizeCause, type StrataErrorCode } from '../errors.js';

/**
 * The HTTP status a store SDK error carries, wherever that SDK puts it (`$metadata.httpStatusCode`,
 * `statusCode`, `status`, `$response.statusCode`, a numeric `code`); `undefined` when it has none.
 */
export function httpStatusOf(error: unknown): number | undefined {
  const e = error as { $metadata?: { httpStatusCode?: unknown }; statusCode?: unknown; status?: unknown; code?: unknown; $response?: { statusCode?: unknown } } | undefined;
  for (const candidate of [e?.$metadata?.httpStatusCode, e?.statusCode, e?.status, e?.$response?.statusCode, e?.code]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  return undefined;
}

/** What an HTTP status says, for an answer that carries no message of its own. */
function statusMeaning(status: number): string {
  if (status === 401 || status === 403) return `the store refused the credentials, or they lack the permission (HTTP ${status})`;
  if (status === 404) return 'not found (HTTP 404)';
  if (status === 412) return 'the object changed (HTTP 412)';
  if (status === 429 || status === 503) return `the store asks to slow down or is unavailable (HTTP ${status})`;
  if (status >= 500) return `the store failed (HTTP ${status})`;
  return `the store answered HTTP ${status}`;
}

/**
 * The code an HTTP status maps to, and whether a retry may succeed: 400 `EINVAL`, 401/403
 * `EACCES`, 404 `ENOENT`, 408 `ETIMEDOUT` (temporary), 409 `EEXIST`, 412 `ESTALE`, 429 and 5xx
 * `EIO` (temporary), anything else `EIO`.
 */
export function codeForStatus(status: number | undefined): {
  /** The `StrataError` code the status means. */
  code: StrataErrorCode;
  /** `true` when a retry may succeed (408, 429, 5xx). */
  temporary: boolean;
} {
  switch (status) {
    case 400:
      return { code: 'EINVAL', temporary: false };
    case 401:
    case 403:
      return { code: 'EACCES', temporary: false };
    case 404:
      return { code: 'ENOENT', temporary: false };
    case 408:
      return { code: 'ETIMEDOUT', temporary: true };
    case 409:
      return { code: 'EEXIST', temporary: false };
    case 412:
      return { code: 'ESTALE', temporary: false };
    case 429:
      return { code: 'EIO', temporary: true };
    default:
      if (status !== undefined && status >= 500) return { code: 'EIO', temporary: true };
      return { code: 'EIO', temporary: false };
  }
}

/** Node/undici network error codes that mean "the connection broke, try again". */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'EHOSTUNREACH', 'ENETUNREACH']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'TimeoutError', 'RequestTimeout', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Builds a connector's `StrataError` from the pieces its SDK exposes: an HTTP status, the
 * store's error name (`NoSuchKey`, `BlobNotFound`…) looked up in `byName`, network and timeout
 * codes. Aborts are passed through unchanged so callers see an `AbortError`. Messages are
 * redacted with `secrets`. Every built-in connector maps its errors with it; a connector of your
 * own can too, so its statuses and network errors mean what they mean everywhere else:
 *
 * ```ts
 * protected mapError(error: unknown): Error {
 *   return mapStoreError(error, { byName: { NoSuchThing: 'ENOENT' }, secrets: [this.token] });
 * }
 * ```
 */
export function mapStoreError(
  error: unknown,
  options: {
    byName?: Record<string, StrataErrorCode>;
    secrets?: readonly string[];
    detail?: string;
    /** The store's name: a broken connection then reads `cannot reach <service>: connect ECONNREFUSED …`. */
    service?: string;
  } = {},
): StrataError | Error {
  if (error instanceof StrataError) return error;
  if (isAbortError(error)) return error as Error;
  const e = error as { name?: unknown; code?: unknown; Code?: unknown; message?: unknown; errno?: unknown } | undefined;
  const secrets = options.secrets ?? [];
  const names = [e?.code, e?.Code, e?.name].filter((v): v is string => typeof v === 'string');
  const cause = sanitizeCause(error, secrets);
  const sdkMessage = typeof e?.message === 'string' ? e.message.trim() : '';
  // An answer without a body (a HEAD) leaves the SDK only a bare name ('UnknownError', 'Forbidden'): say what the status means.
  const bare = sdkMessage === '' || /^[A-Za-z]+$/.test(sdkMessage);
  const status = httpStatusOf(error);
  const message = redact(options.detail ?? (bare && status !== undefined ? statusMeaning(status) : sdkMessage || (names[0] ?? 'store error')), secrets);
  for (const name of names) {
    const code = options.byName?.[name];
    if (code !== undefined) {
      return new StrataError(code, message, { cause, temporary: status !== undefined && codeForStatus(status).temporary });
    }
    if (TIMEOUT_CODES.has(name)) return new StrataError('ETIMEDOUT', message, { cause, temporary: true });
    if (NETWORK_CODES.has(name)) {
      const unreachable = options.service === undefined ? message : redact(cannotReach(options.service, error), secrets);
      return new StrataError('EIO', unreachable, { cause, temporary: true });
    }
  }
  if (status !== undefined) {
    const { code, temporary } = codeForStatus(status);
    return new StrataError(code, message, { cause, temporary });
  }
  return new StrataError('EIO', message, { cause, temporary: false });
}

/**
 * The message of a network `error` (not redacted): `cannot reach <service>: connect ECONNREFUSED
 * 127.0.0.1:9`, without the request some SDKs wrap around what broke (node-fetch's `request to
 * URL failed, reason: …`, ali-oss's `…, GET URL (agent status …)`).
 */
export function cannotReach(service: string, error: unknown): string {
  const e = error as { message?: unknown; code?: unknown } | undefined;
  const message = typeof e?.message === 'string' && e.message.trim() !== '' ? e.message.trim() : String(e?.code ?? 'connection failed');
  const reason = /reason: (.+)$/.exec(message)?.[1] ?? /^(.+?), (?:GET|HEAD|PUT|POST|DELETE) https?:\/\//.exec(message)?.[1] ?? message.split('\n')[0];
  return `cannot reach ${service}: ${reason}`;
}

/**
 * The `EIO` of a success answer that no real `service` sends: an object without an ETag, a
 * listing that is not a listing document. The endpoint is then most likely not the store (a
 * web server's page, a captive portal, a proxy), and taking the answer as an empty object or an
 * empty directory would lose data silently; `what` says what was missing.
 */
export function notTheStore(service: string, what: string): StrataError {
  return new StrataError('EIO', `the endpoint did not answer as ${service} does (${what}): is the endpoint right?`, { temporary: false });
}
