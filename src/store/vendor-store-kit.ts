/**
 * What the Aliyun OSS and Tencent COS connectors share beyond {@link ObjectStoreBase} (and the
 * URI, SDK-loading and stream helpers all cloud connectors share): typed settings, credentials
 * from the environment, response headers as a {@link RawObject}, the error table both services
 * use, ranged reads of empty objects, and a multipart upload driver that never leaves a partial
 * object.
 * @module
 */
import { Readable } from 'node:stream';
import { StrataError, invalid, type StrataErrorCode } from '../errors.js';
import { checkSettingNames } from './bucket-uri.js';
import type { RawObject, RawWriteResult } from './object-store-base.js';
import { httpStatusOf, mapStoreError } from './store-errors.js';
import type { StoreSettings } from './under-store.js';

/** Bytes, as a plain number. */
export type Bytes = number;

/** The type a setting must have (checked at run time, values are never echoed). */
export type SettingKind = 'string' | 'boolean' | 'number' | 'object';

/**
 * Checks a connector's settings against `spec`: every name must be known (see
 * {@link checkSettingNames}) and every defined value of its kind. `EINVAL` names the setting,
 * never its value (which may be a secret).
 */
export function checkSettings(connector: string, settings: unknown, spec: Readonly<Record<string, SettingKind>>): StoreSettings {
  const record = checkSettingNames(settings, Object.keys(spec), connector);
  for (const [key, value] of Object.entries(record)) {
    const kind = spec[key];
    if (value === undefined || kind === undefined) continue;
    const ok = kind === 'object' ? typeof value === 'object' && value !== null : kind === 'string' ? typeof value === 'string' && value !== '' : typeof value === kind;
    if (!ok) throw invalid(`${connector} setting '${key}' must be a ${kind === 'string' ? 'non-empty string' : kind}`);
  }
  return record;
}

/** `scheme://bucket/prefix` with the prefix's segments URL-encoded (`scheme://bucket` at the root). */
export function storeUri(scheme: string, bucket: string, prefix: string): string {
  return `${scheme}://${bucket}${prefix === '' ? '' : '/' + prefix.split('/').map(encodeURIComponent).join('/')}`;
}

