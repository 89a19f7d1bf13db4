/**
 * {@link AzureBlobStore}: Azure Blob Storage (block blobs) as an {@link UnderStore}, on
 * `@azure/storage-blob`, loaded on first use.
 * @module
 */
import { Readable } from 'node:stream';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { StrataError, throwIfAborted } from '../../errors.js';
import { eachLimit } from '../each-limit.js';
import { ObjectStoreBase, objectSizeOf, unquoteEtag, type RawListOptions, type RawListPage, type RawObject, type RawRead, type RawWriteResult } from '../object-store-base.js';
import { checkSettingNames, parseBucketUri, prefixPath } from '../bucket-uri.js';
import { httpStatusOf, notTheStore } from '../store-errors.js';
import { guardStream, readHead } from '../stream-utils.js';
import type { ByteRange, StoreCallOptions, StoreCapabilities, StoreReadOptions, StoreSettings } from '../under-store.js';
import { createContainerClient, loadBlobSdk } from './azure-client.js';
import { mapAzureError } from './azure-errors.js';
import { AZURE_SETTING_NAMES, MAX_BLOCKS, MAX_BLOCK_SIZE, accountLocation, resolveAzureOptions, type AzureBlobStoreOptions, type ResolvedAzureOptions } from './azure-options.js';

/** Largest source `syncCopyFromURL` (Copy Blob From URL) accepts; larger blobs use the asynchronous Copy Blob. */
const SYNC_COPY_MAX = 256 * 1024 * 1024;
/** Single deletes in flight when a batch cannot be used. */
const DELETE_CONCURRENCY = 16;
/** Lifetime of the read-only SAS a copy source is given. */
const COPY_SAS_LIFETIME_MS = 60 * 60 * 1000;

/** The shared-key credential's shape (checked by shape: an injected client may come from another copy of the SDK). */
function hasSharedKey(client: BlobClient): boolean {
  const credential = (client as { credential?: { computeHMACSHA256?: unknown } }).credential;
  return typeof credential?.computeHMACSHA256 === 'function';
}

function tokenCredentialOf(client: BlobClient): { getToken(scopes: string): Promise<{ token: string } | null> } | undefined {
  const credential = (client as { credential?: { getToken?: unknown } }).credential;
  return typeof credential?.getToken === 'function' ? (credential as { getToken(scopes: string): Promise<{ token: string } | null> }) : undefined;
}

/**
 * The first page of an SDK listing (`byPage` starts at the continuation token). The SDK reads the answer's document without checking it is
 * one: the `TypeError` it then throws (an HTML page has no blob list) says the endpoint is not
 * Azure Blob.
 */
async function firstPage<T>(pages: AsyncIterator<T>): Promise<IteratorResult<T>> {
  try {
    return await pages.next();
  } catch (error) {
    if (error instanceof TypeError) throw notTheStore('Azure Blob', 'a listing without blobs');
    throw error;
  }
}

/**
 * Azure Blob Storage as a store: `azure://container/prefix` (or `az://…`). Stat by
 * `getProperties` (then a one-key listing for directories), listings by `listBlobsByHierarchy('/')`
 * / `listBlobsFlat` page by page, ranged `download`, block-blob uploads (`uploadData` for
 * bodies up to `blockSize`, `uploadStream` with bounded memory above), server-side copy
 * (`syncCopyFromURL` up to 256 MiB, `beginCopyFromURL` above), batch deletes (falling back to
 * parallel single deletes where the batch API is not available). Reads honour `ifMatch`.
 *
 * Credentials: an injected `containerClient`, else a connection string, account + key, a SAS
 * token, a `TokenCredential`, else `DefaultAzureCredential` from `@azure/identity` when that
 * optional package is installed. They live in private fields: never in `uri`, messages or
 * `util.inspect(store)`.
 */
