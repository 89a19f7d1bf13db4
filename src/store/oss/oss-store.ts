/**
 * Aliyun Object Storage Service (`oss://bucket/prefix`) on the official `ali-oss` SDK, loaded
 * on first use.
 * @module
 */
import type { Readable } from 'node:stream';
import { StrataError } from '../../errors.js';
import { optionalEndpoint } from '../bucket-uri.js';
import { notTheStore } from '../store-errors.js';
import { lazySdk } from '../load-sdk.js';
import { unquoteEtag, type RawListOptions, type RawListPage } from '../object-store-base.js';
import type { StoreSettings } from '../under-store.js';
import { VendorObjectStore, listedObject, parseVendorUri, type CopyTarget, type Credentials, type MultipartTarget, type ResponseHeaders, type UploadSession, type VendorOptions, type VendorProfile } from '../vendor-store-kit.js';
import type { AliOssClient, AliOssClientOptions, AliOssConstructor, AliOssResponse } from './ali-oss-types.js';

/** Settings of {@link OssStore} (the constructor's argument; a URI gives `bucket` and `prefix`). */
export interface OssStoreOptions extends VendorOptions<AliOssClient> {
  /** Bucket name: 3-63 lower-case letters, digits and `-`, starting and ending with a letter or digit. */
  bucket: string;
  /** Key prefix the store is rooted at (no leading/trailing `/`); default: the whole bucket. */
  prefix?: string;
  /** Region, `oss-cn-hangzhou` or `cn-hangzhou`; used when `endpoint` is not given. SDK default: `oss-cn-hangzhou`. */
  region?: string;
  /** Endpoint URL or host (`https://oss-cn-beijing.aliyuncs.com`, an internal endpoint, a custom domain, a test server). */
  endpoint?: string;
  /** AccessKey ID; default `OSS_ACCESS_KEY_ID`, then `ALIBABA_CLOUD_ACCESS_KEY_ID`. */
  accessKeyId?: string;
  /** AccessKey secret; default `OSS_ACCESS_KEY_SECRET`, then `ALIBABA_CLOUD_ACCESS_KEY_SECRET`. Never shown anywhere. */
  accessKeySecret?: string;
  /** STS security token of temporary credentials; default `OSS_SESSION_TOKEN`, then `ALIBABA_CLOUD_SECURITY_TOKEN`. */
  stsToken?: string;
  /** HTTPS when `endpoint` has no scheme, or with `region`; default `true` (the SDK's own default is `false`). */
  secure?: boolean;
  /** Path-style requests (`endpoint/bucket/key`, the SDK's `sldEnable`) instead of `bucket.endpoint/key`; default `false`. */
  pathStyle?: boolean;
  /** A ready `ali-oss` client for `bucket`; wins over every other setting. */
  client?: AliOssClient;
  /** Size of multipart parts, at least 100 KiB; default 8 MiB. */
  partSize?: number;
  /** Bodies up to this size are sent in one PUT, larger ones in parts; at least `partSize`, default `partSize`. */
  multipartThreshold?: number;
}

const PROFILE: VendorProfile = {
  scheme: 'oss',
  connector: 'OssStore',
  service: 'Aliyun OSS',
  settings: { region: 'string', endpoint: 'string', secure: 'boolean', pathStyle: 'boolean' },
  credentials: {
    id: { setting: 'accessKeyId', env: ['OSS_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_ID'] },
    secret: { setting: 'accessKeySecret', env: ['OSS_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'] },
    token: { setting: 'stsToken', env: ['OSS_SESSION_TOKEN', 'ALIBABA_CLOUD_SECURITY_TOKEN'] },
  },
  bucketName: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
  bucketRule: '3-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit',
  isClient: (value) => typeof (value as Partial<AliOssClient>).listV2 === 'function',
  minPartSize: 100 * 1024,
  copyLimit: 1024 ** 3,
  sdk: lazySdk('ali-oss', 'OSS', () => import('ali-oss')), // imported on the first request of the first OSS store
  errorNames: { ResponseTimeoutError: 'ETIMEDOUT', ConnectionTimeoutError: 'ETIMEDOUT' },
  temporaryNames: ['RequestError', 'ResponseError'], // ali-oss's names for a refused or broken connection (status -1)
  unreachableNames: ['RequestError'],
};

/** One value of a response header. */
function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The version a CompleteMultipartUpload made: the `ETag` header when the answer has one, else
 * the `<ETag>` of its document (where OSS names it); `undefined` when neither does.
 */
