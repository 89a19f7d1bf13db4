/**
 * Writing one object to S3: a single `PutObject` up to the multipart threshold, else a multipart
 * upload (`@aws-sdk/lib-storage`) with bounded memory, aborted on failure so nothing partial stays.
 * @module
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { abortError, isAbortError, throwIfAborted } from '../../errors.js';
import type { RawWriteResult } from '../object-store-base.js';
import { unquoteEtag } from '../object-store-base.js';
import { readHead } from '../stream-utils.js';
import { MAX_PARTS, MAX_PUT_SIZE } from './options.js';
import { loadLibStorage, loadS3Sdk } from './sdk.js';

/** Where and how to upload. */
export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  /** Bodies up to this many bytes go in one `PutObject`. */
  multipartThreshold: number;
  /** Part size of multipart uploads. */
  partSize: number;
  /** Parts in flight at once. */
  queueSize: number;
  signal?: AbortSignal;
}

/**
 * Uploads `body` as the object `target.key`. A Buffer up to the threshold, or a stream that ends
 * within it, is sent in one `PutObject` (so its size need not be known in advance); anything
 * larger becomes a multipart upload holding at most about `(queueSize + 2) × partSize` bytes in
 * memory. `size`, when known, only enlarges parts so that huge objects fit in 10,000 parts.
 */
export async function uploadObject(target: UploadTarget, body: Readable | Buffer, size: number | undefined): Promise<RawWriteResult> {
  throwIfAborted(target.signal);
  if (Buffer.isBuffer(body)) {
    if (body.length <= target.multipartThreshold) return await putWhole(target, body);
    return await uploadInParts(target, partsOf(body, target.partSize), body.length);
  }
  const head = await readHead(body, target.multipartThreshold, target.signal);
  if (head.complete) return await putWhole(target, head.data);
  return await uploadInParts(target, head.stream, size);
}

/** A Buffer as a stream of part-sized views of it (destroyable, so an abort can stop the upload). */
function partsOf(buffer: Buffer, partSize: number): Readable {
  function* slices(): Generator<Buffer> {
    for (let offset = 0; offset < buffer.length; offset += partSize) yield buffer.subarray(offset, offset + partSize);
  }
  return Readable.from(slices(), { objectMode: false });
}

/** One `PutObject` of a whole Buffer. */
async function putWhole(target: UploadTarget, data: Buffer): Promise<RawWriteResult> {
  const { PutObjectCommand } = await loadS3Sdk();
  const result = await target.client.send(
    new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: data, ContentLength: data.length }),
    { abortSignal: target.signal },
  );
  return { etag: unquoteEtag(result.ETag) };
}

/**
 * A multipart upload of `source`. On failure or abort the source is destroyed, the uploader
 * waits for the parts in flight, then sends `AbortMultipartUpload` so no parts linger; the
 * first error is what is thrown (a failing abort does not hide it).
 */
async function uploadInParts(target: UploadTarget, source: Readable, size: number | undefined): Promise<RawWriteResult> {
  const [{ Upload }, { AbortMultipartUploadCommand }] = await Promise.all([loadLibStorage(), loadS3Sdk()]);
  let partSize = target.partSize;
  if (size !== undefined && Math.ceil(size / partSize) > MAX_PARTS) {
    partSize = Math.min(MAX_PUT_SIZE, Math.ceil(size / MAX_PARTS / (1024 * 1024)) * 1024 * 1024);
  }
  const upload = new Upload({
    client: target.client,
    params: { Bucket: target.bucket, Key: target.key, Body: source },
    partSize,
    queueSize: target.queueSize,
    // We abort ourselves once every part in flight has settled (see below): lib-storage's own
    // abort would replace the original error with the abort's error if that abort failed.
    leavePartsOnError: true,
  });
  // Destroying the source makes every uploader stop at its next part and `done()` settle only
  // after the parts in flight have finished, so the AbortMultipartUpload below is the last word.
  const onAbort = (): void => {
    source.destroy(target.signal?.reason instanceof Error ? target.signal.reason : Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }));
  };
  target.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await upload.done();
    return { etag: unquoteEtag(result.ETag) };
  } catch (error) {
    source.destroy();
    if (upload.uploadId !== undefined) {
      await target.client
        .send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: upload.uploadId }))
        .catch(() => undefined);
    }
    throw target.signal?.aborted && !isAbortError(error) ? abortError(target.signal) : error;
  } finally {
    target.signal?.removeEventListener('abort', onAbort);
  }
}
