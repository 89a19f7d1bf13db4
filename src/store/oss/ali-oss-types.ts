/**
 * The part of the `ali-oss` client (6.x) that {@link OssStore} uses. `ali-oss` has no types of
 * its own; an `OSS` instance satisfies this interface, so it can be injected as `client`.
 * @module
 */
import type { Readable } from 'node:stream';

/** A response as `ali-oss` reports it. */
export interface AliOssResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The answer's body as it came (a Buffer), when the SDK keeps it. */
  data?: unknown;
}

/** Per-request options `ali-oss` accepts. */
export interface AliOssRequestOptions {
  headers?: Record<string, string>;
  timeout?: number;
}

/** One entry of a listing. */
export interface AliOssListedObject {
  name: string;
  size: number;
  lastModified?: string;
  etag?: string;
}

/** The answer of `listV2`. */
export interface AliOssListV2Result {
  objects?: AliOssListedObject[];
  prefixes?: string[] | null;
  isTruncated: boolean;
  /** The document's `KeyCount` as a number: `NaN` when the answer had none (it is not a listing). */
  keyCount: number;
  nextContinuationToken?: string | null;
}

/** The `ali-oss` client methods stratafs calls. */
export interface AliOssClient {
  head(name: string, options?: AliOssRequestOptions): Promise<{ status: number; res: AliOssResponse }>;
  getStream(name: string, options?: AliOssRequestOptions): Promise<{ stream: Readable; res: AliOssResponse }>;
  put(name: string, file: Buffer, options?: AliOssRequestOptions & { mime?: string }): Promise<{ name: string; res: AliOssResponse }>;
  listV2(query: Record<string, string | number>, options?: AliOssRequestOptions): Promise<AliOssListV2Result>;
  copy(name: string, sourceName: string, options?: AliOssRequestOptions): Promise<{ res: AliOssResponse }>;
  delete(name: string, options?: AliOssRequestOptions): Promise<{ res: AliOssResponse }>;
  deleteMulti(names: string[], options?: AliOssRequestOptions & { quiet?: boolean }): Promise<{ deleted: unknown[]; res: AliOssResponse }>;
  initMultipartUpload(name: string, options?: AliOssRequestOptions & { mime?: string }): Promise<{ uploadId: string }>;
  uploadPart(name: string, uploadId: string, partNo: number, file: Buffer, start: number, end: number, options?: AliOssRequestOptions): Promise<{ etag: string }>;
  uploadPartCopy(name: string, uploadId: string, partNo: number, range: string, source: { sourceKey: string; sourceBucketName: string }, options?: AliOssRequestOptions): Promise<{ etag: string }>;
  completeMultipartUpload(name: string, uploadId: string, parts: Array<{ number: number; etag: string }>, options?: AliOssRequestOptions): Promise<{ etag?: string; res: AliOssResponse }>;
  abortMultipartUpload(name: string, uploadId: string, options?: AliOssRequestOptions): Promise<{ res: AliOssResponse }>;
}

/** The options of `new OSS(...)` stratafs sets. */
export interface AliOssClientOptions {
  bucket: string;
  region?: string;
  endpoint?: string;
  accessKeyId: string;
  accessKeySecret: string;
  stsToken?: string;
  secure?: boolean;
  sldEnable?: boolean;
}

/** `new OSS(options)`. */
export type AliOssConstructor = new (options: AliOssClientOptions) => AliOssClient;