export class AzureBlobStore extends ObjectStoreBase {
  /** `azure://container/prefix` (key segments URL-encoded); never contains a secret. */
  readonly uri: string;
  /** The container. */
  readonly container: string;
  /** Object-store capabilities, plus reads conditional on an etag that name the version they served. */
  override readonly capabilities: StoreCapabilities = { rangeRead: true, list: true, copy: true, rename: false, directories: false, conditionalRead: true, readInfo: true };
  /** A Blob Batch request holds at most 256 sub-requests. */
  protected override readonly deleteBatchSize: number = 256;

  readonly #options: ResolvedAzureOptions;
  #client: Promise<ContainerClient> | undefined;
  #batchUnsupported = false;
  #batchFailed = false;

  /** Checks the options (`EINVAL` naming a bad one); connects on the first call. */
  constructor(options: AzureBlobStoreOptions) {
    const resolved = resolveAzureOptions(options);
    super(resolved.prefix);
    this.#options = resolved;
    this.container = resolved.container;
    this.uri = `azure://${resolved.container}${prefixPath(resolved.prefix)}`;
    this.location = accountLocation(resolved.auth);
  }

  /** The account's blob endpoint (`https://ACCOUNT.blob.core.windows.net`): containers of one name in two accounts are two stores. */
  readonly location: string | undefined;

  /**
   * The store of `azure://container/prefix` or `az://container/prefix` with the mount's
   * settings (see {@link AzureBlobStoreOptions}, without `container` and `prefix`). `EINVAL`
   * for a bad URI, an unknown setting or a bad value.
   */
  static fromUri(uri: URL, settings: StoreSettings = {}): AzureBlobStore {
    const { bucket, prefix } = parseBucketUri(uri, { schemes: ['azure', 'az'], connector: 'Azure Blob', bucketWord: 'container' });
    const checked = checkSettingNames(settings, AZURE_SETTING_NAMES, 'Azure Blob');
    return new AzureBlobStore({ ...(checked as Omit<AzureBlobStoreOptions, 'container' | 'prefix'>), container: bucket, prefix });
  }

  /** The one error mapping of this connector (see `mapAzureError`). */
  protected mapError(error: unknown, call?: StoreCallOptions): Error {
    return mapAzureError(error, { container: this.container, secrets: this.#options.secrets, call });
  }

  /** The container client, created (and the container too, with `createContainer`) on first use. */
  #containerClient(): Promise<ContainerClient> {
    this.#client ??= (async () => {
      const client = await createContainerClient(this.#options.auth, this.#options.container);
      if (this.#options.createContainer) await client.createIfNotExists();
      return client;
    })().catch((error: unknown) => {
      this.#client = undefined;
      throw this.mapError(error);
    });
    return this.#client;
  }

  /** Runs one SDK call with the client; what it throws is mapped with the call's options. */
  async #run<T>(opts: StoreCallOptions, fn: (client: ContainerClient) => Promise<T>): Promise<T> {
    const client = await this.#containerClient();
    try {
      return await fn(client);
    } catch (error) {
      throw this.mapError(error, opts);
    }
  }

