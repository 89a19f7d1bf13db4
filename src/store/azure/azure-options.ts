/**
 * The settings of {@link AzureBlobStore}: their types, defaults, the checks run on them, and
 * which way of signing in they amount to.
 * @module
 */
import type { TokenCredential } from '@azure/core-auth';
import type { ContainerClient } from '@azure/storage-blob';
import { invalid } from '../../errors.js';
import { describe, normalizePrefix } from '../../path.js';
import { parseSize, type Bytes, type SizeLike } from '../../size.js';
import { checkSettingNames, optionalEndpoint, optionalString } from '../bucket-uri.js';
import { endpointLocation } from '../endpoint-location.js';

/** Options of `new AzureBlobStore(...)`. Secrets in them never reach a message, `uri` or `util.inspect`. */
export interface AzureBlobStoreOptions {
  /** The container (3–63 characters: lowercase letters, digits, single `-`). Optional with `containerClient`. */
  container?: string;
  /** Key prefix that is the store's root (`'data/2024'`); default: the whole container. */
  prefix?: string;
  /** A storage connection string (`DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…` or with `SharedAccessSignature=…`). */
  connectionString?: string;
  /** The storage account; builds the endpoint `https://ACCOUNT.blob.core.windows.net` when `endpoint` is not given. */
  accountName?: string;
  /** The account's shared key (with `accountName`). */
  accountKey?: string;
  /** The blob service URL (`https://acct.blob.core.windows.net`, `http://127.0.0.1:10000/devstoreaccount1`), without a query. */
  endpoint?: string;
  /** A SAS token (with or without the leading `?`), used with `endpoint` or `accountName`. */
  sasToken?: string;
  /** A `TokenCredential` (from `@azure/identity` or your own), used with `endpoint` or `accountName`. */
  credential?: TokenCredential;
  /** A `ContainerClient` to use as it is; wins over every other way of connecting. */
  containerClient?: ContainerClient;
  /** Create the container on first use when it does not exist. Default `false` (a missing container is `ENOENT`). */
  createContainer?: boolean;
  /**
   * Writes up to this size go in one request; larger or unknown-size ones are staged as blocks
   * of this size. Default `'8MiB'` (64 KiB to 4000 MiB); grows for huge known sizes to stay within
   * 50,000 blocks.
   */
  blockSize?: SizeLike;
  /** Blocks staged at once; memory held by a streamed upload is about `uploadConcurrency × blockSize`. Default `4`. */
  uploadConcurrency?: number;
}

/** How the store signs in, decided once from the options. */
export type AzureAuth =
  | { kind: 'client'; client: ContainerClient }
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'sharedKey'; url: string; accountName: string; accountKey: string }
  | { kind: 'sas'; url: string; sasToken: string }
  | { kind: 'token'; url: string; credential: TokenCredential }
  | { kind: 'default'; url: string };

/** The options after checking, with defaults filled in. Holds secrets: keep it private. */
export interface ResolvedAzureOptions {
  container: string;
  prefix: string;
  auth: AzureAuth;
  /** Every secret in the options, for redaction. */
  secrets: string[];
  createContainer: boolean;
  blockSize: Bytes;
  uploadConcurrency: number;
}

/** The setting names `AzureBlobStore.fromUri` understands (the container and prefix come from the URI). */
export const AZURE_SETTING_NAMES = [
  'connectionString',
  'accountName',
  'accountKey',
  'endpoint',
  'sasToken',
  'credential',
  'containerClient',
  'createContainer',
  'blockSize',
  'uploadConcurrency',
] as const;

/** Azure's largest block. */
export const MAX_BLOCK_SIZE: Bytes = 4000 * 1024 * 1024;
/** Azure's largest number of blocks in one blob. */
export const MAX_BLOCKS = 50_000;
/** Default of {@link AzureBlobStoreOptions.blockSize}. */
export const DEFAULT_BLOCK_SIZE: Bytes = 8 * 1024 * 1024;

const CONNECTOR = 'Azure Blob';

/**
 * Checks a container name: 3–63 characters of lowercase letters, digits and single hyphens,
 * starting and ending with a letter or digit (or `$root`, `$web`). Throws `EINVAL` otherwise.
 */