function completedEtag(done: { etag?: string; res: AliOssResponse }): string | undefined {
  const header = unquoteEtag(done.etag ?? firstValue(done.res.headers.etag));
  if (header !== undefined) return header;
  const document = Buffer.isBuffer(done.res.data) ? done.res.data.toString('utf8') : typeof done.res.data === 'string' ? done.res.data : '';
  const tag = /<ETag>([^<]*)<\/ETag>/.exec(document)?.[1];
  return unquoteEtag(tag?.replace(/&quot;/g, '"').replace(/&#34;/g, '"').trim());
}

/** Listing page size (OSS's default is only 100). */
const PAGE_SIZE = 1000;

/**
 * A store (`UnderStore`) on an Aliyun OSS bucket through `ali-oss`, which is imported on the
 * first request. Listing uses ListObjectsV2 (`list-type=2`); ranged reads ask for standard
 * range behaviour (`x-oss-range-behavior: standard`: a range past the end is empty, where OSS
 * would otherwise send the whole object); large writes are multipart uploads, aborted on
 * failure; batch deletes use `DeleteMultipleObjects`; copies `x-oss-copy-source`.
 */
export class OssStore extends VendorObjectStore<AliOssClient, AliOssConstructor> {
  readonly #settings: OssStoreOptions;

  /** Checks the options (`EINVAL` naming a bad one); creates no client and loads no SDK yet. */
  constructor(options: OssStoreOptions) {
    super(PROFILE, options);
    const { endpoint } = options;
    if (endpoint !== undefined) optionalEndpoint(endpoint.includes('://') ? endpoint : `https://${endpoint}`, 'endpoint', 'OssStore');
    this.#settings = { ...options };
  }

  /**
   * Makes a store from `oss://bucket/prefix` and the settings of {@link OssStoreOptions}.
   * `EINVAL` for a bad bucket name, unknown setting names (named) or wrong types.
   */
  static fromUri(uri: URL, settings: StoreSettings = {}): OssStore {
    return new OssStore(parseVendorUri(PROFILE, uri, settings) as unknown as OssStoreOptions);
  }

  /** @internal */
  protected createClient(OSS: AliOssConstructor, credentials: Credentials): AliOssClient {
    const s = this.#settings;
    const options: AliOssClientOptions = { bucket: this.bucket, accessKeyId: credentials.id, accessKeySecret: credentials.secret, secure: s.secure ?? true };
    if (credentials.token !== undefined) options.stsToken = credentials.token;
    if (s.region !== undefined) options.region = s.region.startsWith('oss-') ? s.region : `oss-${s.region}`;
    if (s.endpoint !== undefined) options.endpoint = s.endpoint;
    if (s.pathStyle) options.sldEnable = true;
    return new OSS(options);
  }

  /** @internal */
  protected async headHeaders(client: AliOssClient, fullKey: string): Promise<ResponseHeaders> {
    return (await client.head(fullKey)).res.headers;
  }

  /** @internal */
  protected async download(client: AliOssClient, fullKey: string, sent: Record<string, string>): Promise<{ body: Readable; headers: ResponseHeaders }> {
    // Without 'standard', OSS answers a range it cannot satisfy with the whole object.
    const headers = sent.Range === undefined ? sent : { ...sent, 'x-oss-range-behavior': 'standard' };
    const answer = await client.getStream(fullKey, { headers });
    return { body: answer.stream, headers: answer.res.headers };
  }

  /** Begin, complete and abort of a multipart upload to `fullKey`. */
  #session(client: AliOssClient, fullKey: string): UploadSession {
    return {
      begin: async () => (await client.initMultipartUpload(fullKey)).uploadId,
      complete: async (uploadId, parts) => ({ etag: completedEtag(await client.completeMultipartUpload(fullKey, uploadId, parts.map((p) => ({ number: p.partNumber, etag: p.etag })))) }),
      abort: async (uploadId) => void (await client.abortMultipartUpload(fullKey, uploadId)),
    };
  }

  /** @internal */
  protected multipartTarget(client: AliOssClient, fullKey: string): MultipartTarget {
    return {
      ...this.#session(client, fullKey),
      // ali-oss sends Content-MD5, so the service checks the body.
      putWhole: async (data) => ({ etag: unquoteEtag(firstValue((await client.put(fullKey, data)).res.headers.etag)) }),
      putPart: async (uploadId, partNumber, data) => (await client.uploadPart(fullKey, uploadId, partNumber, data, 0, data.length)).etag,
    };
  }

  /** @internal */
  protected copyTarget(client: AliOssClient, fromFullKey: string, toFullKey: string, etag: string | undefined): CopyTarget {
    const source = { sourceKey: fromFullKey, sourceBucketName: this.bucket };
    const ifMatch = etag === undefined ? {} : { headers: { 'x-oss-copy-source-if-match': `"${etag}"` } };
    return {
      ...this.#session(client, toFullKey),
      copyWhole: async () => void (await client.copy(toFullKey, fromFullKey)), // x-oss-copy-source: /bucket/<encoded source key>
      putPart: async (uploadId, partNumber, { start, end }) => (await client.uploadPartCopy(toFullKey, uploadId, partNumber, `${start}-${end}`, source, ifMatch)).etag,
    };
  }

  protected async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    const client = await this.client();
    const query: Record<string, string | number> = { prefix: fullPrefix, 'max-keys': Math.min(opts.maxKeys ?? PAGE_SIZE, PAGE_SIZE) };
    if (opts.delimiter) query.delimiter = opts.delimiter;
    if (opts.token) query['continuation-token'] = opts.token;
    const page = await client.listV2(query);
    if (Number.isNaN(page.keyCount)) throw notTheStore(PROFILE.service, 'a listing without KeyCount');
    return {
      objects: (page.objects ?? []).map((o) => listedObject(o.name, o.size, o.lastModified, o.etag)),
      prefixes: page.prefixes ?? [],
      next: page.isTruncated ? (page.nextContinuationToken ?? undefined) : undefined,
    };
  }

  protected async deleteObjects(fullKeys: string[]): Promise<void> {
    const client = await this.client();
    if (fullKeys.length === 1) await client.delete(fullKeys[0] as string);
    if (fullKeys.length < 2) return;
    // ali-oss does not surface per-key errors: ask for the list of deleted keys and compare.
    const result = await client.deleteMulti(fullKeys, { quiet: false });
    const deleted = new Set(result.deleted.map((d) => (d as { Key?: unknown }).Key));
    const missed = fullKeys.filter((k) => !deleted.has(k));
    if (missed.length > 0) throw new StrataError('EIO', `could not delete ${missed.length} of ${fullKeys.length} objects`);
  }}
