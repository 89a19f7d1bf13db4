/**
 * Aliyun Object Storage Service (`oss://bucket/prefix`) on the official `ali-oss` SDK, loaded
 * on first use.
 * @module
 */
import type { Readable } from 'node:stream';
import { StrataError, invalid } from '../../errors.js';
import { normalizePrefix } from '../../path.js';
import { ObjectStoreBase, type RawListOptions, type RawListPage, type RawObject, type RawWriteResult } from '../object-store-base.js';
import type { ByteRange, StoreCallOptions, StoreReadOptions, StoreSettings } from '../under-store.js';
import { parseBucketUri } from '../bucket-uri.js';
import { lazySdk } from '../load-sdk.js';
import { guardStream } from '../stream-utils.js';
import {
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
import type { AliOssClient, AliOssClientOptions, AliOssConstructor } from './ali-oss-types.js';

/** `ali-oss`, imported on the first request of the first OSS store. */
const loadAliOss = lazySdk('ali-oss', 'OSS', () => import('ali-oss'));

/** Settings of {@link OssStore} (the constructor's argument; a URI gives `bucket` and `prefix`). */
export interface OssStoreOptions {
  /** Bucket name: 3-63 lower-case letters, digits and `-`, starting and ending with a letter or digit. */
  bucket: string;
  /** Key prefix the store is rooted at (no leading/trailing `/`); default: the whole bucket. */
  prefix?: string;
  /** Region, `oss-cn-hangzhou` or `cn-hangzhou`; used when `endpoint` is not given. SDK default: `oss-cn-hangzhou`. */
  region?: string;
  /** Endpoint URL or host (`https://oss-cn-beijing.aliyuncs.com`, a custom domain, a test server). */
  endpoint?: string;
  /** AccessKey ID; default `OSS_ACCESS_KEY_ID`, then `ALIBABA_CLOUD_ACCESS_KEY_ID`. */
  accessKeyId?: string;
  /** AccessKey secret; default `OSS_ACCESS_KEY_SECRET`, then `ALIBABA_CLOUD_ACCESS_KEY_SECRET`. Never shown anywhere. */
  accessKeySecret?: string;
  /** STS security token of temporary credentials; default `OSS_SESSION_TOKEN`, then `ALIBABA_CLOUD_SECURITY_TOKEN`. */
  stsToken?: string;
  /** Use HTTPS when `endpoint` has no scheme or with `region`; default `true`. */
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

const SETTINGS = {
  region: 'string',
  endpoint: 'string',
  accessKeyId: 'string',
  accessKeySecret: 'string',
  stsToken: 'string',
  secure: 'boolean',
  pathStyle: 'boolean',
  client: 'object',
  partSize: 'number',
  multipartThreshold: 'number',
} as const;

/** OSS's smallest part (all but the last). */
const MIN_PART_SIZE = 100 * 1024;
const BUCKET_RULE = '3-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit';
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** Listing page size (OSS's default is only 100). */
const PAGE_SIZE = 1000;

/**
 * An {@link UnderStore} on an Aliyun OSS bucket through `ali-oss`. The SDK is imported on the
 * first request, so `stratafs` never loads it unless an OSS store is used. Listing uses
 * ListObjectsV2 (`list-type=2`), ranged reads ask for standard range behaviour (a range past
 * the end is empty, not the whole object), large writes use multipart uploads that are
 * aborted on failure. Credentials live inside the client only.
 */
export class OssStore extends ObjectStoreBase {
  /** The bucket name. */
  readonly bucket: string;
  #settings: Omit<OssStoreOptions, 'bucket' | 'prefix' | 'client' | 'partSize' | 'multipartThreshold'>;
  #client: AliOssClient | undefined;
  #loading: Promise<AliOssClient> | undefined;
  #secrets: string[];
  #policy: MultipartPolicy;

  constructor(options: OssStoreOptions) {
    if (typeof options !== 'object' || options === null) throw invalid('OssStore needs options with a bucket');
    const { bucket, prefix, client, partSize, multipartThreshold, ...settings } = options;
    checkSettings('OssStore', { ...settings, client, partSize, multipartThreshold }, SETTINGS);
    if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) throw invalid(`OssStore bucket ${JSON.stringify(bucket)} is not valid: ${BUCKET_RULE}`);
    if (client !== undefined && typeof (client as Partial<AliOssClient>).listV2 !== 'function') throw invalid('OssStore client must be an ali-oss client');
    const root = normalizePrefix(prefix);
    super(root);
    this.bucket = bucket;
    this.#client = client;
    this.#settings = settings;
    this.#secrets = [settings.accessKeySecret, settings.stsToken].filter((s): s is string => typeof s === 'string' && s !== '');
    this.#policy = multipartPolicy('OssStore', MIN_PART_SIZE, partSize, multipartThreshold);
  }

  /**
   * Makes a store from `oss://bucket/prefix` and the settings of {@link OssStoreOptions}.
   * `EINVAL` for a bad bucket name, unknown setting names (named) or wrong types.
   */
  static fromUri(uri: URL, settings: StoreSettings = {}): OssStore {
    const { bucket, prefix } = parseBucketUri(uri, { schemes: ['oss'], connector: 'OSS', bucketWord: 'bucket' });
    const checked = checkSettings('OssStore', settings, SETTINGS);
    return new OssStore({ ...(checked as Omit<OssStoreOptions, 'bucket' | 'prefix'>), bucket, prefix });
  }

  /** `oss://bucket/prefix` (key segments URL-encoded); no endpoint, no credentials. */
  get uri(): string {
    return storeUri('oss', this.bucket, this.prefix);
  }

  /** Drops the client (an injected one is left to its owner). */
  async close(): Promise<void> {
    this.#loading = undefined;
  }

  /** The client: the injected one, or one built from the settings on first use. */
  async #sdk(): Promise<AliOssClient> {
    if (this.#client) return this.#client;
    this.#loading ??= this.#load();
    this.#loading.catch(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #load(): Promise<AliOssClient> {
    const s = this.#settings;
    const accessKeyId = s.accessKeyId ?? fromEnv('OSS_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_ID');
    const accessKeySecret = s.accessKeySecret ?? fromEnv('OSS_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    const stsToken = s.stsToken ?? fromEnv('OSS_SESSION_TOKEN', 'ALIBABA_CLOUD_SECURITY_TOKEN');
    if (accessKeyId === undefined || accessKeySecret === undefined) {
      throw new StrataError('EACCES', 'OssStore has no credentials: set accessKeyId and accessKeySecret, or OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET');
    }
    for (const secret of [accessKeySecret, stsToken]) if (secret !== undefined && !this.#secrets.includes(secret)) this.#secrets.push(secret);
    const mod = (await loadAliOss()) as { default?: unknown };
    const OSS = (typeof mod.default === 'function' ? mod.default : mod) as AliOssConstructor;
    const options: AliOssClientOptions = { bucket: this.bucket, accessKeyId, accessKeySecret, secure: s.secure ?? true };
    if (stsToken !== undefined) options.stsToken = stsToken;
    if (s.region !== undefined) options.region = s.region.startsWith('oss-') ? s.region : `oss-${s.region}`;
    if (s.endpoint !== undefined) options.endpoint = s.endpoint;
    if (s.pathStyle) options.sldEnable = true;
    try {
      return new OSS(options);
    } catch (error) {
      throw this.mapError(error);
    }
  }

  protected async headObject(fullKey: string): Promise<RawObject | undefined> {
    const client = await this.#sdk();
    try {
      const result = await client.head(fullKey);
      return rawObjectFromHeaders(fullKey, result.res.headers);
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw error;
    }
  }

  protected async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    const client = await this.#sdk();
    const query: Record<string, string | number> = { prefix: fullPrefix, 'max-keys': Math.min(opts.maxKeys ?? PAGE_SIZE, PAGE_SIZE) };
    if (opts.delimiter) query.delimiter = opts.delimiter;
    if (opts.token) query['continuation-token'] = opts.token;
    const page = await client.listV2(query);
    return {
      objects: (page.objects ?? []).map((o) => rawObjectFromListing(o.name, o.size, o.lastModified, o.etag)),
      prefixes: page.prefixes ?? [],
      next: page.isTruncated ? (page.nextContinuationToken ?? undefined) : undefined,
    };
  }

  protected async getObject(fullKey: string, range: ByteRange | undefined, opts: StoreReadOptions): Promise<Readable> {
    const client = await this.#sdk();
    const headers: Record<string, string> = {};
    if (range) {
      headers.Range = `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`;
      headers['x-oss-range-behavior'] = 'standard';
    }
    return readRange(range, async () => {
      const result = await client.getStream(fullKey, { headers });
      return guardStream(result.stream, (error) => this.mapError(error), opts.signal);
    });
  }

  protected async putObject(fullKey: string, body: Readable | Buffer, size: number | undefined, opts: StoreCallOptions): Promise<RawWriteResult> {
    const client = await this.#sdk();
    const target: MultipartTarget = {
      putWhole: async (data) => {
        await client.put(fullKey, data);
        return {};
      },
      begin: async () => (await client.initMultipartUpload(fullKey)).uploadId,
      putPart: async (uploadId, partNumber, data) => (await client.uploadPart(fullKey, uploadId, partNumber, data, 0, data.length)).etag,
      complete: async (uploadId, parts) => {
        await client.completeMultipartUpload(fullKey, uploadId, parts.map((p) => ({ number: p.partNumber, etag: p.etag })));
        return {};
      },
      abort: async (uploadId) => {
        await client.abortMultipartUpload(fullKey, uploadId);
      },
    };
    return uploadObject(body, size, target, this.#policy, opts.signal);
  }

  protected async deleteObjects(fullKeys: string[]): Promise<void> {
    const client = await this.#sdk();
    if (fullKeys.length === 1) await client.delete(fullKeys[0] as string);
    else if (fullKeys.length > 1) {
      // ali-oss does not surface per-key errors: ask for the deleted list and compare.
      const result = await client.deleteMulti(fullKeys, { quiet: false });
      const deleted = new Set(result.deleted.map((d) => (d as { Key?: unknown }).Key));
      const missed = fullKeys.filter((k) => !deleted.has(k));
      if (missed.length > 0) throw new StrataError('EIO', `could not delete ${missed.length} of ${fullKeys.length} objects`);
    }
  }

  protected async copyObject(fromFullKey: string, toFullKey: string): Promise<void> {
    const client = await this.#sdk();
    await client.copy(toFullKey, fromFullKey);
  }

  /** The one error mapping of OSS: shared table plus `ali-oss`'s own timeout and network errors. */
  protected mapError(error: unknown): Error {
    const status = (error as { status?: unknown } | undefined)?.status;
    const mapped = mapVendorError(error, {
      bucket: this.bucket,
      secrets: this.#secrets,
      names: { ResponseTimeoutError: 'ETIMEDOUT', ConnectionTimeoutError: 'ETIMEDOUT' },
    });
    // ali-oss reports a broken connection as status -1 (and a timeout as -2, mapped above by name).
    if (mapped instanceof StrataError && status === -1) mapped.temporary = true;
    return mapped;
  }
}
