/**
 * Tencent Cloud Object Storage (`cos://bucket-appid/prefix`) on the official
 * `cos-nodejs-sdk-v5` SDK, loaded on first use.
 * @module
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type COS from 'cos-nodejs-sdk-v5';
import { abortError, invalid } from '../../errors.js';
import { lazySdk } from '../load-sdk.js';
import { notTheStore } from '../store-errors.js';
import { unquoteEtag, type RawListOptions, type RawListPage } from '../object-store-base.js';
import type { StoreSettings } from '../under-store.js';
import { VendorObjectStore, listedObject, parseVendorUri, type CopyTarget, type Credentials, type MultipartTarget, type ResponseHeaders, type UploadSession, type VendorOptions, type VendorProfile } from '../vendor-store-kit.js';
import { ResponseSink } from './response-sink.js';

/** Settings of {@link CosStore} (the constructor's argument; a URI gives `bucket` and `prefix`). */
export interface CosStoreOptions extends VendorOptions<COS> {
  /** Bucket as `name-appid` (`examplebucket-1250000000`). */
  bucket: string;
  /** Key prefix the store is rooted at (no leading/trailing `/`); default: the whole bucket. */
  prefix?: string;
  /** Region of the bucket (`ap-guangzhou`); required: COS addresses every request by region. */
  region?: string;
  /** SecretId; default `TENCENTCLOUD_SECRET_ID`, then `COS_SECRET_ID`. */
  secretId?: string;
  /** SecretKey; default `TENCENTCLOUD_SECRET_KEY`, then `COS_SECRET_KEY`. Never shown anywhere. */
  secretKey?: string;
  /** Session token of temporary keys; default `TENCENTCLOUD_SESSION_TOKEN`. */
  securityToken?: string;
  /**
   * Request domain, the SDK's `Domain`: a template where `{Bucket}` is the bucket (`name-appid`)
   * and `{Region}` the region. Default `{Bucket}.cos.{Region}.myqcloud.com`; set it for a
   * custom, accelerated or internal domain, or a gateway that takes the bucket in the path
   * (`gateway.example.com/{Bucket}`). Requests are signed virtual-hosted style: the signed path
   * is the key's, below the domain.
   */
  domain?: string;
  /** `'https'` (default) or `'http'`. */
  protocol?: 'http' | 'https' | 'http:' | 'https:';
  /** A ready `COS` client; wins over credentials and domain (`region` is still needed). */
  client?: COS;
  /** Size of multipart parts, at least 1 MiB; default 8 MiB. */
  partSize?: number;
  /** Bodies up to this size are sent in one PUT, larger ones in parts; at least `partSize`, default `partSize`. */
  multipartThreshold?: number;
}

