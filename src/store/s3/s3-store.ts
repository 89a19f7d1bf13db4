/**
 * `S3Store`: AWS S3 and S3-compatible stores (MinIO, Ceph RGW, R2, Wasabi, OSS/COS in S3 mode)
 * as an {@link UnderStore}, on `@aws-sdk/client-s3` (loaded on first use).
 * @module
 */
import { Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { ByteRange, StoreCallOptions, StoreReadOptions, StoreCapabilities } from '../under-store.js';
import { ObjectStoreBase, objectSizeOf, quoteEtag, rangeHeader, unquoteEtag, type RawListOptions, type RawListPage, type RawObject, type RawRead, type RawWriteResult } from '../object-store-base.js';
import { sliceStream } from '../../io/slice-stream.js';
import { httpStatusOf, notTheStore } from '../store-errors.js';
import { guardStream } from '../stream-utils.js';
import { copyObject } from './copy.js';
import { mapS3Error } from './errors.js';
import { parseS3Uri, resolveS3Options, type ResolvedS3Options, type S3StoreOptions } from './options.js';
import { loadS3Sdk } from './sdk.js';
import { uploadObject } from './upload.js';
import { endpointLocation } from '../endpoint-location.js';
import { prefixPath } from '../bucket-uri.js';

/**
 * An S3 bucket (or a key prefix in it) as a store: `new S3Store({ bucket, prefix, region, … })`
 * or the URI `s3://bucket/prefix` with the same settings.
 *
 * - stat: `HeadObject`, then a one-key `ListObjectsV2` to recognise directories (markers or prefixes);
 * - list: `ListObjectsV2` with `/` as delimiter (recursive: without), following continuation tokens;
 * - read: `GetObject`, with `Range: bytes=a-b` for ranges; the body streams as it arrives (and is
 *   cut here if a server ignores `Range`);
 * - write: one `PutObject` up to `multipartThreshold`, else a multipart upload with bounded memory
 *   that is aborted on failure or abort, so the previous object (or nothing) remains;
 * - delete: `DeleteObject`, or `DeleteObjects` (quiet) in batches of 1,000;
 * - copy: `CopyObject` (multipart copy above 5 GiB). Rename is copy + delete per object, done by
 *   the facade: not atomic, and it costs one copy per object.
 *
 * `capabilities.conditionalRead` is `true`: `read` sends `If-Match` when `opts.ifMatch` is given
 * (AWS S3 answers 412 -> `ESTALE`); the base class also compares the ETag of the answer with
 * it, for S3-compatible servers that ignore `If-Match` (a server that sends no ETag cannot be checked).
 * `capabilities.readInfo` is `true`: `readWithInfo` takes the size and ETag from the GET's own
 * answer.
 * Credentials never appear in `uri`, error messages, causes or `util.inspect(store)`.
 */
export class S3Store extends ObjectStoreBase {
  /** Ranged, conditional reads whose answers carry the size and ETag; server-side copy; no rename (copy + delete) and no real directories. */
  override readonly capabilities: StoreCapabilities = { rangeRead: true, list: true, copy: true, rename: false, directories: false, conditionalRead: true, readInfo: true };
  /** The bucket. */
  readonly bucket: string;
  readonly #options: ResolvedS3Options;
  #client: Promise<S3Client> | undefined;
  readonly #ownsClient: boolean;

  /** Checks the options (`EINVAL` naming a bad one); creates no client and loads no SDK yet. */
  constructor(options: S3StoreOptions) {
    const resolved = resolveS3Options(options);
    super(resolved.prefix);
    this.bucket = resolved.bucket;
    this.#options = resolved;
    this.#ownsClient = resolved.client === undefined;
    if (resolved.client) this.#client = Promise.resolve(resolved.client);
  }

  /**
   * Makes a store from `s3://bucket/prefix` and the mount's settings (`region`, `endpoint`,
   * `forcePathStyle`, `credentials`, `client`, `multipartThreshold`, `partSize`, `queueSize`).
   * `EINVAL` for a bad bucket name, unknown setting names (named in the message) or wrong types.
   */
  static fromUri(uri: URL, settings: Record<string, unknown> = {}): S3Store {
    return new S3Store(parseS3Uri(uri, settings));
  }

  /** `s3://bucket/prefix` (key segments URL-encoded); no endpoint, no credentials. */
  get uri(): string {
    return `s3://${this.bucket}${prefixPath(this.prefix)}`;
  }

  /** The `endpoint` setting, when one is given (another server than AWS S3: its buckets are other buckets). */
  get location(): string | undefined {
    return this.#options.endpoint === undefined ? undefined : endpointLocation(this.#options.endpoint);
  }

  /** The `S3Client` in use (the injected one, or one made from the settings on first use). */
  protected client(): Promise<S3Client> {
    this.#client ??= this.createClient();
    return this.#client;
  }

  private async createClient(): Promise<S3Client> {
    const { S3Client } = await loadS3Sdk();
    const o = this.#options;
    const config: S3ClientConfig = {};
    const region = o.region ?? (o.endpoint !== undefined ? 'us-east-1' : undefined);
    if (region !== undefined) config.region = region;
    if (o.endpoint !== undefined) config.endpoint = o.endpoint;
    if (o.forcePathStyle !== undefined) config.forcePathStyle = o.forcePathStyle;
    if (o.credentials !== undefined) config.credentials = o.credentials;
    return new S3Client(config);
  }

  /** Secrets to redact from messages, whatever the SDK puts in them. */
  private secrets(): string[] {
    const c = this.#options.credentials;
    if (c === undefined || typeof c === 'function') return [];
    return [c.secretAccessKey, ...(c.sessionToken !== undefined ? [c.sessionToken] : [])];
  }

  /** The S3 connector's one error mapping (see `mapS3Error`). */
  protected mapError(error: unknown): Error {
    return mapS3Error(error, { bucket: this.bucket, secrets: this.secrets() });
  }

  protected async headObject(fullKey: string, opts: StoreCallOptions): Promise<RawObject | undefined> {
    const [{ HeadObjectCommand }, client] = await Promise.all([loadS3Sdk(), this.client()]);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey }), { abortSignal: opts.signal });
      const etag = unquoteEtag(head.ETag);
      if (etag === undefined) throw notTheStore('S3', 'an object without an ETag');
      return { key: fullKey, size: head.ContentLength ?? 0, mtime: head.LastModified, etag };
    } catch (error) {
      if (httpStatusOf(error) === 404 && (error as { name?: unknown }).name !== 'NoSuchBucket') return undefined;
      throw error;
    }
  }

  protected async listPage(fullPrefix: string, opts: RawListOptions): Promise<RawListPage> {
    const [{ ListObjectsV2Command }, client] = await Promise.all([loadS3Sdk(), this.client()]);
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        ...(fullPrefix !== '' ? { Prefix: fullPrefix } : {}),
        ...(opts.delimiter !== undefined ? { Delimiter: opts.delimiter } : {}),
        ...(opts.token !== undefined ? { ContinuationToken: opts.token } : {}),
        ...(opts.maxKeys !== undefined ? { MaxKeys: opts.maxKeys } : {}),
      }),
      { abortSignal: opts.signal },
    );
    if (page.IsTruncated === undefined) throw notTheStore('S3', 'a listing without IsTruncated');
    return {
      objects: (page.Contents ?? [])
        .filter((o) => typeof o.Key === 'string')
        .map((o) => ({ key: o.Key!, size: o.Size ?? 0, mtime: o.LastModified, etag: unquoteEtag(o.ETag) })),
      prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix).filter((p): p is string => typeof p === 'string'),
      next: page.IsTruncated ? page.NextContinuationToken : undefined,
    };
  }

  protected async getObject(fullKey: string, range: ByteRange | undefined, opts: StoreReadOptions): Promise<RawRead> {
    const [{ GetObjectCommand }, client] = await Promise.all([loadS3Sdk(), this.client()]);
    const header = rangeHeader(range);
    let response;
    try {
      response = await client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: fullKey,
          ...(header !== undefined ? { Range: header } : {}),
          ...(opts.ifMatch !== undefined ? { IfMatch: quoteEtag(opts.ifMatch) } : {}),
        }),
        { abortSignal: opts.signal },
      );
    } catch (error) {
      // A range of an empty object (or past its end) is "not satisfiable": that is no bytes.
      if (header !== undefined && httpStatusOf(error) === 416) return { body: Readable.from([]) };
      throw error;
    }
    const body = response.Body as unknown;
    let stream: Readable;
    if (body instanceof Readable) stream = body;
    else if (body === undefined || body === null) stream = Readable.from([]);
    else if (typeof (body as { getReader?: unknown }).getReader === 'function') stream = Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]);
    else stream = Readable.from(body as AsyncIterable<Uint8Array>);
    // A server that ignores Range answers 200 with the whole object: cut it here.
    if (header !== undefined && range !== undefined && response.ContentRange === undefined) stream = sliceStream(stream, range);
    const guarded = guardStream(stream, (error) => this.mapError(error), opts.signal);
    return { body: guarded, size: objectSizeOf(response.ContentRange, response.ContentLength, range), etag: unquoteEtag(response.ETag), mtime: response.LastModified };
  }

  protected async putObject(fullKey: string, body: Readable | Buffer, size: number | undefined, opts: StoreCallOptions): Promise<RawWriteResult> {
    const client = await this.client();
    const o = this.#options;
    return await uploadObject(
      { client, bucket: this.bucket, key: fullKey, multipartThreshold: o.multipartThreshold, partSize: o.partSize, queueSize: o.queueSize, signal: opts.signal },
      body,
      size,
    );
  }

  protected async deleteObjects(fullKeys: string[], opts: StoreCallOptions): Promise<void> {
    if (fullKeys.length === 0) return;
    const [{ DeleteObjectCommand, DeleteObjectsCommand }, client] = await Promise.all([loadS3Sdk(), this.client()]);
    if (fullKeys.length === 1) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: fullKeys[0] }), { abortSignal: opts.signal });
      } catch (error) {
        if (httpStatusOf(error) === 404 && (error as { name?: unknown }).name !== 'NoSuchBucket') return;
        throw error;
      }
      return;
    }
    const result = await client.send(
      new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: fullKeys.map((Key) => ({ Key })), Quiet: true } }),
      { abortSignal: opts.signal },
    );
    const failure = (result.Errors ?? []).find((e) => e.Code !== 'NoSuchKey');
    if (failure) {
      throw Object.assign(new Error(`could not delete ${result.Errors!.length} of ${fullKeys.length} objects: ${failure.Message ?? failure.Code ?? 'unknown error'}`), {
        name: failure.Code ?? 'DeleteObjectsError',
      });
    }
  }

  protected async copyObject(fromFullKey: string, toFullKey: string, opts: StoreCallOptions): Promise<void> {
    const client = await this.client();
    await copyObject({ client, bucket: this.bucket, from: fromFullKey, to: toFullKey, queueSize: this.#options.queueSize, signal: opts.signal });
  }

  /** Destroys the client if this store made it (an injected client is left to its owner). */
  async close(): Promise<void> {
    const pending = this.#client;
    if (!pending || !this.#ownsClient) return;
    this.#client = undefined;
    (await pending.catch(() => undefined))?.destroy();
  }
}
