/**
 * Test code: the Aliyun OSS dialect of the wire-protocol test server.
 *
 * Authentication is OSS Signature V1 as published ("Include a V1 signature in the
 * Authorization header"):
 * `Authorization: OSS <AccessKeyId>:<base64(HMAC-SHA1(secret, VERB\nContent-MD5\nContent-Type\nDate\n
 * CanonicalizedOSSHeaders + CanonicalizedResource))>`, where the date is `x-oss-date` (else
 * `Date`, within 15 minutes), the OSS headers are the `x-oss-*` headers, lower-case, sorted,
 * `name:value\n` each, and the resource is `/bucket/key` plus the signed sub-resources of the
 * query, sorted. Copies name their source in `x-oss-copy-source: /bucket/url-encoded-key`.
 * A range the object cannot satisfy returns the whole object unless the request says
 * `x-oss-range-behavior: standard`. HEAD errors carry the error document base64-encoded in
 * `x-oss-err`, as OSS does.
 * @module
 */
import { createHmac } from 'node:crypto';
import { copySourceFrom, findCredential, headerValue, isFailure, sameSignature, type Credential, type Dialect, type Failure, type WireRequest } from './dialect.js';

/** Query parameters that are part of the signed resource (the rest are not signed). */
const SUB_RESOURCES = new Set([
  'acl', 'append', 'asyncFetch', 'bucketInfo', 'callback', 'callback-var', 'cname', 'comp', 'continuation-token', 'cors',
  'delete', 'encryption', 'endTime', 'group', 'inventory', 'inventoryId', 'lifecycle', 'link', 'live', 'location',
  'logging', 'metaQuery', 'objectInfo', 'objectMeta', 'partNumber', 'policy', 'position', 'qos', 'qosInfo', 'referer',
  'replication', 'replicationLocation', 'replicationProgress', 'requestPayment', 'resourceGroup', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding', 'response-content-language', 'response-content-type',
  'response-expires', 'restore', 'security-token', 'sequential', 'startTime', 'stat', 'status', 'symlink', 'tagging',
  'transferAcceleration', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'vod', 'website', 'worm',
  'wormExtend', 'wormId', 'x-oss-process', 'x-oss-request-payer', 'x-oss-traffic-limit',
]);

const SKEW_MS = 15 * 60 * 1000;

/** The string OSS signs for `request`, dated `date`. */
export function ossStringToSign(request: WireRequest, date: string): string {
  const headers = request.headers;
  const ossHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${(headerValue(headers, name) ?? '').trim()}\n`)
    .join('');
  const subResources = request.query
    .filter(([name]) => SUB_RESOURCES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`));
  const resource = `/${request.bucket}/${request.key}${subResources.length > 0 ? `?${subResources.join('&')}` : ''}`;
  return [request.method, headerValue(headers, 'content-md5') ?? '', headerValue(headers, 'content-type') ?? '', date, ossHeaders + resource].join('\n');
}

function authenticate(request: WireRequest, credentials: readonly Credential[], now: Date): Failure | undefined {
  const match = /^OSS ([^:\s]+):(\S+)$/.exec(headerValue(request.headers, 'authorization') ?? '');
  if (!match) return { status: 403, code: 'AccessDenied', message: 'The Authorization header you provided is invalid.' };
  const [, accessKeyId, provided] = match as unknown as [string, string, string];
  const credential = findCredential(credentials, accessKeyId, request, 'x-oss-');
  if (isFailure(credential)) return credential;
  const date = headerValue(request.headers, 'x-oss-date') ?? headerValue(request.headers, 'date');
  const time = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(time)) return { status: 403, code: 'AccessDenied', message: 'OSS authentication requires a valid Date.' };
  if (Math.abs(now.getTime() - time) > SKEW_MS) return { status: 403, code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.' };
  const stringToSign = ossStringToSign(request, date as string);
  const expected = createHmac('sha1', credential.secret).update(stringToSign, 'utf8').digest('base64');
  if (sameSignature(expected, provided)) return undefined;
  return {
    status: 403,
    code: 'SignatureDoesNotMatch',
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    extra: [
      ['StringToSign', stringToSign],
      ['OSSAccessKeyId', accessKeyId],
      ['SignatureProvided', provided],
    ],
  };
}

/** The source of a copy: `x-oss-copy-source: /bucket/<url-encoded key>`. */
const copySource = (request: WireRequest): { bucket: string; key: string } | undefined => copySourceFrom(request, 'x-oss-copy-source', /^\/([^/]+)\/([^?]+)/);
/** OSS spells MD5 ETags in upper case. */
const etag = (md5: string, parts: number): string => `"${md5.toUpperCase()}${parts > 0 ? `-${parts}` : ''}"`;
/** Without `x-oss-range-behavior: standard`, OSS answers a range that does not fit with the whole object. */
const strictRanges = (request: WireRequest): boolean => headerValue(request.headers, 'x-oss-range-behavior') === 'standard';
/** HEAD has no body: OSS repeats the error document, base64-encoded, in `x-oss-err`. */
const errorHeaders = (xml: string): Record<string, string> => ({ 'x-oss-err': Buffer.from(xml).toString('base64') });
const claims = (authorization: string): boolean => authorization.startsWith('OSS ');

/** The OSS dialect: parts of 100 KiB at least, listings of 100 keys by default, single copies up to 1 GiB. */
export const ossDialect: Dialect = { name: 'oss', headerPrefix: 'x-oss-', minPartSize: 100 * 1024, defaultMaxKeys: 100, copyLimit: 1024 ** 3, claims, authenticate, copySource, etag, strictRanges, errorHeaders };