export function assertContainerName(container: unknown): asserts container is string {
  if (typeof container !== 'string' || container === '') throw invalid(`Azure container must be a non-empty string, got ${describe(container)}`);
  if (container === '$root' || container === '$web') return;
  const shown = JSON.stringify(container.slice(0, 80));
  if (container.length < 3 || container.length > 63) throw invalid(`Azure container name must be 3 to 63 characters long: ${shown}`);
  if (!/^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(container)) {
    throw invalid(`Azure container name may hold only lowercase letters, digits and single '-', and must start and end with a letter or digit: ${shown}`);
  }
}

function isTokenCredential(value: unknown): value is TokenCredential {
  return typeof value === 'object' && value !== null && typeof (value as { getToken?: unknown }).getToken === 'function';
}

function isContainerClient(value: unknown): value is ContainerClient {
  const c = value as { containerName?: unknown; getBlobClient?: unknown } | null;
  return typeof c === 'object' && c !== null && typeof c.containerName === 'string' && typeof c.getBlobClient === 'function';
}

/** The secret values inside a connection string (`AccountKey`, `SharedAccessSignature`). */
function connectionStringSecrets(connectionString: string): string[] {
  const out: string[] = [connectionString];
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (name === 'accountkey' || name === 'sharedaccesssignature') out.push(part.slice(eq + 1).trim());
  }
  return out;
}

function resolveAuth(options: AzureBlobStoreOptions): AzureAuth {
  const connectionString = optionalString(options.connectionString, 'connectionString', CONNECTOR);
  const accountName = optionalString(options.accountName, 'accountName', CONNECTOR);
  const accountKey = optionalString(options.accountKey, 'accountKey', CONNECTOR);
  const sasToken = optionalString(options.sasToken, 'sasToken', CONNECTOR)?.replace(/^\?/, '');
  const endpoint = optionalEndpoint(options.endpoint, 'endpoint', CONNECTOR);
  if (options.credential !== undefined && !isTokenCredential(options.credential)) {
    throw invalid(`Azure Blob setting 'credential' must be a TokenCredential (an object with getToken()), got ${describe(options.credential)}`);
  }
  const credential = options.credential;
  if (options.containerClient !== undefined) {
    if (!isContainerClient(options.containerClient)) throw invalid(`Azure Blob setting 'containerClient' must be a ContainerClient from @azure/storage-blob, got ${describe(options.containerClient)}`);
    return { kind: 'client', client: options.containerClient };
  }
  if (accountName !== undefined && !/^[a-z0-9]{3,24}$/.test(accountName)) throw invalid(`Azure Blob setting 'accountName' must be 3 to 24 lowercase letters and digits`);
  const ways = [connectionString !== undefined && 'connectionString', accountKey !== undefined && 'accountKey', sasToken !== undefined && 'sasToken', credential !== undefined && 'credential'].filter(
    (w): w is string => w !== false,
  );
  if (ways.length > 1) throw invalid(`Azure Blob settings ${ways.join(' and ')} are alternatives: give only one way to sign in`);
  if (connectionString !== undefined) {
    if (accountName !== undefined || endpoint !== undefined) throw invalid(`Azure Blob setting 'connectionString' already names the account and endpoint: drop 'accountName' / 'endpoint'`);
    return { kind: 'connectionString', connectionString };
  }
  const url = endpoint ?? (accountName !== undefined ? `https://${accountName}.blob.core.windows.net` : undefined);
  if (accountKey !== undefined) {
    if (accountName === undefined) throw invalid(`Azure Blob setting 'accountKey' needs 'accountName'`);
    return { kind: 'sharedKey', url: url as string, accountName, accountKey };
  }
  if (url === undefined) {
    throw invalid(`Azure Blob needs an account: give 'connectionString', 'accountName' (+ 'accountKey'), 'endpoint' + 'sasToken', 'endpoint' + 'credential', or 'containerClient'`);
  }
  if (sasToken !== undefined) return { kind: 'sas', url, sasToken };
  // The SDK refuses to send a bearer token over plain HTTP: say so now rather than at the first call.
  if (url.startsWith('http:')) throw invalid(`Azure Blob over an http: endpoint needs 'accountKey', 'sasToken' or 'connectionString': token credentials are sent over https only`);
  if (credential !== undefined) return { kind: 'token', url, credential };
  return { kind: 'default', url };
}

