/**
 * What the Aliyun OSS and Tencent COS connectors share beyond {@link ObjectStoreBase} (next to
 * the URI, SDK-loading and stream helpers all cloud connectors share): {@link VendorObjectStore},
 * their common base — a lazily made or injected SDK client, credentials from settings or the
 * environment, HEAD and ranged GET, one error mapping over the error table both services use
 * (they speak S3's XML errors), and a multipart upload driver that never leaves a partial
 * object — plus settings checks and listing helpers.
 * @module
 */
import { Readable, addAbortSignal } from 'node:stream';
import { StrataError, invalid, throwIfAborted, type StrataErrorCode } from '../errors.js';
import { normalizePrefix } from '../path.js';
import { checkSettingNames, parseBucketUri, prefixPath } from './bucket-uri.js';
import { ObjectStoreBase, objectSizeOf, quoteEtag, rangeHeader, unquoteEtag, type RawObject, type RawRead, type RawWriteResult } from './object-store-base.js';
import { cannotReach, httpStatusOf, mapStoreError, notTheStore } from './store-errors.js';
import { guardStream } from './stream-utils.js';
import type { ByteRange, StoreCallOptions, StoreCapabilities, StoreReadOptions, StoreSettings } from './under-store.js';

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

/** How a connector is named and checked: URI scheme, settings, bucket rule, client shape. */
export interface VendorProfile {
  /** URI scheme, without `:` (`'oss'`). */
  scheme: string;
  /** Class name, for messages (`'OssStore'`). */
  connector: string;
  /** The service's name, for messages (`'Aliyun OSS'`). */
  service: string;
  /**
   * The connector's own settings, with their kind; the credential settings (strings),
   * `client`, `partSize` and `multipartThreshold` are added to them.
   */
  settings: Readonly<Record<string, SettingKind>>;
  /**
   * Where credentials come from: the settings naming the key id, the secret and the session
   * token, and the environment variables read, in order, when the setting is not given.
   */
  credentials: Record<keyof Credentials, { setting: string; env: readonly string[] }>;
  /** Valid bucket names. */
  bucketName: RegExp;
  /** The bucket rule, for messages. */
  bucketRule: string;
  /** True when an injected `client` looks like the SDK's client. */
  isClient(value: object): boolean;
  /** The service's smallest multipart part (all but the last). */
  minPartSize: Bytes;
  /** The largest object one CopyObject copies. */
  copyLimit: Bytes;
  /** Imports the SDK (a `lazySdk` loader): its module, or a namespace whose `default` is it. */
  sdk(): Promise<unknown>;
  /** The SDK's own error names, on top of the table both services share. */
  errorNames?: Readonly<Record<string, StrataErrorCode>>;
  /** The SDK's own names of errors a retry may cure (its names for a broken connection). */
  temporaryNames?: readonly string[];
  /** The SDK's own names of a connection that failed, reported as `cannot reach <service>`. */
  unreachableNames?: readonly string[];
}

/** Every setting of a connector (besides `bucket` and `prefix`) with its kind. */
function settingKinds(profile: VendorProfile): Record<string, SettingKind> {
  const { id, secret, token } = profile.credentials;
  return { ...profile.settings, [id.setting]: 'string', [secret.setting]: 'string', [token.setting]: 'string', client: 'object', partSize: 'number', multipartThreshold: 'number' };
}

/** `bucket`, `prefix` and the settings every vendor store takes. */
export interface VendorOptions<C> {
  bucket: string;
  prefix?: string;
  client?: C;
  partSize?: number;
  multipartThreshold?: number;
}

/** `scheme://bucket/prefix` plus `settings`, as constructor options (checked by the constructor). */
export function parseVendorUri(profile: VendorProfile, uri: URL, settings: StoreSettings): StoreSettings & { bucket: string; prefix: string } {
  const { bucket, prefix } = parseBucketUri(uri, { schemes: [profile.scheme], connector: profile.scheme.toUpperCase(), bucketWord: 'bucket' });
  return { ...checkSettingNames(settings, Object.keys(settingKinds(profile)), profile.connector), bucket, prefix };
}

