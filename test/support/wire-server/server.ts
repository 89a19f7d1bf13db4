/**
 * Test code: a small HTTP server that speaks the S3-style XML protocol of Aliyun OSS and
 * Tencent COS well enough for their official SDKs (`ali-oss`, `cos-nodejs-sdk-v5`), so the
 * connectors can be tested through those SDKs on loopback. It is not an emulator of either
 * service: objects live in memory, requests are path-style (`/bucket/key`), and only what the
 * connectors use is implemented — HEAD/GET (ranges), PUT, copy, DELETE, batch delete, listing
 * (v1 markers and v2 continuation tokens) and multipart uploads.
 *
 * Each request's signature is checked the service's published way (see `oss.ts`, `cos.ts`;
 * the dialect is picked by the `Authorization` scheme), so a client that signs wrongly, or
 * with a wrong secret, gets `403 SignatureDoesNotMatch`. Errors are
 * `<Error><Code>…</Code><Message>…</Message></Error>`.
 *
 * Fault injection for tests: a key containing `__fault-<status>-<Code>__` is answered with
 * that error after authentication; one containing `__delay-<ms>__` is answered after a pause;
 * a GET of one containing `__ignores-if-match__` pays no heed to `If-Match` (as some compatible
 * servers do).
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cosDialect } from './cos.js';
import { headerValue, queryValue, type Credential, type Dialect, type Failure, type WireRequest } from './dialect.js';
import { md5Hex, nowSeconds, ObjectSpace, type ListResult, type StoredObject } from './objects.js';
import { ossDialect } from './oss.js';
import { elements, renderXml, textOf, type XmlNode } from './xml.js';

/** What the server starts with. */
export interface WireServerOptions {
  /** Key pairs accepted by both dialects. */
  credentials: Credential[];
  /** Buckets that exist (OSS names and COS `name-appid` names alike). */
  buckets: string[];
  /**
   * Test knob: the largest source a single copy accepts (larger ones get `400 EntityTooLarge`,
   * as the services answer above their limits); default: each service's own (1 GiB for OSS,
   * 5 GiB for COS).
   */
  copyLimit?: number;
}

/** A running server. */
export interface WireServer {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** `127.0.0.1:<port>`. */
  host: string;
  close(): Promise<void>;
}

const DIALECTS: readonly Dialect[] = [ossDialect, cosDialect];

/** An answer: status, headers, body. */
interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

const xmlReply = (root: XmlNode, status = 200): Reply => ({ status, headers: { 'content-type': 'application/xml' }, body: renderXml(root) });
const fail = (status: number, code: string, message: string, extra?: Failure['extra']): Failure => ({ status, code, message, extra });

/** Splits a raw query string without treating `+` as a space (both SDKs encode it). */
function parseQuery(raw: string): Array<[string, string]> {
  return raw
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const at = part.indexOf('=');
      return at < 0 ? [decodeURIComponent(part), ''] : [decodeURIComponent(part.slice(0, at)), decodeURIComponent(part.slice(at + 1))];
    });
}