/** The first non-empty environment variable of `names`. */
export function fromEnv(...names: string[]): string | undefined {
  for (const name of names) {
    const value = process.env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** Response headers as Node gives them (lower-case names). */
export type ResponseHeaders = Readonly<Record<string, string | string[] | number | undefined>>;

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value[0];
  return value === undefined ? undefined : String(value);
}

/** A HEAD response's `content-length`, `etag` and `last-modified` as a {@link RawObject}. */
export function rawObjectFromHeaders(key: string, headers: ResponseHeaders): RawObject {
  const modified = header(headers, 'last-modified');
  const mtime = modified === undefined ? undefined : new Date(modified);
  return {
    key,
    size: Number(header(headers, 'content-length') ?? 0),
    etag: unquote(header(headers, 'etag')),
    mtime: mtime === undefined || Number.isNaN(mtime.getTime()) ? undefined : mtime,
  };
}

/** A listing entry's fields (strings as the SDKs parse XML) as a {@link RawObject}. */
export function rawObjectFromListing(key: string, size: string | number | undefined, lastModified: string | undefined, etag: string | undefined): RawObject {
  const mtime = lastModified === undefined ? undefined : new Date(lastModified);
  return { key, size: Number(size ?? 0), etag: unquote(etag), mtime: mtime === undefined || Number.isNaN(mtime.getTime()) ? undefined : mtime };
}

function unquote(etag: string | undefined): string | undefined {
  if (etag === undefined || etag === '') return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Error names OSS and COS share (they both speak S3's XML errors). */
const SHARED_ERROR_NAMES: Readonly<Record<string, StrataErrorCode>> = {
  NoSuchKey: 'ENOENT',
  NoSuchBucket: 'ENOENT',
  NoSuchUpload: 'ENOENT',
  AccessDenied: 'EACCES',
  SignatureDoesNotMatch: 'EACCES',
  InvalidAccessKeyId: 'EACCES',
  InvalidSecurityToken: 'EACCES',
  SecurityTokenExpired: 'EACCES',
  RequestTimeTooSkewed: 'EACCES',
  RequestTimeout: 'ETIMEDOUT',
  InvalidRange: 'EINVAL',
};

/** Throttling and server-side failures: worth a retry whatever the status says. */
const TEMPORARY_NAMES = new Set(['SlowDown', 'Throttling', 'TooManyRequests', 'RequestRateLimitExceeded', 'ServiceUnavailable', 'InternalError', 'RequestTimeout']);

/** What {@link mapVendorError} needs to know about the connector. */
export interface VendorErrorContext {
  /** The bucket, named in `NoSuchBucket` errors. */
  bucket: string;
  /** Secrets to strip from messages and causes. */
  secrets: readonly string[];
  /** The SDK's own error names (e.g. its timeout errors) on top of the shared table. */
  names?: Readonly<Record<string, StrataErrorCode>>;
}

/**
 * Maps an OSS/COS SDK error with {@link mapStoreError} and the shared table: missing key or
 * bucket -> `ENOENT` (naming the bucket), refused credentials -> `EACCES`, throttling and 5xx
 * -> temporary, timeouts -> `ETIMEDOUT`. Aborts pass through.
 */
export function mapVendorError(error: unknown, context: VendorErrorContext): Error {
  const names = [(error as { code?: unknown })?.code, (error as { Code?: unknown })?.Code].filter((v): v is string => typeof v === 'string');
  const noBucket = names.includes('NoSuchBucket');
  const mapped = mapStoreError(error, {
    byName: { ...SHARED_ERROR_NAMES, ...context.names },
    secrets: context.secrets,
    detail: noBucket ? `bucket '${context.bucket}' does not exist (NoSuchBucket)` : undefined,
  });
  if (mapped instanceof StrataError && (mapped.code === 'ETIMEDOUT' || names.some((n) => TEMPORARY_NAMES.has(n)))) mapped.temporary = true;
  return mapped;
}

/** True for a 404 that means "no such object" (a missing bucket is an error, not a miss). */
export function isMissingObject(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return httpStatusOf(error) === 404 && code !== 'NoSuchBucket';
}

/** Throws the signal's reason (an `AbortError`) when it has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** The error an aborted call fails with: the signal's reason when it is an `AbortError`, else a new one. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error('the operation was aborted', { cause: reason });
  error.name = 'AbortError';
  return error;
}

/**
 * Runs a GET; a `416` for a ranged read means the range starts at or past the end (an empty
 * object included), which reads as empty.
 */
export async function readRange(range: { offset: number } | undefined, get: () => Promise<Readable>): Promise<Readable> {
  try {
    return await get();
  } catch (error) {
    if (range !== undefined && httpStatusOf(error) === 416) return Readable.from([]);
    throw error;
  }
}

/** One uploaded part, as Complete needs it. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** The service calls the multipart driver makes (each connector wraps its SDK in these). */
export interface MultipartTarget {
  /** One PUT of the whole object. */
  putWhole(body: Buffer): Promise<RawWriteResult>;
  /** Starts a multipart upload; returns its upload id. */
  begin(): Promise<string>;
  /** Uploads one part; returns its etag as the service gave it. */
  putPart(uploadId: string, partNumber: number, body: Buffer): Promise<string>;
  /** Assembles the object from `parts` (ascending). */
  complete(uploadId: string, parts: UploadedPart[]): Promise<RawWriteResult>;
  /** Drops the upload and its parts. */
  abort(uploadId: string): Promise<void>;
}

/** Sizes and limits of {@link uploadObject}. */
export interface MultipartPolicy {
  /** Size of each part (the last may be smaller). */
  partSize: Bytes;
  /** Bodies up to this size go in one PUT; larger ones in parts. At least `partSize`. */
  threshold: Bytes;
  /** Parts in flight at once. */
  concurrency: number;
  /** The service's largest part count (10,000 for OSS and COS). */
  maxParts: number;
}

/** Checks part size and threshold settings against a service's smallest part. */
export function multipartPolicy(connector: string, minPartSize: Bytes, partSize: unknown, threshold: unknown): MultipartPolicy {
  const size = partSize === undefined ? 8 * 1024 * 1024 : partSize;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < minPartSize || size > 5 * 1024 ** 3) {
    throw invalid(`${connector} partSize must be an integer from ${minPartSize} bytes to 5 GiB`);
  }
  const limit = threshold === undefined ? size : threshold;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < size || limit > 5 * 1024 ** 3) {
    throw invalid(`${connector} multipartThreshold must be an integer from partSize to 5 GiB`);
  }
  return { partSize: size, threshold: limit, concurrency: 4, maxParts: 10_000 };
}

/** Splits a body into parts of `partSize` bytes (the last may be smaller), checking `signal` per chunk. */
async function* partsOf(body: Readable | Buffer, partSize: Bytes, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    for (let at = 0; at < body.length; at += partSize) yield body.subarray(at, at + partSize);
    return;
  }
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    throwIfAborted(signal);
    let data: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    while (pendingBytes + data.length >= partSize) {
      const take = partSize - pendingBytes;
      pending.push(data.subarray(0, take));
      yield Buffer.concat(pending, partSize);
      data = data.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (data.length > 0) {
      pending.push(data);
      pendingBytes += data.length;
    }
  }
  throwIfAborted(signal);
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/**
 * Stores `body` through `target`: one PUT when it is at most `policy.threshold` bytes, else a
 * multipart upload with up to `policy.concurrency` parts in flight. A failure or an abort
 * (checked at every chunk) aborts the multipart upload, so nothing partial remains.
 */
export async function uploadObject(body: Readable | Buffer, size: Bytes | undefined, target: MultipartTarget, policy: MultipartPolicy, signal?: AbortSignal): Promise<RawWriteResult> {
  throwIfAborted(signal);
  const partSize = size === undefined ? policy.partSize : Math.max(policy.partSize, Math.ceil(size / policy.maxParts));
  const parts = partsOf(body, partSize, signal);
  const head: Buffer[] = [];
  let headBytes = 0;
  try {
    while (headBytes <= policy.threshold) {
      const next = await parts.next();
      if (next.done) {
        throwIfAborted(signal);
        const whole = Buffer.concat(head, headBytes);
        const result = await target.putWhole(whole);
        return result;
      }
      head.push(next.value);
      headBytes += next.value.length;
    }
  } catch (error) {
    if (!Buffer.isBuffer(body)) body.destroy();
    throw error;
  }
  return uploadParts(head, parts, body, target, policy, signal);
}

async function uploadParts(head: Buffer[], rest: AsyncGenerator<Buffer>, body: Readable | Buffer, target: MultipartTarget, policy: MultipartPolicy, signal: AbortSignal | undefined): Promise<RawWriteResult> {
  const uploadId = await target.begin();
  const done: UploadedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  const state: { failure?: { error: unknown } } = {};
  const check = (): void => {
    if (state.failure) throw state.failure.error;
    throwIfAborted(signal);
  };
  const launch = (partNumber: number, data: Buffer): void => {
    const task: Promise<void> = target.putPart(uploadId, partNumber, data).then(
      (etag) => {
        done.push({ partNumber, etag });
        inFlight.delete(task);
      },
      (error: unknown) => {
        state.failure ??= { error };
        inFlight.delete(task);
      },
    );
    inFlight.add(task);
  };
  try {
    let partNumber = 0;
    const feed = async (data: Buffer): Promise<void> => {
      check();
      if (partNumber >= policy.maxParts) throw invalid(`object needs more than ${policy.maxParts} parts; raise partSize`);
      while (inFlight.size >= policy.concurrency) await Promise.race(inFlight);
      check();
      launch(++partNumber, data);
    };
    for (const data of head) await feed(data);
    for await (const data of rest) await feed(data);
    await Promise.all(inFlight);
    check();
    return await target.complete(uploadId, done.sort((a, b) => a.partNumber - b.partNumber));
  } catch (error) {
    if (!Buffer.isBuffer(body)) body.destroy();
    await Promise.allSettled(inFlight);
    await target.abort(uploadId).catch(() => undefined); // best effort: the error that matters is `error`
    throw error;
  }
}