/** A key pair and its optional session token. */
export interface Credentials {
  id: string;
  secret: string;
  token?: string;
}

/** Response headers as Node gives them (lower-case names). */
export type ResponseHeaders = Readonly<Record<string, string | string[] | number | undefined>>;

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value[0];
  return value === undefined ? undefined : String(value);
}

function dateOf(text: string | undefined): Date | undefined {
  const date = text === undefined ? undefined : new Date(text);
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : date;
}

/** A listing entry's fields (strings, as the SDKs parse XML) as a {@link RawObject}. */
export function listedObject(key: string, size: string | number | undefined, lastModified: string | undefined, etag: string | undefined): RawObject {
  return { key, size: Number(size ?? 0), etag: unquoteEtag(etag), mtime: dateOf(lastModified) };
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
interface VendorErrorContext {
  /** The bucket, named in `NoSuchBucket` errors. */
  bucket: string;
  /** The service, named when it cannot be reached. */
  service: string;
  /** The SDK's own names of a connection that failed (besides Node's `ECONNREFUSED` and the like). */
  unreachable?: readonly string[];
  /** Secrets to strip from messages and causes. */
  secrets: readonly string[];
  /** The SDK's own error names (e.g. its timeout errors) on top of the shared table. */
  names?: Readonly<Record<string, StrataErrorCode>>;
  /** The SDK's own names of temporary errors. */
  temporary?: readonly string[];
}

/** The service's error names an SDK error carries (`code`, `Code`). */
function namesOf(error: unknown): string[] {
  return [(error as { code?: unknown })?.code, (error as { Code?: unknown })?.Code].filter((v): v is string => typeof v === 'string');
}

/**
 * Maps an OSS/COS SDK error with {@link mapStoreError} and the shared table: missing key or
 * bucket -> `ENOENT` (naming the bucket), refused credentials -> `EACCES`, throttling and 5xx
 * -> temporary, timeouts -> `ETIMEDOUT`. Aborts pass through.
 */
function mapVendorError(error: unknown, context: VendorErrorContext): Error {
  const names = namesOf(error);
  const noBucket = names.includes('NoSuchBucket');
  const mapped = mapStoreError(error, {
    byName: { ...SHARED_ERROR_NAMES, ...context.names },
    secrets: context.secrets,
    detail: noBucket ? `bucket '${context.bucket}' does not exist (NoSuchBucket)` : names.some((n) => context.unreachable?.includes(n)) ? cannotReach(context.service, error) : undefined,
    service: context.service,
  });
  const temporary = (name: string): boolean => TEMPORARY_NAMES.has(name) || context.temporary?.includes(name) === true;
  if (mapped instanceof StrataError && (mapped.code === 'ETIMEDOUT' || names.some(temporary))) mapped.temporary = true;
  return mapped;
}

/** True for a 404 that means "no such object" (a missing bucket is an error, not a miss). */
function isMissingObject(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return httpStatusOf(error) === 404 && code !== 'NoSuchBucket';
}

/** One uploaded part, as Complete needs it. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** The calls of one multipart upload whose parts are made from `T`s (data to send, or byte ranges to copy). */
export interface PartsTarget<T> {
  /** Starts the upload; returns its upload id. */
  begin(): Promise<string>;
  /** Makes part `partNumber` from `part`; returns its etag as the service gave it. */
  putPart(uploadId: string, partNumber: number, part: T): Promise<string>;
  /** Assembles the object from `parts` (ascending). */
  complete(uploadId: string, parts: UploadedPart[]): Promise<RawWriteResult>;
  /** Drops the upload and its parts. */
  abort(uploadId: string): Promise<void>;
}

/** The calls of a multipart upload that do not depend on what its parts are made from. */
export type UploadSession = Omit<PartsTarget<unknown>, 'putPart'>;

/** The calls a write makes: one PUT of the whole object, or a multipart upload of its data. */
export interface MultipartTarget extends PartsTarget<Buffer> {
  putWhole(body: Buffer): Promise<RawWriteResult>;
}

/** Bytes `start` to `end` (inclusive) of an object. */
export interface ByteSpan {
  start: number;
  end: number;
}

/**
 * The calls a copy makes: one CopyObject, or a multipart upload whose parts are ranges of the
 * source copied by the service (UploadPartCopy).
 */
export interface CopyTarget extends PartsTarget<ByteSpan> {
  copyWhole(): Promise<void>;
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
 * (which also stops a body waiting for data) aborts the multipart upload, so nothing partial remains.
 */
export async function uploadObject(body: Readable | Buffer, size: Bytes | undefined, target: MultipartTarget, policy: MultipartPolicy, signal?: AbortSignal): Promise<RawWriteResult> {
  throwIfAborted(signal);
  // An abort while the body waits for data ends the reading at once (the upload is then aborted), not at its next chunk.
  if (signal && !Buffer.isBuffer(body)) addAbortSignal(signal, body);
  const partSize = size === undefined ? policy.partSize : Math.max(policy.partSize, Math.ceil(size / policy.maxParts));
  const parts = partsOf(body, partSize, signal);
  const head: Buffer[] = [];
  let headBytes = 0;
  try {
    while (headBytes <= policy.threshold) {
      const next = await parts.next();
      if (next.done) {
        throwIfAborted(signal);
        return await target.putWhole(Buffer.concat(head, headBytes));
      }
      head.push(next.value);
      headBytes += next.value.length;
    }
    return await runParts(
      (async function* () {
        yield* head;
        yield* parts;
      })(),
      target,
      policy,
      signal,
    );
  } catch (error) {
    if (!Buffer.isBuffer(body)) body.destroy();
    throw error;
  }
}

/** Copies an object of `size` bytes through `target` in parts of `partSize` bytes. */
export function copyInParts(size: Bytes, partSize: Bytes, target: CopyTarget, policy: MultipartPolicy, signal?: AbortSignal): Promise<RawWriteResult> {
  const step = Math.max(partSize, Math.ceil(size / policy.maxParts));
  const spans: ByteSpan[] = [];
  for (let start = 0; start < size; start += step) spans.push({ start, end: Math.min(size, start + step) - 1 });
  return runParts(spans, target, policy, signal);
}

/**
 * One multipart upload: begins it, makes the parts from `parts` with up to
 * `policy.concurrency` in flight, completes it; on any failure or abort the upload is aborted
 * once the parts in flight have settled, and the first error is thrown.
 */
async function runParts<T>(parts: Iterable<T> | AsyncIterable<T>, target: PartsTarget<T>, policy: MultipartPolicy, signal: AbortSignal | undefined): Promise<RawWriteResult> {
  let uploadId: string | undefined;
  const done: UploadedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  const state: { failure?: { error: unknown } } = {};
  const check = (): void => {
    if (state.failure) throw state.failure.error;
    throwIfAborted(signal);
  };
  const launch = (id: string, partNumber: number, part: T): void => {
    const task: Promise<void> = target.putPart(id, partNumber, part).then(
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
    const id = await target.begin();
    uploadId = id;
    let partNumber = 0;
    for await (const part of parts) {
      check();
      if (partNumber >= policy.maxParts) throw invalid(`object needs more than ${policy.maxParts} parts; raise partSize`);
      while (inFlight.size >= policy.concurrency) await Promise.race(inFlight);
      check();
      launch(id, ++partNumber, part);
    }
    await Promise.all(inFlight);
    check();
    return await target.complete(id, done.sort((a, b) => a.partNumber - b.partNumber));
  } catch (error) {
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) await target.abort(uploadId).catch(() => undefined); // best effort: the error that matters is `error`
    throw error;
  }
}

/**
 * The base of the OSS and COS connectors: everything but the SDK calls. A subclass makes its
 * client `C` from the SDK's main export `S` ({@link createClient}), and implements HEAD, GET,
 * multipart targets, listing, deletes and copies with it. Credentials live in `#private`
 * fields and inside the client only, so `util.inspect(store)` shows none.
 */
export abstract class VendorObjectStore<C, S> extends ObjectStoreBase {
  /** Object-store capabilities; GETs honour `If-Match`, and their own headers name the size and version they served. */
  override readonly capabilities: StoreCapabilities = { rangeRead: true, list: true, copy: true, rename: false, directories: false, conditionalRead: true, readInfo: true };
  /** The bucket. */
  readonly bucket: string;
  readonly #scheme: string;
  readonly #injected: C | undefined;
  #client: Promise<C> | undefined;
  readonly #secrets: string[];
  readonly #policy: MultipartPolicy;
  readonly #profile: VendorProfile;
  readonly #settings: StoreSettings;
  /** Largest object one CopyObject copies (the service's limit); larger ones are copied in parts. */
  protected readonly copyLimit: Bytes;
  /** Size of the parts of a copy in parts (the service copies them; nothing passes through here). */
  protected readonly copyPartSize: Bytes = 128 * 1024 * 1024;

  /**
   * Checks every option against `profile` (`EINVAL` naming a bad one, never its value); makes
   * no client and loads no SDK yet.
   */
  protected constructor(profile: VendorProfile, options: VendorOptions<C>) {
    if (typeof options !== 'object' || options === null) throw invalid(`${profile.connector} needs options with a bucket`);
    const { bucket, prefix, ...settings } = options as VendorOptions<C> & StoreSettings;
    checkSettings(profile.connector, settings, settingKinds(profile));
    if (typeof bucket !== 'string' || !profile.bucketName.test(bucket)) throw invalid(`${profile.connector} bucket ${JSON.stringify(bucket)} is not valid: ${profile.bucketRule}`);
    if (options.client !== undefined && !profile.isClient(options.client as object)) throw invalid(`${profile.connector} setting 'client' is not a client of its SDK`);
    const policy = multipartPolicy(profile.connector, profile.minPartSize, options.partSize, options.multipartThreshold);
    super(normalizePrefix(prefix));
    this.bucket = bucket;
    this.#scheme = profile.scheme;
    this.#injected = options.client;
    this.#secrets = [profile.credentials.secret.setting, profile.credentials.token.setting].map((name) => settings[name]).filter((v): v is string => typeof v === 'string');
    this.#profile = profile;
    this.#settings = settings;
    this.#policy = policy;
    this.copyLimit = profile.copyLimit;
  }

  /** `scheme://bucket/prefix` (key segments URL-encoded); no endpoint, no credentials. */
  get uri(): string {
    return `${this.#scheme}://${this.bucket}${prefixPath(this.prefix)}`;
  }

  /** Forgets the client this store made (an injected one is left to its owner). */
  async close(): Promise<void> {
    this.#client = undefined;
  }

  /** Makes the SDK client with `sdk` (the SDK's main export) and `credentials`; called once, on first use. @internal */
  protected abstract createClient(sdk: S, credentials: Credentials): C;
  /** The headers of a HEAD of `fullKey`. @internal */
  protected abstract headHeaders(client: C, fullKey: string): Promise<ResponseHeaders>;
  /** A GET of `fullKey` sending `headers` (`Range`, `If-Match`); resolves with the body and the headers once a 2xx answer started. @internal */
  protected abstract download(client: C, fullKey: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<{ body: Readable; headers: ResponseHeaders }>;
  /** The SDK calls that store `fullKey` in one PUT or in parts. @internal */
  protected abstract multipartTarget(client: C, fullKey: string): MultipartTarget;
  /** The SDK calls that copy `fromFullKey` to `toFullKey`; parts copy only the version `etag` when given. @internal */
  protected abstract copyTarget(client: C, fromFullKey: string, toFullKey: string, etag: string | undefined): CopyTarget;

  /** The client: the injected one, or the one made on first use (loading the SDK then). */
  protected client(): Promise<C> {
    if (this.#injected !== undefined) return Promise.resolve(this.#injected);
    this.#client ??= this.#makeClient().catch((error: unknown) => {
      this.#client = undefined;
      throw error;
    });
    return this.#client;
  }

  async #makeClient(): Promise<C> {
    const credentials = this.#credentials();
    const exported = (await this.#profile.sdk()) as { default?: unknown };
    try {
      return this.createClient((exported.default ?? exported) as S, credentials);
    } catch (error) {
      throw this.mapError(error); // e.g. a malformed endpoint
    }
  }

  /**
   * The credentials from the settings, else from the environment (see
   * {@link VendorProfile.credentials}); their secrets are redacted from every later message.
   * `EACCES` naming the variables when there is no key pair.
   */
  #credentials(): Credentials {
    const spec = this.#profile.credentials;
    const pick = ({ setting, env }: { setting: string; env: readonly string[] }): string | undefined => {
      const given = this.#settings[setting];
      if (typeof given === 'string') return given;
      return env.map((name) => process.env[name]?.trim()).find((v) => v !== undefined && v !== '');
    };
    const [id, secret, token] = [pick(spec.id), pick(spec.secret), pick(spec.token)];
    if (id === undefined || secret === undefined) {
      throw new StrataError('EACCES', `${this.#profile.connector} has no credentials: set ${spec.id.setting} and ${spec.secret.setting}, or ${spec.id.env[0]} and ${spec.secret.env[0]}`);
    }
    for (const value of [secret, token]) if (value !== undefined && !this.#secrets.includes(value)) this.#secrets.push(value);
    return token === undefined ? { id, secret } : { id, secret, token };
  }

  protected async headObject(fullKey: string): Promise<RawObject | undefined> {
    const client = await this.client();
    try {
      const headers = await this.headHeaders(client, fullKey);
      const etag = unquoteEtag(header(headers, 'etag'));
      if (etag === undefined) throw notTheStore(this.#profile.service, 'an object without an ETag');
      return { key: fullKey, size: Number(header(headers, 'content-length') ?? 0), etag, mtime: dateOf(header(headers, 'last-modified')) };
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw error;
    }
  }

  /** A `416` for a ranged read means the range starts at or past the end (an empty object included): no bytes. */
  protected async getObject(fullKey: string, range: ByteRange | undefined, opts: StoreReadOptions): Promise<RawRead> {
    const client = await this.client();
    const sent: Record<string, string> = {};
    const wanted = rangeHeader(range);
    if (wanted !== undefined) sent.Range = wanted;
    if (opts.ifMatch !== undefined) sent['If-Match'] = quoteEtag(opts.ifMatch); // the service answers 412 (ESTALE) when it differs
    try {
      const { body, headers } = await this.download(client, fullKey, sent, opts.signal);
      return {
        body: guardStream(body, (error) => this.mapError(error), opts.signal),
        size: objectSizeOf(header(headers, 'content-range'), header(headers, 'content-length'), range),
        etag: unquoteEtag(header(headers, 'etag')),
        mtime: dateOf(header(headers, 'last-modified')),
      };
    } catch (error) {
      if (range !== undefined && httpStatusOf(error) === 416) return { body: Readable.from([]) };
      throw error;
    }
  }

  protected async putObject(fullKey: string, body: Readable | Buffer, size: number | undefined, opts: StoreCallOptions): Promise<RawWriteResult> {
    const client = await this.client();
    return uploadObject(body, size, this.multipartTarget(client, fullKey), this.#policy, opts.signal);
  }

  /**
   * One CopyObject (the copy-source header); when the service refuses it (400) as too large
   * (`EntityTooLarge`, or a source above the documented single-copy limit), a multipart copy of
   * byte ranges of the version a HEAD saw.
   */
  protected async copyObject(fromFullKey: string, toFullKey: string, opts: StoreCallOptions): Promise<void> {
    const client = await this.client();
    try {
      await this.copyTarget(client, fromFullKey, toFullKey, undefined).copyWhole();
    } catch (error) {
      if (httpStatusOf(error) !== 400) throw error;
      const source = await this.headObject(fromFullKey);
      if (source === undefined || (source.size <= this.copyLimit && !namesOf(error).includes('EntityTooLarge'))) throw error;
      await copyInParts(source.size, this.copyPartSize, this.copyTarget(client, fromFullKey, toFullKey, source.etag), this.#policy, opts.signal);
    }
  }

  /** The one error mapping of OSS and COS: the shared table plus the SDK's own names. */
  protected mapError(error: unknown): Error {
    return mapVendorError(error, { bucket: this.bucket, service: this.#profile.service, unreachable: this.#profile.unreachableNames, secrets: this.#secrets, names: this.#profile.errorNames, temporary: this.#profile.temporaryNames });
  }
}
