/**
 * The settings of {@link S3Store}: their types, defaults, and the checks run on them (from a
 * constructor call or from a `s3://bucket/prefix` URI with `MountOptions.options`).
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { invalid } from '../../errors.js';
import { describe, normalizePrefix } from '../../path.js';
import { parseSize, type Bytes, type SizeLike } from '../../size.js';
import { checkSettingNames, optionalEndpoint, optionalString, parseBucketUri } from '../bucket-uri.js';

/** Static S3 credentials. Kept out of every message, URI and `util.inspect` output. */
export interface S3Credentials {
  /** The access key id (`AKIA…`). */
  accessKeyId: string;
  /** The secret access key. */
  secretAccessKey: string;
  /** The session token of temporary (STS) credentials. */
  sessionToken?: string;
}

/** A function the SDK calls for (fresh) credentials, as the SDK's own credential providers are. */
export type S3CredentialProvider = () => Promise<
  S3Credentials & {
    /**
     * When the credentials stop working; the SDK calls the provider again 5 minutes before it.
     * Trap: without it, the first answer is kept for the client's whole life.
     */
    expiration?: Date;
  }
>;

/** Options of `new S3Store(...)`. */
export interface S3StoreOptions {
  /** The bucket (3–63 characters: lowercase letters, digits, `.`, `-`; `_` for S3-compatible stores). */
  bucket: string;
  /** Key prefix that is the store's root (`'data/2024'`); default: the whole bucket. */
  prefix?: string;
  /** AWS region; default: the SDK's chain (`AWS_REGION`, config file), or `us-east-1` with an `endpoint`. */
  region?: string;
  /** Endpoint of an S3-compatible store (`https://minio.local:9000`); default: AWS. */
  endpoint?: string;
  /** Address buckets as `endpoint/bucket` instead of `bucket.endpoint` (MinIO, Ceph, s3rver). Default `false`. */
  forcePathStyle?: boolean;
  /** Static credentials or a provider; default: the SDK's default chain (env, profile, SSO, IMDS…). */
  credentials?: S3Credentials | S3CredentialProvider;
  /** An `S3Client` to use as it is; wins over `region`, `endpoint`, `forcePathStyle`, `credentials`. Not destroyed by `close()`. */
  client?: S3Client;
  /** Writes up to this size go in one `PutObject`; larger ones as a multipart upload. Default `'8MiB'` (at most 5 GiB). */
  multipartThreshold?: SizeLike;
  /** Part size of multipart uploads (at least 5 MiB). Default `'8MiB'`; grows for huge known sizes to stay within 10,000 parts. */
  partSize?: SizeLike;
  /** Parts uploaded at once; memory held by an upload is at most `queueSize × partSize`. Default `4`. */
  queueSize?: number;
}

/** The settings after checking, with defaults filled in. */
export interface ResolvedS3Options {
  bucket: string;
  prefix: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: S3Credentials | S3CredentialProvider;
  client?: S3Client;
  multipartThreshold: Bytes;
  partSize: Bytes;
  queueSize: number;
}

/** S3's smallest part (all parts but the last). */
export const MIN_PART_SIZE: Bytes = 5 * 1024 * 1024;
/** S3's largest single `PutObject`, and largest part. */
export const MAX_PUT_SIZE: Bytes = 5 * 1024 ** 3;
/** S3's largest number of parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** Default of {@link S3StoreOptions.multipartThreshold} and {@link S3StoreOptions.partSize}. */
export const DEFAULT_PART_SIZE: Bytes = 8 * 1024 * 1024;

/** The setting names `S3Store` understands (besides `bucket` and `prefix`, which come from the URI). */
export const S3_SETTING_NAMES = ['region', 'endpoint', 'forcePathStyle', 'credentials', 'client', 'multipartThreshold', 'partSize', 'queueSize'] as const;

/**
 * Checks a bucket name against S3's naming rules: 3–63 characters of lowercase letters, digits,
 * `.` and `-` (and `_`, which some S3-compatible stores allow), starting and ending with a letter
 * or digit, no `..`, not an IPv4 address. Throws `EINVAL` otherwise.
 */
export function assertBucketName(bucket: unknown): asserts bucket is string {
  if (typeof bucket !== 'string' || bucket === '') throw invalid(`S3 bucket must be a non-empty string, got ${describe(bucket)}`);
  const shown = JSON.stringify(bucket.slice(0, 80));
  if (bucket.length < 3 || bucket.length > 63) throw invalid(`S3 bucket name must be 3 to 63 characters long: ${shown}`);
  if (!/^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(bucket)) {
    throw invalid(`S3 bucket name may hold only lowercase letters, digits, '.', '-' (and '_'), and must start and end with a letter or digit: ${shown}`);
  }
  if (bucket.includes('..')) throw invalid(`S3 bucket name must not contain '..': ${shown}`);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bucket)) throw invalid(`S3 bucket name must not look like an IP address: ${shown}`);
}