/** Checks every option of {@link AzureBlobStoreOptions} and fills in the defaults. Throws `EINVAL` naming the bad setting. */
export function resolveAzureOptions(options: AzureBlobStoreOptions): ResolvedAzureOptions {
  if (typeof options !== 'object' || options === null) throw invalid(`AzureBlobStore needs an options object with a 'container'`);
  checkSettingNames(options, ['container', 'prefix', ...AZURE_SETTING_NAMES], CONNECTOR);
  const auth = resolveAuth(options);
  let container = options.container;
  if (auth.kind === 'client') {
    if (container === undefined) container = auth.client.containerName;
    else if (container !== auth.client.containerName) throw invalid(`Azure Blob container ${JSON.stringify(container)} differs from the containerClient's ${JSON.stringify(auth.client.containerName)}`);
  }
  assertContainerName(container);
  if (options.createContainer !== undefined && typeof options.createContainer !== 'boolean') {
    throw invalid(`Azure Blob setting 'createContainer' must be a boolean, got ${describe(options.createContainer)}`);
  }
  const blockSize = parseSize(options.blockSize ?? DEFAULT_BLOCK_SIZE, `Azure Blob setting 'blockSize'`);
  if (blockSize < 64 * 1024 || blockSize > MAX_BLOCK_SIZE) throw invalid(`Azure Blob setting 'blockSize' must be between 64 KiB and 4000 MiB, got ${blockSize}`);
  const uploadConcurrency = options.uploadConcurrency ?? 4;
  if (typeof uploadConcurrency !== 'number' || !Number.isSafeInteger(uploadConcurrency) || uploadConcurrency < 1 || uploadConcurrency > 64) {
    throw invalid(`Azure Blob setting 'uploadConcurrency' must be an integer from 1 to 64, got ${describe(uploadConcurrency)}`);
  }
  const secrets: string[] = [];
  if (auth.kind === 'connectionString') secrets.push(...connectionStringSecrets(auth.connectionString));
  if (auth.kind === 'sharedKey') secrets.push(auth.accountKey);
  if (auth.kind === 'sas') secrets.push(auth.sasToken, options.sasToken as string);
  return {
    container,
    prefix: normalizePrefix(options.prefix, `Azure Blob setting 'prefix'`),
    auth,
    secrets,
    createContainer: options.createContainer ?? false,
    blockSize,
    uploadConcurrency,
  };
}

/**
 * The account an {@link AzureAuth} reaches, as its blob endpoint without query or secret
 * (`https://ACCOUNT.blob.core.windows.net`, `http://127.0.0.1:10000/devstoreaccount1`): the
 * location that tells two accounts' containers of one name apart. `undefined` when it cannot
 * be told (a connection string without `BlobEndpoint` nor `AccountName`).
 */
export function accountLocation(auth: AzureAuth): string | undefined {
  if (auth.kind === 'client') {
    const url = new URL(auth.client.url);
    const container = `/${encodeURIComponent(auth.client.containerName)}`;
    const path = url.pathname.endsWith(container) ? url.pathname.slice(0, -container.length) : url.pathname;
    return endpointLocation(`${url.origin}${path}`);
  }
  if (auth.kind !== 'connectionString') return endpointLocation(auth.url);
  const fields = new Map(auth.connectionString.split(';').map((part) => [part.slice(0, part.indexOf('=')).trim().toLowerCase(), part.slice(part.indexOf('=') + 1).trim()]));
  const endpoint = fields.get('blobendpoint');
  if (endpoint) return endpointLocation(endpoint);
  // The SDK's shorthand for the local emulator's well-known account.
  if (fields.get('usedevelopmentstorage')?.toLowerCase() === 'true') return endpointLocation('http://127.0.0.1:10000/devstoreaccount1');
  const account = fields.get('accountname');
  if (!account) return undefined;
  return endpointLocation(`${fields.get('defaultendpointsprotocol') ?? 'https'}://${account}.blob.${fields.get('endpointsuffix') ?? 'core.windows.net'}`);
}

