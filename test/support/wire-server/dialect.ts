/**
 * Test code: what differs between the OSS and COS dialects of the wire-protocol test server
 * (authentication, header names, ETag spelling, copy-source syntax, range rules), as one
 * interface each dialect module implements.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';

/** A key pair the server accepts (with the token, when it stands for temporary credentials). */
export interface Credential {
  accessKeyId: string;
  secret: string;
  securityToken?: string;
}

/** A request as the dialects see it: path-style, decoded. */
export interface WireRequest {
  method: string;
  /** The decoded path, bucket included (`/bucket/key`). */
  path: string;
  bucket: string;
  /** The decoded key (`''` for bucket requests). */
  key: string;
  /** Decoded query parameters, in request order (`?uploads` gives `['uploads', '']`). */
  query: ReadonlyArray<readonly [string, string]>;
  headers: IncomingHttpHeaders;
}

/** An error answer: status, S3 error code, message and extra elements of `<Error>`. */
export interface Failure {
  status: number;
  code: string;
  message: string;
  extra?: ReadonlyArray<readonly [string, string]>;
}

/** One service's dialect of the S3-style protocol. */
export interface Dialect {
  /** `'oss'` or `'cos'`. */
  readonly name: string;
  /** Prefix of the service's own headers (`x-oss-`, `x-cos-`). */
  readonly headerPrefix: string;
  /** Smallest part of a multipart upload (all but the last). */
  readonly minPartSize: number;
  /** Page size of a listing without `max-keys`. */
  readonly defaultMaxKeys: number;
  /** The largest source one CopyObject copies. */
  readonly copyLimit: number;
  /** True when the `Authorization` header is in this dialect's scheme. */
  claims(authorization: string): boolean;
  /** Checks the signature the service's way; `undefined` when the request is authentic. */
  authenticate(request: WireRequest, credentials: readonly Credential[], now: Date): Failure | undefined;
  /** The source `{ bucket, key }` of a copy, from the copy-source header, if there is one. */
  copySource(request: WireRequest): { bucket: string; key: string } | undefined;
  /** The quoted ETag for an MD5 (hex, lower case), with `-N` for multipart objects. */
  etag(md5: string, parts: number): string;
  /** True when a range the object cannot satisfy is a `416` (else: the whole object, `200`). */
  strictRanges(request: WireRequest): boolean;
  /** Headers added to error answers (OSS repeats the document for HEAD, which has no body). */
  errorHeaders(xml: string): Record<string, string>;
}

/** The single value of a request header (repeated headers joined the way Node joins them). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The decoded value of the first query parameter named `name`. */
export function queryValue(request: WireRequest, name: string): string | undefined {
  return request.query.find(([k]) => k === name)?.[1];
}

/** Constant-time comparison of two signatures. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * The credential `accessKeyId` names, checked against the security token the request carries
 * (`<prefix>security-token`): a {@link Failure} when either is wrong.
 */
export function findCredential(credentials: readonly Credential[], accessKeyId: string, request: WireRequest, headerPrefix: string): Credential | Failure {
  const credential = credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!credential) return { status: 403, code: 'InvalidAccessKeyId', message: 'The access key id you provided does not exist in our records.' };
  if (credential.securityToken !== headerValue(request.headers, `${headerPrefix}security-token`)) {
    return { status: 403, code: 'InvalidSecurityToken', message: 'The security token you provided is invalid.' };
  }
  return credential;
}

/** True when `value` is a {@link Failure}. */
export function isFailure(value: Credential | Failure): value is Failure {
  return 'status' in value;
}

/**
 * The source of a copy, from the request's `header` matched by `pattern`, whose first group is
 * the bucket and second the URL-encoded key.
 */
export function copySourceFrom(request: WireRequest, header: string, pattern: RegExp): { bucket: string; key: string } | undefined {
  const match = pattern.exec(headerValue(request.headers, header) ?? '');
  return match ? { bucket: decodeURIComponent(match[1] as string), key: decodeURIComponent(match[2] as string) } : undefined;
}