const PROFILE: VendorProfile = {
  scheme: 'cos',
  connector: 'CosStore',
  service: 'Tencent COS',
  settings: { region: 'string', domain: 'string', protocol: 'string' },
  credentials: {
    id: { setting: 'secretId', env: ['TENCENTCLOUD_SECRET_ID', 'COS_SECRET_ID'] },
    secret: { setting: 'secretKey', env: ['TENCENTCLOUD_SECRET_KEY', 'COS_SECRET_KEY'] },
    token: { setting: 'securityToken', env: ['TENCENTCLOUD_SESSION_TOKEN'] },
  },
  bucketName: /^(?=.{3,50}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-\d+$/,
  bucketRule: "'name-appid': lower-case letters, digits and hyphens, then '-' and the numeric APPID, at most 50 characters",
  isClient: (value) => typeof (value as Partial<COS>).getBucket === 'function',
  minPartSize: 1024 * 1024,
  copyLimit: 5 * 1024 ** 3,
  sdk: lazySdk('cos-nodejs-sdk-v5', 'COS', () => import('cos-nodejs-sdk-v5')), // imported on the first request of the first COS store
};

const PAGE_SIZE = 1000;

/**
 * A store (`UnderStore`) on a Tencent COS bucket through `cos-nodejs-sdk-v5`, which is imported
 * on the first request. The SDK's callback/promise API with PascalCase parameters is wrapped
 * here; downloads stream through a `ResponseSink` that learns the status before the body,
 * so a failed GET never hands an error document to a reader. Listing uses GET Bucket with
 * markers; large writes are multipart uploads, aborted on failure; batch deletes use
 * `POST ?delete`; copies `x-cos-copy-source`.
 */
export class CosStore extends VendorObjectStore<COS, typeof COS> {
  /** The bucket's region. */
  readonly region: string;
  readonly #settings: CosStoreOptions;

  /** Checks the options (`EINVAL` naming a bad one); creates no client and loads no SDK yet. */
  constructor(options: CosStoreOptions) {
    super(PROFILE, options);
    const { region, protocol } = options;
    if (region === undefined || !/^[a-z\d-]+$/.test(region) || region.startsWith('cos.')) throw invalid("CosStore setting 'region' is required, like ap-guangzhou");
    if (protocol !== undefined && !/^https?:?$/.test(protocol)) throw invalid("CosStore setting 'protocol' must be 'http' or 'https'");
    // Like the other connectors' endpoints: no credentials, query or fragment (they would show in mounts() and warnings).
    if (typeof options.domain === 'string' && /[@?#\s]/.test(options.domain)) throw invalid("CosStore setting 'domain' must be a host[/path] template without credentials, query or fragment");
    this.region = region;
    this.#settings = { ...options };
  }

  /**
   * Makes a store from `cos://bucket-appid/prefix` and the settings of {@link CosStoreOptions}.
   * `EINVAL` for a bad bucket name, a missing region, unknown setting names (named) or wrong types.
   */
  static fromUri(uri: URL, settings: StoreSettings = {}): CosStore {
    return new CosStore(parseVendorUri(PROFILE, uri, settings) as unknown as CosStoreOptions);
  }

  /** @internal */
  protected createClient(Cos: typeof COS, credentials: Credentials): COS {
    const s = this.#settings;
    const options: COS.COSOptions = { SecretId: credentials.id, SecretKey: credentials.secret };
    if (credentials.token !== undefined) options.SecurityToken = credentials.token;
    if (s.domain !== undefined) options.Domain = s.domain;
    if (s.protocol !== undefined) options.Protocol = (s.protocol.endsWith(':') ? s.protocol : `${s.protocol}:`) as 'http:' | 'https:';
    return new Cos(options);
  }

  /** Bucket, region and key, as every object call of the SDK wants them. */
  #where(key: string): { Bucket: string; Region: string; Key: string } {
    return { Bucket: this.bucket, Region: this.region, Key: key };
  }

  /** @internal */
  protected async headHeaders(client: COS, fullKey: string): Promise<ResponseHeaders> {
    return (await client.headObject(this.#where(fullKey))).headers ?? {};
  }

  /** GET into a `ResponseSink`; resolves with it once a 2xx status is known. @internal */
  protected download(client: COS, fullKey: string, sent: Record<string, string>, signal: AbortSignal | undefined): Promise<{ body: Readable; headers: ResponseHeaders }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) return resolve({ body: sink, headers: sink.headers });
        if (!sink.destroyed) sink.destroy(error instanceof Error ? error : undefined); // an error makes the SDK abort the request
        reject(error);
      };
      const onAbort = (): void => settle(abortError(signal as AbortSignal));
      const sink = new ResponseSink((status) => {
        if (status < 300) settle();
      });
      sink.on('error', settle);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      client.getObject({ ...this.#where(fullKey), Headers: sent, Output: sink }, (error) => settle(error ?? undefined));
    });
  }

  /** Begin, complete and abort of a multipart upload to `fullKey`. */
  #session(client: COS, fullKey: string): UploadSession {
    const where = this.#where(fullKey);
    return {
      begin: async () => (await client.multipartInit(where)).UploadId,
      complete: async (UploadId, parts) => ({ etag: unquoteEtag((await client.multipartComplete({ ...where, UploadId, Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) })).ETag) }),
      abort: async (UploadId) => void (await client.multipartAbort({ ...where, UploadId })),
    };
  }

  /** @internal */
  protected multipartTarget(client: COS, fullKey: string): MultipartTarget {
    const where = this.#where(fullKey);
    return {
      ...this.#session(client, fullKey),
      putWhole: async (data) => {
        const md5 = createHash('md5').update(data).digest('base64'); // the service checks the body against it
        return { etag: unquoteEtag((await client.putObject({ ...where, Body: data, ContentLength: data.length, Headers: { 'Content-MD5': md5 } })).ETag) };
      },
      putPart: async (UploadId, PartNumber, Body) => (await client.multipartUpload({ ...where, UploadId, PartNumber, Body, ContentLength: Body.length })).ETag,
    };
  }

  /** @internal */
  protected copyTarget(client: COS, fromFullKey: string, toFullKey: string, etag: string | undefined): CopyTarget {
    const where = this.#where(toFullKey);
    const CopySource = `${this.bucket}.cos.${this.region}.myqcloud.com/${encodeURIComponent(fromFullKey).replace(/%2F/g, '/')}`;
    const ifMatch = etag === undefined ? {} : { CopySourceIfMatch: `"${etag}"` };
    return {
      ...this.#session(client, toFullKey),
      copyWhole: async () => void (await client.putObjectCopy({ ...where, CopySource })),
      putPart: async (UploadId, PartNumber, { start, end }) => (await client.uploadPartCopy({ ...where, CopySource, UploadId, PartNumber, CopySourceRange: `bytes=${start}-${end}`, ...ifMatch })).ETag,
    };
  }

  protected async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    const client = await this.client();
    const page = await client.getBucket({
      Bucket: this.bucket,
      Region: this.region,
      Prefix: fullPrefix,
      MaxKeys: Math.min(opts.maxKeys ?? PAGE_SIZE, PAGE_SIZE),
      ...(opts.delimiter ? { Delimiter: opts.delimiter } : {}),
      ...(opts.token ? { Marker: opts.token } : {}),
    });
    if (page.IsTruncated === undefined) throw notTheStore(PROFILE.service, 'a listing without IsTruncated');
    const objects = page.Contents.map((o) => listedObject(o.Key, o.Size, o.LastModified, o.ETag));
    const prefixes = page.CommonPrefixes.map((p) => p.Prefix);
    // NextMarker is only promised with a delimiter; else the last key is the next marker.
    const next = page.IsTruncated === 'true' ? page.NextMarker || [...objects.map((o) => o.key), ...prefixes].sort().pop() : undefined;
    return { objects, prefixes, next };
  }

  protected async deleteObjects(fullKeys: string[]): Promise<void> {
    const client = await this.client();
    if (fullKeys.length === 1) await client.deleteObject(this.#where(fullKeys[0] as string));
    if (fullKeys.length < 2) return;
    const result = await client.deleteMultipleObject({ Bucket: this.bucket, Region: this.region, Objects: fullKeys.map((Key) => ({ Key })), Quiet: true });
    const failed = result.Error.filter((e) => e?.Key !== undefined);
    if (failed.length > 0) {
      const first = failed[0] as { Code?: string; Message?: string };
      throw Object.assign(new Error(`could not delete ${failed.length} of ${fullKeys.length} objects: ${first.Message ?? first.Code ?? 'unknown error'}`), { code: first.Code });
    }
  }
}
