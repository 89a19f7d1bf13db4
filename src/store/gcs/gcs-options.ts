/**
 * The settings of {@link GcsStore}: their types, defaults, and the checks run on them.
 * @module
 */
import type { Storage, StorageOptions } from '@google-cloud/storage';
import { invalid } from '../../errors.js';
import { describe, normalizePrefix } from '../../path.js';
import { parseSize, type Bytes, type SizeLike } from '../../size.js';
import { checkSettingNames, optionalEndpoint, optionalString } from '../bucket-uri.js';

/** Options of `new GcsStore(...)`. Credentials in them never reach a message, `uri` or `util.inspect`. */
export interface GcsStoreOptions {
  /** The bucket (3–63 characters of lowercase letters, digits, `-`, `_`, `.`; up to 222 with dots). */
  bucket: string;
  /** Key prefix that is the store's root (`'data/2024'`); default: the whole bucket. */
  prefix?: string;
  /** The Google Cloud project; default: from the credentials or the environment. */
  projectId?: string;
  /** Path of a service-account JSON key file. */
  keyFilename?: string;
  /** The parsed contents of a JSON key (`{ client_email, private_key, … }`) or external-account options. */
  credentials?: StorageOptions['credentials'];
  /**
   * Another endpoint (`http://127.0.0.1:9199` for an emulator). Requests to it are sent without
   * credentials unless `keyFilename` or `credentials` is given.
   */
  apiEndpoint?: string;
  /** A `Storage` to use as it is; wins over every other setting. */
  storage?: Storage;
  /**
   * Writes up to this size go in one simple upload; larger or unknown-size ones stream as a
   * resumable upload (nothing is visible until it completes). Default `'8MiB'`.
   */
  resumableThreshold?: SizeLike;
}

/** The options after checking, with defaults filled in. Holds secrets: keep it private. */
export interface ResolvedGcsOptions {
  bucket: string;
  prefix: string;
  /** An injected client, or the options to build one with (SDK retries off: see `SDK_RETRY_OPTIONS`). */
  storage: Storage | undefined;
  storageOptions: StorageOptions;
  /** Every secret in the options, for redaction. */
  secrets: string[];
  resumableThreshold: Bytes;
}

/** The setting names `GcsStore.fromUri` understands (the bucket and prefix come from the URI). */
export const GCS_SETTING_NAMES = ['projectId', 'keyFilename', 'credentials', 'apiEndpoint', 'storage', 'resumableThreshold'] as const;

/**
 * The SDK's own retries for the clients built here: none. Its default (3 retries, 2 to 9 s
 * apart, for each request) would stack under the facade's retry layer and make a dead endpoint
 * take tens of seconds per call; the SDK never retries the uploads stratafs makes (they carry no
 * generation precondition), so the retry layer, which replays every call that can be replayed,
 * loses nothing by owning them all. An injected `storage` keeps its own policy.
 */
const SDK_RETRY_OPTIONS: Readonly<NonNullable<StorageOptions['retryOptions']>> = { autoRetry: false };

/** Default of {@link GcsStoreOptions.resumableThreshold}. */
export const DEFAULT_RESUMABLE_THRESHOLD: Bytes = 8 * 1024 * 1024;

const CONNECTOR = 'GCS';

/**
 * Checks a bucket name: 3–63 characters (222 when it has dots, 63 per dot-separated part) of
 * lowercase letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit, not
 * starting with `goog`. Throws `EINVAL` otherwise.
 */
export function assertGcsBucketName(bucket: unknown): asserts bucket is string {
  if (typeof bucket !== 'string' || bucket === '') throw invalid(`GCS bucket must be a non-empty string, got ${describe(bucket)}`);
  const shown = JSON.stringify(bucket.slice(0, 80));
  const max = bucket.includes('.') ? 222 : 63;
  if (bucket.length < 3 || bucket.length > max) throw invalid(`GCS bucket name must be 3 to ${max} characters long: ${shown}`);
  if (!/^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(bucket) || bucket.split('.').some((part) => part === '' || part.length > 63)) {
    throw invalid(`GCS bucket name may hold only lowercase letters, digits, '-', '_' and '.', and must start and end with a letter or digit: ${shown}`);
  }
  if (bucket.startsWith('goog')) throw invalid(`GCS bucket name must not start with 'goog': ${shown}`);
}

function isStorage(value: unknown): value is Storage {
  const s = value as { bucket?: unknown } | null;
  return typeof s === 'object' && s !== null && typeof s.bucket === 'function';
}

/** The secret fields of a JSON key or an external-account configuration. */
function credentialSecrets(credentials: Record<string, unknown>): string[] {
  return ['private_key', 'private_key_id', 'client_secret', 'refresh_token'].map((k) => credentials[k]).filter((v): v is string => typeof v === 'string' && v !== '');
}

/** Checks every option of {@link GcsStoreOptions} and fills in the defaults. Throws `EINVAL` naming the bad setting. */
export function resolveGcsOptions(options: GcsStoreOptions): ResolvedGcsOptions {
  if (typeof options !== 'object' || options === null) throw invalid(`GcsStore needs an options object with a 'bucket'`);
  checkSettingNames(options, ['bucket', 'prefix', ...GCS_SETTING_NAMES], CONNECTOR);
  assertGcsBucketName(options.bucket);
  if (options.storage !== undefined && !isStorage(options.storage)) throw invalid(`GCS setting 'storage' must be a Storage from @google-cloud/storage, got ${describe(options.storage)}`);
  const projectId = optionalString(options.projectId, 'projectId', CONNECTOR);
  const keyFilename = optionalString(options.keyFilename, 'keyFilename', CONNECTOR);
  const apiEndpoint = optionalEndpoint(options.apiEndpoint, 'apiEndpoint', CONNECTOR);
  const credentials = options.credentials;
  if (credentials !== undefined && (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials))) {
    throw invalid(`GCS setting 'credentials' must be the object of a JSON key ({ client_email, private_key, … }), got ${describe(credentials)}`);
  }
  if (credentials !== undefined && keyFilename !== undefined) throw invalid(`GCS settings 'credentials' and 'keyFilename' are alternatives: give one`);
  const resumableThreshold = parseSize(options.resumableThreshold ?? DEFAULT_RESUMABLE_THRESHOLD, `GCS setting 'resumableThreshold'`);
  const storageOptions: StorageOptions = {
    ...(projectId !== undefined ? { projectId } : {}),
    ...(keyFilename !== undefined ? { keyFilename } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    ...(apiEndpoint !== undefined ? { apiEndpoint, useAuthWithCustomEndpoint: keyFilename !== undefined || credentials !== undefined } : {}),
    retryOptions: { ...SDK_RETRY_OPTIONS },
  };
  return {
    bucket: options.bucket,
    prefix: normalizePrefix(options.prefix, `GCS setting 'prefix'`),
    storage: options.storage,
    storageOptions,
    secrets: credentials !== undefined ? credentialSecrets(credentials as Record<string, unknown>) : [],
    resumableThreshold,
  };
}
