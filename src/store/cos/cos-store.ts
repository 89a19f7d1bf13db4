/**
 * Tencent Cloud Object Storage (`cos://bucket-appid/prefix`) on the official
 * `cos-nodejs-sdk-v5` SDK, loaded on first use.
 * @module
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type COS from 'cos-nodejs-sdk-v5';
import { StrataError, invalid } from '../../errors.js';
import { normalizePrefix } from '../../path.js';
import { ObjectStoreBase, type RawListOptions, type RawListPage, type RawObject, type RawWriteResult } from '../object-store-base.js';
import type { ByteRange, StoreCallOptions, StoreReadOptions, StoreSettings } from '../under-store.js';
import { parseBucketUri } from '../bucket-uri.js';
import { lazySdk } from '../load-sdk.js';
import { guardStream } from '../stream-utils.js';
import {
  abortError,
  checkSettings,
  fromEnv,
  isMissingObject,
  mapVendorError,
  multipartPolicy,
  rawObjectFromHeaders,
  rawObjectFromListing,
  readRange,
  storeUri,
  uploadObject,
  type MultipartPolicy,
  type MultipartTarget,
} from '../vendor-store-kit.js';
import { ResponseSink } from './response-sink.js';

/** `cos-nodejs-sdk-v5`, imported on the first request of the first COS store. */
const loadCosSdk = lazySdk('cos-nodejs-sdk-v5', 'COS', () => import('cos-nodejs-sdk-v5'));

/** Settings of {@link CosStore} (the constructor's argument; a URI gives `bucket` and `prefix`). */
export interface CosStoreOptions {
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
   * (`gateway.example.com/{Bucket}`). The SDK signs requests virtual-hosted style: the signed
   * path is the key's, below the domain.
   */
  domain?: string;
  /** `'https'` (default) or `'http'`. */
  protocol?: 'http' | 'https' | 'http:' | 'https:';
  /** A ready `COS` client; wins over every credential and domain setting (`region` is still needed). */
  client?: COS;
  /** Size of multipart parts, at least 1 MiB; default 8 MiB. */
  partSize?: number;
  /** Bodies up to this size are sent in one PUT, larger ones in parts; at least `partSize`, default `partSize`. */
  multipartThreshold?: number;
}

const SETTINGS = {
  region: 'string',
  secretId: 'string',
  secretKey: 'string',
  securityToken: 'string',
  domain: 'string',
  protocol: 'string',
  client: 'object',
  partSize: 'number',
  multipartThreshold: 'number',
} as const;