function has(request: WireRequest, name: string): boolean {
  return request.query.some(([k]) => k === name);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Starts the server on 127.0.0.1 and a free port. */
export async function startWireServer(options: WireServerOptions): Promise<WireServer> {
  const space = new ObjectSpace(options.buckets);
  const server = createServer((req, res) => {
    handle(space, options, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(space: ObjectSpace, options: WireServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const authorization = headerValue(req.headers, 'authorization') ?? '';
  // By the Authorization scheme; an unsigned request (refused by both) by its headers.
  const dialect =
    DIALECTS.find((d) => d.claims(authorization)) ?? DIALECTS.find((d) => Object.keys(req.headers).some((name) => name.startsWith(d.headerPrefix))) ?? ossDialect;
  const requestId = randomBytes(12).toString('hex').toUpperCase();
  let request: WireRequest | undefined;
  let reply: Reply | Failure;
  try {
    request = parseRequest(req);
    reply = (await serve(space, dialect, options, request, body)) ?? fail(501, 'NotImplemented', 'This request is not implemented by the test server.');
  } catch (error) {
    reply = error instanceof URIError ? fail(400, 'InvalidURI', 'Could not parse the request URI.') : fail(500, 'InternalError', String(error));
  }
  const answer = 'code' in reply ? errorReply(dialect, reply, request) : reply;
  res.writeHead(answer.status, { [`${dialect.headerPrefix}request-id`]: requestId, ...answer.headers });
  res.end(req.method === 'HEAD' ? undefined : answer.body);
}

/** Path-style routing: `/bucket/key?query`, decoded. */
function parseRequest(req: IncomingMessage): WireRequest {
  const url = req.url ?? '/';
  const at = url.indexOf('?');
  const rawPath = at < 0 ? url : url.slice(0, at);
  const path = decodeURIComponent(rawPath);
  const rest = path.slice(1);
  const slash = rest.indexOf('/');
  return {
    method: req.method ?? 'GET',
    path,
    bucket: slash < 0 ? rest : rest.slice(0, slash),
    key: slash < 0 ? '' : rest.slice(slash + 1),
    query: at < 0 ? [] : parseQuery(url.slice(at + 1)),
    headers: req.headers,
  };
}

function errorReply(dialect: Dialect, failure: Failure, request: WireRequest | undefined): Reply {
  const xml = renderXml([
    'Error',
    [['Code', failure.code], ['Message', failure.message], ...(failure.extra ?? []), ['Resource', request?.path ?? '/']] as XmlNode[],
  ]);
  return { status: failure.status, headers: { 'content-type': 'application/xml', ...dialect.errorHeaders(xml) }, body: xml };
}

/** Authenticates, applies faults, checks the body digest, then dispatches. */
async function serve(space: ObjectSpace, dialect: Dialect, options: WireServerOptions, request: WireRequest, body: Buffer): Promise<Reply | Failure | undefined> {
  const denied = dialect.authenticate(request, options.credentials, new Date());
  if (denied) return denied;
  const fault = /__fault-(\d{3})-([A-Za-z]+)__/.exec(request.key);
  if (fault) return fail(Number(fault[1]), fault[2] as string, 'Injected fault.');
  const delay = /__delay-(\d+)__/.exec(request.key);
  if (delay) await new Promise((resolve) => setTimeout(resolve, Number(delay[1])));
  const md5 = headerValue(request.headers, 'content-md5');
  if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64')) {
    return fail(400, 'InvalidDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  const bucket = space.bucket(request.bucket);
  if (!bucket) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist.', [['BucketName', request.bucket]]);
  if (request.key === '') return serveBucket(space, dialect, bucket, request, body);
  return serveObject(space, dialect, bucket, request, body, options.copyLimit ?? dialect.copyLimit);
}

function serveBucket(space: ObjectSpace, dialect: Dialect, bucket: Map<string, StoredObject>, request: WireRequest, body: Buffer): Reply | Failure | undefined {
  switch (request.method) {
    case 'HEAD':
      return { status: 200 };
    case 'GET':
      if (has(request, 'uploads')) return listUploads(space, request);
      return listObjects(space, dialect, bucket, request);
    case 'POST':
      return has(request, 'delete') ? deleteMany(bucket, body) : undefined;
    default:
      return undefined;
  }
}

function serveObject(space: ObjectSpace, dialect: Dialect, bucket: Map<string, StoredObject>, request: WireRequest, body: Buffer, copyLimit: number): Reply | Failure | undefined {
  const uploadId = queryValue(request, 'uploadId');
  const contentType = headerValue(request.headers, 'content-type') || 'application/octet-stream';
  switch (request.method) {
    case 'HEAD':
    case 'GET':
      return getObject(dialect, bucket.get(request.key), request);
    case 'PUT': {
      if (uploadId !== undefined) return putPart(space, dialect, request, uploadId, body);
      if (headerValue(request.headers, `${dialect.headerPrefix}copy-source`) !== undefined) return copyObject(space, dialect, bucket, request, copyLimit);
      const object = space.put(bucket, request.key, body, contentType);
      return { status: 200, headers: { etag: dialect.etag(object.md5, 0) } };
    }
    case 'DELETE':
      if (uploadId !== undefined) {
        if (!space.upload(uploadId, request.bucket, request.key)) return fail(404, 'NoSuchUpload', 'The specified upload does not exist.');
        space.dropUpload(uploadId);
        return { status: 204 };
      }
      bucket.delete(request.key);
      return { status: 204 };
    case 'POST':
      if (has(request, 'uploads')) {
        const upload = space.createUpload(request.bucket, request.key, contentType);
        return xmlReply(['InitiateMultipartUploadResult', [['Bucket', request.bucket], ['Key', request.key], ['UploadId', upload.id]]]);
      }
      if (uploadId !== undefined) return completeUpload(space, dialect, bucket, request, uploadId, body);
      return undefined;
    default:
      return undefined;
  }
}

/** A satisfiable range: first and last byte, and whether the request fitted inside the object. */
interface ByteSpan {
  start: number;
  end: number;
  fits: boolean;
}

/** The byte range a `Range` header asks for, `'unsatisfiable'`, or `undefined` (no or ignored header). */
function rangeOf(header: string | undefined, size: number): ByteSpan | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1, fits: suffix <= size };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? Infinity : Number(match[2]);
  if (end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1), fits: end === Infinity || end <= size - 1 };
}

/** Two ETags name the same version (quotes, case and surrounding spaces aside). */
function sameEtag(a: string, b: string): boolean {
  const bare = (etag: string): string => etag.trim().replace(/"/g, '').toLowerCase();
  return bare(a) === bare(b);
}

function getObject(dialect: Dialect, object: StoredObject | undefined, request: WireRequest): Reply | Failure {
  if (!object) return fail(404, 'NoSuchKey', 'The specified key does not exist.');
  const size = object.data.length;
  const etag = dialect.etag(object.md5, object.parts);
  // If-Match is checked before the range, as the services do.
  const ifMatch = request.key.includes('__ignores-if-match__') ? undefined : headerValue(request.headers, 'if-match');
  if (ifMatch !== undefined && ifMatch.trim() !== '*' && !ifMatch.split(',').some((tag) => sameEtag(tag, etag))) return fail(412, 'PreconditionFailed', 'At least one of the preconditions you specified did not hold.');
  const headers: Record<string, string> = {
    etag,
    'last-modified': object.lastModified.toUTCString(),
    'content-type': object.contentType,
    'accept-ranges': 'bytes',
  };
  let range = rangeOf(headerValue(request.headers, 'range'), size);
  // OSS by default ignores a range that does not fit the object and sends all of it.
  if (!dialect.strictRanges(request) && (range === 'unsatisfiable' || range?.fits === false)) range = undefined;
  if (range === 'unsatisfiable') {
    const reply = errorReply(dialect, fail(416, 'InvalidRange', 'The requested range cannot be satisfied.', [['ActualObjectSize', String(size)]]), request);
    return { ...reply, headers: { ...reply.headers, 'content-range': `bytes */${size}` } };
  }
  if (range === undefined) return { status: 200, headers: { ...headers, 'content-length': String(size) }, body: object.data };
  const { start, end } = range;
  return {
    status: 206,
    headers: { ...headers, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${size}` },
    body: object.data.subarray(start, end + 1),
  };
}

/** The source of a copy or a part copy, checked against `<prefix>copy-source-if-match` when given. */
function copySourceObject(space: ObjectSpace, dialect: Dialect, request: WireRequest): StoredObject | Failure {
  const source = dialect.copySource(request);
  if (!source) return fail(400, 'InvalidArgument', 'The copy source is not valid.');
  const from = space.bucket(source.bucket);
  if (!from) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist.', [['BucketName', source.bucket]]);
  const object = from.get(source.key);
  if (!object) return fail(404, 'NoSuchKey', 'The specified key does not exist.');
  const ifMatch = headerValue(request.headers, `${dialect.headerPrefix}copy-source-if-match`);
  if (ifMatch !== undefined && !sameEtag(ifMatch, dialect.etag(object.md5, object.parts))) return fail(412, 'PreconditionFailed', 'At least one of the preconditions you specified did not hold.');
  return object;
}

function copyObject(space: ObjectSpace, dialect: Dialect, bucket: Map<string, StoredObject>, request: WireRequest, copyLimit: number): Reply | Failure {
  const object = copySourceObject(space, dialect, request);
  if ('code' in object) return object;
  if (object.data.length > copyLimit) return fail(400, 'EntityTooLarge', 'The copy source is larger than the maximum allowable size for a copy source; copy it in parts.');
  const copy: StoredObject = { ...object, lastModified: nowSeconds() };
  bucket.set(request.key, copy);
  return xmlReply(['CopyObjectResult', [['ETag', dialect.etag(copy.md5, copy.parts)], ['LastModified', copy.lastModified.toISOString()]]]);
}

function deleteMany(bucket: Map<string, StoredObject>, body: Buffer): Reply | Failure {
  const xml = body.toString('utf8');
  if (elements(xml, 'Delete').length !== 1) return fail(400, 'MalformedXML', 'The XML you provided was not well-formed.');
  const quiet = textOf(xml, 'Quiet') === 'true';
  const keys = elements(xml, 'Object').map((object) => textOf(object, 'Key') ?? '');
  if (keys.length === 0 || keys.length > 1000) return fail(400, 'MalformedXML', 'A batch delete names 1 to 1000 objects.');
  for (const key of keys) bucket.delete(key);
  return xmlReply(['DeleteResult', quiet ? [] : keys.map((key): XmlNode => ['Deleted', [['Key', key]]])]);
}

/** UploadPart, or UploadPartCopy when the dialect's copy-source header names a source (and `copy-source-range` a range of it). */
function putPart(space: ObjectSpace, dialect: Dialect, request: WireRequest, uploadId: string, body: Buffer): Reply | Failure {
  const upload = space.upload(uploadId, request.bucket, request.key);
  if (!upload) return fail(404, 'NoSuchUpload', 'The specified upload does not exist.');
  const partNumber = Number(queryValue(request, 'partNumber'));
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) return fail(400, 'InvalidArgument', 'Part number must be an integer from 1 to 10000.');
  let data = body;
  const copying = headerValue(request.headers, `${dialect.headerPrefix}copy-source`) !== undefined;
  if (copying) {
    const source = copySourceObject(space, dialect, request);
    if ('code' in source) return source;
    const range = headerValue(request.headers, `${dialect.headerPrefix}copy-source-range`);
    const match = range === undefined ? ['', '0', String(source.data.length - 1)] : /^bytes=(\d+)-(\d+)$/.exec(range);
    const [start, end] = [Number(match?.[1]), Number(match?.[2])];
    if (!match || start > end || end >= source.data.length) return fail(400, 'InvalidArgument', 'The copy source range is not valid.');
    data = source.data.subarray(start, end + 1);
  }
  const md5 = md5Hex(data);
  upload.parts.set(partNumber, { data, md5 });
  const etag = dialect.etag(md5, 0);
  if (!copying) return { status: 200, headers: { etag } };
  return { ...xmlReply(['CopyPartResult', [['LastModified', nowSeconds().toISOString()], ['ETag', etag]]]), headers: { 'content-type': 'application/xml', etag } };
}

function completeUpload(space: ObjectSpace, dialect: Dialect, bucket: Map<string, StoredObject>, request: WireRequest, uploadId: string, body: Buffer): Reply | Failure {
  const upload = space.upload(uploadId, request.bucket, request.key);
  if (!upload) return fail(404, 'NoSuchUpload', 'The specified upload does not exist.');
  const listed = elements(body.toString('utf8'), 'Part').map((part) => ({ number: Number(textOf(part, 'PartNumber')), etag: (textOf(part, 'ETag') ?? '').replace(/"/g, '').toLowerCase() }));
  if (listed.length === 0) return fail(400, 'MalformedXML', 'The XML you provided was not well-formed.');
  const chunks: Buffer[] = [];
  const digests: Buffer[] = [];
  for (const [i, part] of listed.entries()) {
    if (i > 0 && part.number <= (listed[i - 1] as { number: number }).number) return fail(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
    const stored = upload.parts.get(part.number);
    if (!stored || stored.md5 !== part.etag) return fail(400, 'InvalidPart', 'One or more of the specified parts could not be found.');
    if (i < listed.length - 1 && stored.data.length < dialect.minPartSize) return fail(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size.');
    chunks.push(stored.data);
    digests.push(Buffer.from(stored.md5, 'hex'));
  }
  space.dropUpload(uploadId);
  const data = Buffer.concat(chunks);
  const object: StoredObject = { data, md5: md5Hex(Buffer.concat(digests)), parts: listed.length, lastModified: nowSeconds(), contentType: upload.contentType };
  bucket.set(request.key, object);
  const etag = dialect.etag(object.md5, object.parts);
  return xmlReply(['CompleteMultipartUploadResult', [['Location', request.path], ['Bucket', request.bucket], ['Key', request.key], ['ETag', etag]]]);
}

function listUploads(space: ObjectSpace, request: WireRequest): Reply {
  const prefix = queryValue(request, 'prefix') ?? '';
  const uploads = space.uploads(request.bucket, prefix).map((u): XmlNode => ['Upload', [['Key', u.key], ['UploadId', u.id], ['Initiated', u.initiated.toISOString()]]]);
  return xmlReply(['ListMultipartUploadsResult', [['Bucket', request.bucket], ['Prefix', prefix], ['MaxUploads', 1000], ['IsTruncated', false], ...uploads]]);
}

/** `max-keys` of a listing, or a failure when it is not a number from 1 to 1000. */
function maxKeysOf(dialect: Dialect, request: WireRequest): number | Failure {
  const raw = queryValue(request, 'max-keys');
  if (raw === undefined || raw === '') return dialect.defaultMaxKeys;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) return fail(400, 'InvalidArgument', 'max-keys must be a positive integer.');
  return Math.min(value, 1000);
}

function listEntries(dialect: Dialect, page: ListResult, withOwner: boolean): XmlNode[] {
  return page.entries.map((entry): XmlNode => {
    if (entry.kind === 'prefix') return ['CommonPrefixes', [['Prefix', entry.prefix]]];
    const o = entry.object;
    return [
      'Contents',
      [
        ['Key', entry.key],
        ['LastModified', o.lastModified.toISOString()],
        ['ETag', dialect.etag(o.md5, o.parts)],
        ['Type', o.parts > 0 ? 'Multipart' : 'Normal'],
        ['Size', o.data.length],
        ['StorageClass', 'Standard'],
        withOwner ? ['Owner', [['ID', 'owner'], ['DisplayName', 'owner']]] : undefined,
      ],
    ];
  });
}

/** GET Bucket: ListObjects (v1: `marker`, `NextMarker`) or, with `list-type=2`, ListObjectsV2 (continuation tokens). */
function listObjects(space: ObjectSpace, dialect: Dialect, bucket: Map<string, StoredObject>, request: WireRequest): Reply | Failure {
  const maxKeys = maxKeysOf(dialect, request);
  if (typeof maxKeys !== 'number') return maxKeys;
  const v2 = queryValue(request, 'list-type') === '2';
  const prefix = queryValue(request, 'prefix') ?? '';
  const delimiter = queryValue(request, 'delimiter') ?? '';
  const token = v2 ? queryValue(request, 'continuation-token') : undefined;
  const start = queryValue(request, v2 ? 'start-after' : 'marker') ?? '';
  let after = start;
  if (token !== undefined) {
    // Tokens are the last entry of the previous page, base64url-encoded.
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (token === '' || Buffer.from(decoded, 'utf8').toString('base64url') !== token) return fail(400, 'InvalidArgument', 'The continuation token provided is incorrect.');
    if (decoded > after) after = decoded;
  }
  const page = space.list(bucket, prefix, delimiter, after, maxKeys);
  const next = page.truncated ? (page.last ?? '') : undefined;
  const paging: Array<XmlNode | undefined> = v2
    ? [
        start !== '' ? ['StartAfter', start] : undefined,
        token !== undefined ? ['ContinuationToken', token] : undefined,
        ['KeyCount', page.entries.length],
        next !== undefined ? ['NextContinuationToken', Buffer.from(next, 'utf8').toString('base64url')] : undefined,
      ]
    : [['Marker', start], next !== undefined ? ['NextMarker', next] : undefined];
  const withOwner = !v2 || queryValue(request, 'fetch-owner') === 'true';
  return xmlReply([
    'ListBucketResult',
    [['Name', request.bucket], ['Prefix', prefix], ['MaxKeys', maxKeys], ['Delimiter', delimiter], ['IsTruncated', page.truncated], ...paging, ...listEntries(dialect, page, withOwner)],
  ]);
}