  protected async headObject(fullKey: string, opts: StoreCallOptions): Promise<RawObject | undefined> {
    return await this.#run(opts, async (client) => {
      try {
        const props = await client.getBlobClient(fullKey).getProperties({ abortSignal: opts.signal });
        const etag = unquoteEtag(props.etag);
        if (etag === undefined) throw notTheStore('Azure Blob', 'a blob without an ETag');
        return { key: fullKey, size: props.contentLength ?? 0, mtime: props.lastModified, etag };
      } catch (error) {
        // A HEAD has no body: a missing blob and a missing container are both a bare 404 (the
        // listing that follows for directories names the container).
        if (httpStatusOf(error) === 404 && (error as { code?: unknown }).code !== 'ContainerNotFound') return undefined;
        throw error;
      }
    });
  }

  protected async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    return await this.#run(opts, async (client) => {
      const listOptions = { prefix: fullPrefix === '' ? undefined : fullPrefix, abortSignal: opts.signal };
      const pageOptions = { continuationToken: opts.token, maxPageSize: opts.maxKeys };
      const toRaw = (item: { name: string; properties: { contentLength?: number; lastModified: Date; etag: string } }): RawObject => ({
        key: item.name,
        size: item.properties.contentLength ?? 0,
        mtime: item.properties.lastModified,
        etag: unquoteEtag(item.properties.etag),
      });
      if (opts.delimiter) {
        const page = (await firstPage(client.listBlobsByHierarchy(opts.delimiter, listOptions).byPage(pageOptions))).value;
        if (!page?.segment) throw notTheStore('Azure Blob', 'a listing without blobs');
        return {
          objects: page?.segment.blobItems.map(toRaw) ?? [],
          prefixes: page?.segment.blobPrefixes?.map((p: { name: string }) => p.name) ?? [],
          next: page?.continuationToken || undefined,
        };
      }
      const page = (await firstPage(client.listBlobsFlat(listOptions).byPage(pageOptions))).value;
      if (!page?.segment) throw notTheStore('Azure Blob', 'a listing without blobs');
      return { objects: page?.segment.blobItems.map(toRaw) ?? [], prefixes: [], next: page?.continuationToken || undefined };
    });
  }

  protected async getObject(fullKey: string, range: ByteRange | undefined, opts: StoreReadOptions): Promise<RawRead> {
    return await this.#run(opts, async (client) => {
      try {
        const response = await client.getBlobClient(fullKey).download(range?.offset ?? 0, range?.length, {
          abortSignal: opts.signal,
          conditions: opts.ifMatch === undefined ? undefined : { ifMatch: `"${opts.ifMatch}"` },
        });
        if (!response.readableStreamBody) throw new StrataError('EIO', 'Azure Blob download returned no body');
        const body = guardStream(response.readableStreamBody, (error) => this.mapError(error), opts.signal);
        return { body, size: objectSizeOf(response.contentRange, response.contentLength, range), etag: unquoteEtag(response.etag), mtime: response.lastModified };
      } catch (error) {
        // 416: the range starts at or past the end (an empty blob has no byte 0 either).
        if (httpStatusOf(error) === 416) return { body: Readable.from([]) };
        // The SDK's own check of the answer: every download from Azure Blob has a Content-Length.
        if (error instanceof RangeError && /content length/i.test(error.message)) throw notTheStore('Azure Blob', 'a download without Content-Length');
        throw error;
      }
    });
  }

  protected async putObject(fullKey: string, body: Readable | Buffer, size: number | undefined, opts: StoreCallOptions): Promise<RawWriteResult> {
    const { blockSize, uploadConcurrency } = this.#options;
    let data = Buffer.isBuffer(body) ? body : undefined;
    let stream: Readable | undefined;
    if (!Buffer.isBuffer(body)) {
      const head = await readHead(body, blockSize, opts.signal);
      if (head.complete) data = head.data;
      else stream = head.stream;
    }
    try {
      throwIfAborted(opts.signal);
      return await this.#run(opts, async (client) => {
        const blob = client.getBlockBlobClient(fullKey);
        // Blocks are staged and committed at the end: nothing is visible until the whole body is in.
        const partSize = size !== undefined ? Math.min(MAX_BLOCK_SIZE, Math.max(blockSize, Math.ceil(size / MAX_BLOCKS))) : blockSize;
        const response =
          data !== undefined
            ? await blob.uploadData(data, { abortSignal: opts.signal, blockSize, concurrency: uploadConcurrency })
            : await blob.uploadStream(stream as Readable, partSize, uploadConcurrency, { abortSignal: opts.signal });
        return { etag: unquoteEtag(response.etag), mtime: response.lastModified };
      });
    } finally {
      stream?.destroy(); // releases the source when the upload never started or stopped early
    }
  }

  protected async deleteObjects(fullKeys: string[], opts: StoreCallOptions): Promise<void> {
    await this.#run(opts, async (client) => {
      if (fullKeys.length > 1 && !this.#batchUnsupported && (await this.#deleteBatch(client, fullKeys, opts))) return;
      await eachLimit(fullKeys, DELETE_CONCURRENCY, async (key) => {
        await client.getBlobClient(key).deleteIfExists({ abortSignal: opts.signal, deleteSnapshots: 'include' });
      });
      if (this.#batchFailed) this.#batchUnsupported = true;
    });
  }

  /**
   * Deletes `keys` in one Blob Batch request; resolves `false` when the batch request itself
   * failed, so the caller deletes them one by one. Some servers and account kinds lack the
   * batch API or refuse it for some credentials (Azurite answers 500 to a batch signed with a
   * SAS); once single deletes then work, batches are turned off for this store (unless the
   * failure was throttling or a timeout).
   */
  async #deleteBatch(client: ContainerClient, keys: string[], opts: StoreCallOptions): Promise<boolean> {
    let response;
    try {
      response = await client.getBlobBatchClient().deleteBlobs(
        keys.map((key) => client.getBlobClient(key)),
        { abortSignal: opts.signal, deleteSnapshots: 'include' },
      );
    } catch (error) {
      if (opts.signal?.aborted || (error as { code?: unknown }).code === 'ContainerNotFound') throw error;
      const status = httpStatusOf(error);
      if (status !== 408 && status !== 429 && status !== 503) this.#batchFailed = true;
      return false;
    }
    for (const sub of response.subResponses) {
      if (sub.status < 300 || sub.status === 404) continue;
      throw Object.assign(new Error(sub.errorCode ?? sub.statusMessage ?? `batch delete answered ${sub.status}`), { statusCode: sub.status, code: sub.errorCode });
    }
    return true;
  }

  protected async copyObject(fromFullKey: string, toFullKey: string, opts: StoreCallOptions): Promise<void> {
    await this.#run(opts, async (client) => {
      const source = client.getBlobClient(fromFullKey);
      const target = client.getBlobClient(toFullKey);
      const props = await source.getProperties({ abortSignal: opts.signal }).catch(async (error: unknown) => {
        // A HEAD's 404 does not say what is missing: name the container when it is that.
        if (httpStatusOf(error) === 404 && !(await client.exists({ abortSignal: opts.signal }))) throw Object.assign(error as Error, { code: 'ContainerNotFound' });
        throw error;
      });
      const size = props.contentLength ?? 0;
      if (size <= SYNC_COPY_MAX) {
        const authorized = await this.#copySource(source);
        if (authorized) {
          await target.syncCopyFromURL(authorized.url, { abortSignal: opts.signal, sourceAuthorization: authorized.bearer });
          return;
        }
      }
      // Same-account asynchronous copy: the request's own credentials authorize the source.
      const poller = await target.beginCopyFromURL(await this.#copySourceUrl(source), { abortSignal: opts.signal, intervalInMs: 500 });
      const result = await poller.pollUntilDone();
      if (result.copyStatus !== undefined && result.copyStatus !== 'success') {
        throw new StrataError('EIO', `Azure Blob copy ended as '${result.copyStatus}'`);
      }
    });
  }

  /** The source URL of a copy: a short read-only SAS with a shared key, the client's own URL otherwise (it carries any SAS). */
  async #copySourceUrl(source: BlobClient): Promise<string> {
    if (!hasSharedKey(source)) return source.url;
    const sdk = await loadBlobSdk();
    return await source.generateSasUrl({ permissions: sdk.BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + COPY_SAS_LIFETIME_MS) });
  }

  /**
   * How Copy Blob From URL may read `source`: its URL with a SAS (generated from a shared key,
   * or already on the client's URL), or its plain URL with a bearer token from the client's
   * `TokenCredential`; a public or emulated container needs neither.
   */
  async #copySource(source: BlobClient): Promise<{ url: string; bearer?: { scheme: string; value: string } } | undefined> {
    const token = tokenCredentialOf(source);
    if (token) {
      const access = await token.getToken('https://storage.azure.com/.default');
      return access ? { url: source.url, bearer: { scheme: 'Bearer', value: access.token } } : undefined;
    }
    return { url: await this.#copySourceUrl(source) };
  }
}
