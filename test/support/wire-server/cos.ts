/**
 * Test code: the Tencent COS dialect of the wire-protocol test server.
 *
 * Authentication is the COS request signature as published ("Request Signature"):
 * `Authorization: q-sign-algorithm=sha1&q-ak=…&q-sign-time=start;end&q-key-time=…&
 * q-header-list=…&q-url-param-list=…&q-signature=…` with
 * - `SignKey = hex(HMAC-SHA1(SecretKey, q-key-time))`,
 * - `HttpString = method\n/key\nparams\nheaders\n`: lower-case method, the key's path not
 *   URL-encoded, then the listed query parameters and headers as sorted `name=value` pairs
 *   joined by `&` (names lower-case, values URL-encoded),
 * - `StringToSign = sha1\nq-sign-time\nhex(SHA1(HttpString))\n`,
 * - `q-signature = hex(HMAC-SHA1(SignKey, StringToSign))`, valid inside `q-sign-time`.
 * COS only speaks virtual-hosted style (`bucket-appid.cos.region.myqcloud.com/key`, and the SDK
 * refuses path style), so the signed path is the key's: `/key`. On loopback the client's
 * `Domain` is `127.0.0.1:<port>/{Bucket}`: the first path segment stands in for the bucket's
 * host name and is not part of the signed path. Copies name their source in
 * `x-cos-copy-source: <bucket-appid>.cos.<region>.myqcloud.com/<url-encoded key>`.
 * @module
 */
import { createHash, createHmac } from 'node:crypto';
import { copySourceFrom, findCredential, headerValue, isFailure, sameSignature, type Credential, type Dialect, type Failure, type WireRequest } from './dialect.js';

/** COS's URL encoding: `encodeURIComponent` plus `!'()*`. */
function cosEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `name=value` pairs for the listed names, sorted, names lower-case, values encoded. */
function signedPairs(names: string[], valueOf: (name: string) => string | undefined): string {
  return [...names]
    .sort()
    .map((name) => `${name}=${cosEncode(valueOf(name) ?? '')}`)
    .join('&');
}

/** The `HttpString` of `request` for the listed headers and parameters; the path is the key's. */
export function cosHttpString(request: WireRequest, headerList: string[], paramList: string[]): string {
  const params = signedPairs(paramList, (name) => request.query.find(([k]) => cosEncode(k).toLowerCase() === name)?.[1]);
  const headers = signedPairs(headerList, (name) => headerValue(request.headers, decodeURIComponent(name)));
  return `${request.method.toLowerCase()}\n/${request.key}\n${params}\n${headers}\n`;
}

function authenticate(request: WireRequest, credentials: readonly Credential[], now: Date): Failure | undefined {
  const fields = new Map<string, string>();
  for (const part of (headerValue(request.headers, 'authorization') ?? '').split('&')) {
    const at = part.indexOf('=');
    if (at > 0) fields.set(part.slice(0, at), part.slice(at + 1));
  }
  const required = ['q-sign-algorithm', 'q-ak', 'q-sign-time', 'q-key-time', 'q-header-list', 'q-url-param-list', 'q-signature'];
  if (required.some((name) => !fields.has(name)) || fields.get('q-sign-algorithm') !== 'sha1') {
    return { status: 403, code: 'AccessDenied', message: 'The Authorization header is not a valid COS signature.' };
  }
  const credential = findCredential(credentials, fields.get('q-ak') as string, request, 'x-cos-');
  if (isFailure(credential)) return credential;
  const signTime = fields.get('q-sign-time') as string;
  const [start, end] = signTime.split(';').map(Number) as [number, number];
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (!(start - 60 <= nowSeconds && nowSeconds <= end)) return { status: 403, code: 'AccessDenied', message: 'Request has expired' };
  const list = (name: string): string[] => (fields.get(name) as string).split(';').filter((n) => n !== '');
  const httpString = cosHttpString(request, list('q-header-list'), list('q-url-param-list'));
  const signKey = createHmac('sha1', credential.secret).update(fields.get('q-key-time') as string).digest('hex');
  const stringToSign = `sha1\n${signTime}\n${createHash('sha1').update(httpString, 'utf8').digest('hex')}\n`;
  const expected = createHmac('sha1', signKey).update(stringToSign).digest('hex');
  if (sameSignature(expected, fields.get('q-signature') as string)) return undefined;
  return { status: 403, code: 'SignatureDoesNotMatch', message: 'The Signature you specified is invalid.', extra: [['StringToSign', stringToSign]] };
}

/** The source of a copy: `x-cos-copy-source: <bucket-appid>.cos.<region>.myqcloud.com/<url-encoded key>`. */
function copySource(request: WireRequest): { bucket: string; key: string } | undefined {
  return copySourceFrom(request, 'x-cos-copy-source', /^([^./]+)\.cos\.[^./]+\.myqcloud\.com\/([^?]+)/);
}

/** The COS dialect: lower-case MD5 ETags, S3 range rules (416), no extra error headers; parts of 1 MiB at least, single copies up to 5 GiB. */
export const cosDialect: Dialect = {
  name: 'cos',
  headerPrefix: 'x-cos-',
  minPartSize: 1024 * 1024,
  defaultMaxKeys: 1000,
  copyLimit: 5 * 1024 ** 3,
  claims: (authorization) => authorization.startsWith('q-sign-algorithm='),
  authenticate,
  copySource,
  etag: (md5, parts) => `"${md5}${parts > 0 ? `-${parts}` : ''}"`,
  strictRanges: () => true,
  errorHeaders: () => ({}),
};
