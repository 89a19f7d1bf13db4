/**
 * {@link GcsStore}: Google Cloud Storage as an {@link UnderStore}, on `@google-cloud/storage`,
 * loaded on first use.
 * @module
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket, FileMetadata, Storage } from '@google-cloud/storage';
import { throwIfAborted } from '../../errors.js';
import { eachLimit } from '../each-limit.js';
import { lazySdk } from '../load-sdk.js';
import { ObjectStoreBase, type RawListOptions, type RawListPage, type RawObject, type RawRead, type RawWriteResult } from '../object-store-base.js';
import { checkSettingNames, parseBucketUri, prefixPath } from '../bucket-uri.js';
import { httpStatusOf, notTheStore } from '../store-errors.js';
import { guardStream, readHead } from '../stream-utils.js';
import type { ByteRange, StoreCallOptions, StoreReadOptions, StoreSettings } from '../under-store.js';
import { mapGcsError } from './gcs-errors.js';
import { GCS_SETTING_NAMES, resolveGcsOptions, type GcsStoreOptions, type ResolvedGcsOptions } from './gcs-options.js';
import { openGcsRead } from './gcs-read.js';
import { endpointLocation } from '../endpoint-location.js';

/** `@google-cloud/storage`, imported on first use; `ENOTSUP` naming the package when it is missing. */
const loadGcsSdk = lazySdk('@google-cloud/storage', 'GCS', () => import('@google-cloud/storage'));

/** Single deletes in flight (the JSON API deletes one object per request). */
const DELETE_CONCURRENCY = 16;

function toRaw(name: string, metadata: FileMetadata | undefined): RawObject {
  const updated = metadata?.updated;
  return {
    key: name,
    size: Number(metadata?.size ?? 0),
    mtime: updated !== undefined ? new Date(updated) : undefined,
    etag: typeof metadata?.etag === 'string' ? metadata.etag : undefined,
  };
}

/**
 * Google Cloud Storage as a store: `gs://bucket/prefix` (or `gcs://…`). Stat by `getMetadata`
 * (then a one-key listing for directories), listings by `getFiles` with `prefix`, `delimiter`,
 * `autoPaginate: false` and page tokens, ranged `createReadStream({ start, end })`, writes by
 * `save` (one request, up to `resumableThreshold`) or a resumable `createWriteStream` (unknown
 * or larger sizes, bounded memory, nothing visible until it completes), server-side copy by
 * `file.copy` (rewrite; streamed through this process when the server does not implement it),
 * deletes key by key with bounded concurrency.
 *
 * Credentials: an injected `storage`, else `keyFilename` / `credentials`, else the SDK's
 * default chain (Application Default Credentials). They live in private fields: never in
 * `uri`, messages or `util.inspect(store)`.
 */
export class GcsStore extends ObjectStoreBase {
  /** `gs://bucket/prefix` (key segments URL-encoded); never contains a secret. */
  readonly uri: string;
  /** The bucket. */
  readonly bucket: string;

  readonly #options: ResolvedGcsOptions;
  #client: Promise<Bucket> | undefined;
  #rewriteUnsupported = false;

  /** Checks the options (`EINVAL` naming a bad one); connects on the first call. */
  constructor(options: GcsStoreOptions) {
    const resolved = resolveGcsOptions(options);
    super(resolved.prefix);
    this.#options = resolved;
    this.bucket = resolved.bucket;
    this.uri = `gs://${resolved.bucket}${prefixPath(resolved.prefix)}`;
  }

  /** The `apiEndpoint` setting, when one is given (an emulator or another server: its buckets are other buckets). */
  get location(): string | undefined {
    const endpoint = this.#options.storageOptions.apiEndpoint;
    return endpoint === undefined ? undefined : endpointLocation(endpoint);
  }

  /**
   * The store of `gs://bucket/prefix` or `gcs://bucket/prefix` with the mount's settings (see
   * {@link GcsStoreOptions}, without `bucket` and `prefix`). `EINVAL` for a bad URI, an unknown
   * setting or a bad value.
   */
  static fromUri(uri: URL, settings: StoreSettings = {}): GcsStore {
    const { bucket, prefix } = parseBucketUri(uri, { schemes: ['gs', 'gcs'], connector: 'GCS', bucketWord: 'bucket' });
    const checked = checkSettingNames(settings, GCS_SETTING_NAMES, 'GCS');
    return new GcsStore({ ...(checked as Omit<GcsStoreOptions, 'bucket' | 'prefix'>), bucket, prefix });
  }

  /** The one error mapping of this connector (see `mapGcsError`). */
  protected mapError(error: unknown, call?: StoreCallOptions, bucketLevel = false): Error {
    return mapGcsError(error, { bucket: this.bucket, secrets: this.#options.secrets, call, bucketLevel, keyFilename: this.#options.storageOptions.keyFilename });
  }

  /** The bucket handle, with the SDK loaded and the client built on first use. */
  #bucket(): Promise<Bucket> {
    this.#client ??= (async () => {
      let storage: Storage | undefined = this.#options.storage;
      if (storage === undefined) {
        const sdk = await loadGcsSdk();
        storage = new sdk.Storage(this.#options.storageOptions);
      }
      return storage.bucket(this.#options.bucket);
    })().catch((error: unknown) => {
      this.#client = undefined;
      throw this.mapError(error);
    });
    return this.#client;
  }

  /**
   * Runs one SDK call with the bucket; what it throws is mapped with the call's options. The
   * SDK's metadata and listing calls take no `AbortSignal`: an aborted signal stops the call
   * before it is sent.
   */
  async #run<T>(opts: StoreCallOptions, fn: (bucket: Bucket) => Promise<T>, bucketLevel = false): Promise<T> {
    const bucket = await this.#bucket();
    throwIfAborted(opts.signal);
    try {
      return await fn(bucket);
    } catch (error) {
      throw this.mapError(error, opts, bucketLevel);
    }
  }