/** COS's smallest part (all but the last). */
const MIN_PART_SIZE = 1024 * 1024;
const BUCKET_RULE = "'name-appid': lower-case letters, digits and hyphens, then '-' and the numeric APPID, at most 50 characters";
const BUCKET_NAME = /^(?=.{3,50}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-\d+$/;
const REGION = /^[a-z\d-]+$/;
const PAGE_SIZE = 1000;

/**
 * An {@link UnderStore} on a Tencent COS bucket through `cos-nodejs-sdk-v5`. The SDK is
 * imported on the first request. Its callback API is wrapped in promises; downloads stream
 * through a sink that learns the status before the body, so a failed GET never leaks an error
 * document as data. Large writes use multipart uploads that are aborted on failure.
 * Credentials live inside the client only.
 */
export class CosStore extends ObjectStoreBase {
  /** The bucket, `name-appid`. */
  readonly bucket: string;
  /** The bucket's region. */
  readonly region: string;
  #settings: Omit<CosStoreOptions, 'bucket' | 'prefix' | 'region' | 'client' | 'partSize' | 'multipartThreshold'>;
  #client: COS | undefined;
  #loading: Promise<COS> | undefined;
  #secrets: string[];
  #policy: MultipartPolicy;

  constructor(options: CosStoreOptions) {
    if (typeof options !== 'object' || options === null) throw invalid('CosStore needs options with a bucket');
    const { bucket, prefix, region, client, partSize, multipartThreshold, ...settings } = options;
    checkSettings('CosStore', { ...settings, region, client, partSize, multipartThreshold }, SETTINGS);
    if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) throw invalid(`CosStore bucket ${JSON.stringify(bucket)} is not valid: ${BUCKET_RULE}`);
    if (region === undefined || !REGION.test(region) || region.startsWith('cos.')) throw invalid('CosStore needs a region like ap-guangzhou');
    if (settings.protocol !== undefined && !/^https?:?$/.test(settings.protocol)) throw invalid("CosStore protocol must be 'http' or 'https'");
    if (client !== undefined && typeof (client as Partial<COS>).getBucket !== 'function') throw invalid('CosStore client must be a COS client');
    const root = normalizePrefix(prefix);
    super(root);
    this.bucket = bucket;
    this.region = region;
    this.#client = client;
    this.#settings = settings;
    this.#secrets = [settings.secretKey, settings.securityToken].filter((s): s is string => typeof s === 'string' && s !== '');
    this.#policy = multipartPolicy('CosStore', MIN_PART_SIZE, partSize, multipartThreshold);
  }

  /**
   * Makes a store from `cos://bucket-appid/prefix` and the settings of {@link CosStoreOptions}.
   * `EINVAL` for a bad bucket name, a missing region, unknown setting names (named) or wrong types.
   */
  static fromUri(uri: URL, settings: StoreSettings = {}): CosStore {
    const { bucket, prefix } = parseBucketUri(uri, { schemes: ['cos'], connector: 'COS', bucketWord: 'bucket' });
    const checked = checkSettings('CosStore', settings, SETTINGS);
    return new CosStore({ ...(checked as Omit<CosStoreOptions, 'bucket' | 'prefix'>), bucket, prefix });
  }

  /** `cos://bucket-appid/prefix` (key segments URL-encoded); no domain, no credentials. */
  get uri(): string {
    return storeUri('cos', this.bucket, this.prefix);
  }

  /** Drops the client (an injected one is left to its owner). */
  async close(): Promise<void> {
    this.#loading = undefined;
  }

  async #sdk(): Promise<COS> {
    if (this.#client) return this.#client;
    this.#loading ??= this.#load();
    this.#loading.catch(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #load(): Promise<COS> {
    const s = this.#settings;
    const secretId = s.secretId ?? fromEnv('TENCENTCLOUD_SECRET_ID', 'COS_SECRET_ID');
    const secretKey = s.secretKey ?? fromEnv('TENCENTCLOUD_SECRET_KEY', 'COS_SECRET_KEY');
    const securityToken = s.securityToken ?? fromEnv('TENCENTCLOUD_SESSION_TOKEN');
    if (secretId === undefined || secretKey === undefined) {
      throw new StrataError('EACCES', 'CosStore has no credentials: set secretId and secretKey, or TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY');
    }
    for (const secret of [secretKey, securityToken]) if (secret !== undefined && !this.#secrets.includes(secret)) this.#secrets.push(secret);
    const mod = (await loadCosSdk()) as { default?: typeof COS } & typeof COS;
    const Cos = mod.default ?? mod;
    const options: COS.COSOptions = { SecretId: secretId, SecretKey: secretKey };
    if (securityToken !== undefined) options.SecurityToken = securityToken;
    if (s.domain !== undefined) options.Domain = s.domain;
    if (s.protocol !== undefined) options.Protocol = (s.protocol.endsWith(':') ? s.protocol : `${s.protocol}:`) as 'http:' | 'https:';
    return new Cos(options);
  }

  /** Bucket and region, as every SDK call wants them. */
  #where(key: string): { Bucket: string; Region: string; Key: string } {
    return { Bucket: this.bucket, Region: this.region, Key: key };
  }

  protected async headObject(fullKey: string): Promise<RawObject | undefined> {
    const client = await this.#sdk();
    try {
      const result = await client.headObject(this.#where(fullKey));
      return rawObjectFromHeaders(fullKey, result.headers ?? {});
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw error;
    }
  }

  protected async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    const client = await this.#sdk();
    const page = await client.getBucket({
      Bucket: this.bucket,
      Region: this.region,
      Prefix: fullPrefix,
      MaxKeys: Math.min(opts.maxKeys ?? PAGE_SIZE, PAGE_SIZE),
      ...(opts.delimiter ? { Delimiter: opts.delimiter } : {}),
      ...(opts.token ? { Marker: opts.token } : {}),
    });
    const objects = page.Contents.map((o) => rawObjectFromListing(o.Key, o.Size, o.LastModified, o.ETag));
    const prefixes = page.CommonPrefixes.map((p) => p.Prefix);
    let next: string | undefined;
    if (page.IsTruncated === 'true') {
      // NextMarker is only promised with a delimiter; otherwise the last key is the marker.
      next = page.NextMarker || [...objects.map((o) => o.key), ...prefixes].sort().pop();
    }
    return { objects, prefixes, next };
  }

  protected async getObject(fullKey: string, range: ByteRange | undefined, opts: StoreReadOptions): Promise<Readable> {
    const client = await this.#sdk();
    const headers: Record<string, string> = {};
    if (range) headers.Range = `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`;
    return readRange(range, () => this.#download(client, fullKey, headers, opts.signal));
  }

  /** GET into a {@link ResponseSink}; resolves with the body stream once a 2xx status is known. */
  #download(client: COS, fullKey: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<Readable> {
    return new Promise<Readable>((resolve, reject) => {
      let settled = false;
      const succeed = (): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        resolve(guardStream(sink, (error) => this.mapError(error), signal));
      };
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (!sink.destroyed) sink.destroy(error instanceof Error ? error : undefined); // an error makes the SDK abort the request
        reject(error);
      };
      const onAbort = (): void => fail(abortError(signal as AbortSignal));
      const sink = new ResponseSink((status) => {
        if (status < 300) succeed();
      });
      sink.on('error', fail);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      client.getObject({ ...this.#where(fullKey), Headers: headers, Output: sink }, (error) => {
        if (error) fail(error);
        else succeed();
      });
    });
  }

  protected async putObject(fullKey: string, body: Readable | Buffer, size: number | undefined, opts: StoreCallOptions): Promise<RawWriteResult> {
    const client = await this.#sdk();
    const where = this.#where(fullKey);
    const target: MultipartTarget = {
      putWhole: async (data) => {
        const md5 = createHash('md5').update(data).digest('base64');
        await client.putObject({ ...where, Body: data, ContentLength: data.length, Headers: { 'Content-MD5': md5 } });
        return {};
      },
      begin: async () => (await client.multipartInit(where)).UploadId,
      putPart: async (uploadId, partNumber, data) => (await client.multipartUpload({ ...where, UploadId: uploadId, PartNumber: partNumber, Body: data, ContentLength: data.length })).ETag,
      complete: async (uploadId, parts) => {
        await client.multipartComplete({ ...where, UploadId: uploadId, Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) });
        return {};
      },
      abort: async (uploadId) => {
        await client.multipartAbort({ ...where, UploadId: uploadId });
      },
    };
    return uploadObject(body, size, target, this.#policy, opts.signal);
  }

  protected async deleteObjects(fullKeys: string[]): Promise<void> {
    const client = await this.#sdk();
    if (fullKeys.length === 1) {
      await client.deleteObject(this.#where(fullKeys[0] as string));
      return;
    }
    if (fullKeys.length === 0) return;
    const result = await client.deleteMultipleObject({ Bucket: this.bucket, Region: this.region, Objects: fullKeys.map((Key) => ({ Key })), Quiet: true });
    const failed = result.Error.filter((e) => e && e.Key !== undefined);
    if (failed.length > 0) {
      const first = failed[0] as { Code?: string; Message?: string };
      throw Object.assign(new Error(`could not delete ${failed.length} of ${fullKeys.length} objects: ${first.Message ?? first.Code ?? 'unknown error'}`), { code: first.Code });
    }
  }

  protected async copyObject(fromFullKey: string, toFullKey: string): Promise<void> {
    const client = await this.#sdk();
    const source = `${this.bucket}.cos.${this.region}.myqcloud.com/${encodeURIComponent(fromFullKey).replace(/%2F/g, '/')}`;
    await client.putObjectCopy({ ...this.#where(toFullKey), CopySource: source });
  }

  /** The one error mapping of COS: shared table; the SDK's network and timeout codes are Node's. */
  protected mapError(error: unknown): Error {
    return mapVendorError(error, { bucket: this.bucket, secrets: this.#secrets });
  }
}