function checkCredentials(value: unknown): S3Credentials | S3CredentialProvider | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as S3CredentialProvider;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`S3 setting 'credentials' must be { accessKeyId, secretAccessKey, sessionToken? } or a provider function, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  // Other fields (the SDK's `expiration`, `$source`, `credentialScope`…) are ignored.
  const c = value as Record<string, unknown>;
  // Never echo the values: only say which field is wrong.
  for (const field of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof c[field] !== 'string' || c[field] === '') throw invalid(`S3 setting 'credentials.${field}' must be a non-empty string`);
  }
  if (c.sessionToken !== undefined && (typeof c.sessionToken !== 'string' || c.sessionToken === '')) throw invalid(`S3 setting 'credentials.sessionToken' must be a non-empty string`);
  return { accessKeyId: c.accessKeyId as string, secretAccessKey: c.secretAccessKey as string, ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken as string } : {}) };
}

function checkClient(value: unknown): S3Client | undefined {
  if (value === undefined) return undefined;
  const client = value as { send?: unknown; config?: unknown } | null;
  if (typeof client !== 'object' || client === null || typeof client.send !== 'function' || typeof client.config !== 'object') {
    throw invalid(`S3 setting 'client' must be an S3Client from @aws-sdk/client-s3, got ${describe(value)}`);
  }
  return value as S3Client;
}

/** Checks every setting of {@link S3StoreOptions} and fills in the defaults. Throws `EINVAL` naming a bad or unknown setting. */
export function resolveS3Options(options: S3StoreOptions): ResolvedS3Options {
  if (typeof options !== 'object' || options === null) throw invalid(`S3Store needs an options object with a 'bucket'`);
  checkSettingNames(options, ['bucket', 'prefix', ...S3_SETTING_NAMES], 'S3');
  assertBucketName(options.bucket);
  const prefix = normalizePrefix(options.prefix, `S3 setting 'prefix'`);
  if (options.forcePathStyle !== undefined && typeof options.forcePathStyle !== 'boolean') {
    throw invalid(`S3 setting 'forcePathStyle' must be a boolean, got ${describe(options.forcePathStyle)}`);
  }
  const multipartThreshold = parseSize(options.multipartThreshold ?? DEFAULT_PART_SIZE, `S3 setting 'multipartThreshold'`);
  if (multipartThreshold < 1 || multipartThreshold > MAX_PUT_SIZE) throw invalid(`S3 setting 'multipartThreshold' must be between 1 byte and 5 GiB, got ${multipartThreshold}`);
  const partSize = parseSize(options.partSize ?? DEFAULT_PART_SIZE, `S3 setting 'partSize'`);
  if (partSize < MIN_PART_SIZE || partSize > MAX_PUT_SIZE) throw invalid(`S3 setting 'partSize' must be between 5 MiB and 5 GiB, got ${partSize}`);
  const queueSize = options.queueSize ?? 4;
  if (typeof queueSize !== 'number' || !Number.isSafeInteger(queueSize) || queueSize < 1 || queueSize > 64) {
    throw invalid(`S3 setting 'queueSize' must be an integer from 1 to 64, got ${describe(queueSize)}`);
  }
  return {
    bucket: options.bucket,
    prefix,
    region: optionalString(options.region, 'region', 'S3'),
    endpoint: optionalEndpoint(options.endpoint, 'endpoint', 'S3'),
    forcePathStyle: options.forcePathStyle,
    credentials: checkCredentials(options.credentials),
    client: checkClient(options.client),
    multipartThreshold,
    partSize,
    queueSize,
  };
}

/**
 * Reads `s3://bucket/prefix` and the mount's settings into {@link S3StoreOptions}. Throws
 * `EINVAL` for another scheme, a port, a query or fragment, a bad bucket name, unknown setting
 * names (naming them) and settings of the wrong type.
 */
export function parseS3Uri(uri: URL, settings: Record<string, unknown> = {}): S3StoreOptions {
  const { bucket, prefix } = parseBucketUri(uri, { schemes: ['s3'], connector: 'S3', bucketWord: 'bucket' });
  assertBucketName(bucket);
  const known = checkSettingNames(settings, S3_SETTING_NAMES, 'S3');
  return { ...(known as Omit<S3StoreOptions, 'bucket' | 'prefix'>), bucket, prefix };
}