  protected async headObject(fullKey: string, opts: StoreCallOptions): Promise<RawObject | undefined> {
    return await this.#run(opts, async (bucket) => {
      try {
        const [metadata] = await bucket.file(fullKey).getMetadata();
        const raw = toRaw(fullKey, metadata);
        if (raw.etag === undefined) throw notTheStore('Google Cloud Storage', 'an object without an etag');
        return raw;
      } catch (error) {
        if (httpStatusOf(error) === 404) return undefined; // the listing that follows for directories names a missing bucket
        throw error;
      }
    });
  }

  protected async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    return await this.#run(
      opts,
      async (bucket) => {
        const [files, nextQuery, response] = await bucket.getFiles({
          prefix: fullPrefix === '' ? undefined : fullPrefix,
          delimiter: opts.delimiter,
          autoPaginate: false,
          maxResults: opts.maxKeys,
          pageToken: opts.token,
        });
        // With a delimiter the emulator repeats `prefixes` on every page: ObjectStoreBase.list
        // yields each directory once across the pages of one listing.
        if (typeof response !== 'object' || response === null) throw notTheStore('Google Cloud Storage', 'a listing that is not a JSON object');
        const prefixes = (response as { prefixes?: unknown } | undefined)?.prefixes;
        return {
          objects: files.map((file) => toRaw(file.name, file.metadata)),
          prefixes: Array.isArray(prefixes) ? prefixes.filter((p): p is string => typeof p === 'string') : [],
          next: (nextQuery as { pageToken?: string } | null | undefined)?.pageToken || undefined,
        };
      },
      true,
    );
  }

  protected async getObject(fullKey: string, range: ByteRange | undefined, opts: StoreReadOptions): Promise<RawRead> {
    return await this.#run(opts, async (bucket) => {
      try {
        const body = await openGcsRead(bucket.file(fullKey), range, opts.signal);
        return { body: guardStream(body, (error) => this.mapError(error), opts.signal) };
      } catch (error) {
        if (httpStatusOf(error) === 416) return { body: Readable.from([]) }; // the range starts at or past the end
        throw error;
      }
    });
  }

  protected async putObject(fullKey: string, body: Readable | Buffer, _size: number | undefined, opts: StoreCallOptions): Promise<RawWriteResult> {
    let data = Buffer.isBuffer(body) ? body : undefined;
    let stream: Readable | undefined;
    if (!Buffer.isBuffer(body)) {
      const head = await readHead(body, this.#options.resumableThreshold, opts.signal);
      if (head.complete) data = head.data;
      else stream = head.stream;
    }
    try {
      return await this.#run(
        opts,
        async (bucket) => {
          const file = bucket.file(fullKey);
          if (data !== undefined && data.length <= this.#options.resumableThreshold) {
            await file.save(data, { resumable: false });
          } else {
            // A resumable upload is finalised only by its last byte: an error or an abort on the
            // way (the pipeline destroys the upload stream) leaves the previous object in place.
            const source = stream ?? Readable.from([data as Buffer]);
            await pipeline(source, file.createWriteStream({ resumable: true }), { signal: opts.signal });
          }
          const { etag, updated } = file.metadata;
          return { etag: typeof etag === 'string' ? etag : undefined, mtime: updated ? new Date(updated) : undefined };
        },
        true,
      );
    } finally {
      stream?.destroy(); // releases the source when the upload never started or stopped early
    }
  }

  protected async deleteObjects(fullKeys: string[], opts: StoreCallOptions): Promise<void> {
    await this.#run(opts, async (bucket) => {
      await eachLimit(fullKeys, DELETE_CONCURRENCY, async (key) => {
        throwIfAborted(opts.signal);
        await bucket.file(key).delete({ ignoreNotFound: true });
      });
    });
  }

  protected async copyObject(fromFullKey: string, toFullKey: string, opts: StoreCallOptions): Promise<void> {
    const streamed = await this.#run(opts, async (bucket) => {
      if (this.#rewriteUnsupported) return true;
      try {
        await bucket.file(fromFullKey).copy(bucket.file(toFullKey));
        return false;
      } catch (error) {
        if (httpStatusOf(error) !== 501) throw error;
        // A server without the rewrite API (the Firebase emulator at the JSON API's /storage/v1
        // paths): copy through this process from now on.
        this.#rewriteUnsupported = true;
        return true;
      }
    });
    if (streamed) await this.#copyThrough(fromFullKey, toFullKey, opts);
  }

  /** Copies by downloading `from` and uploading it as `to` (resumable when large). */
  async #copyThrough(fromFullKey: string, toFullKey: string, opts: StoreCallOptions): Promise<void> {
    const source = await this.#run(opts, async (bucket) => await openGcsRead(bucket.file(fromFullKey), undefined, opts.signal));
    const body = guardStream(source, (error) => this.mapError(error), opts.signal);
    try {
      await this.putObject(toFullKey, body, undefined, opts);
    } finally {
      body.destroy();
    }
  }
}
