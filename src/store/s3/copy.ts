/**
 * Server-side copy on S3: one `CopyObject`, or, for sources above S3's 5 GiB single-copy limit,
 * a multipart copy (`UploadPartCopy` by ranges) that is aborted on failure.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { eachLimit } from '../each-limit.js';
import { httpStatusOf } from '../store-errors.js';
import { MAX_PARTS } from './options.js';
import { loadS3Sdk } from './sdk.js';

/** Source and target of a copy in one bucket. */
export interface CopyTarget {
  client: S3Client;
  bucket: string;
  from: string;
  to: string;
  /** Parts copied at once in a multipart copy. */
  queueSize: number;
  signal?: AbortSignal;
}

/** Smallest part of a multipart copy (S3 allows up to 5 GiB per part). */
const COPY_PART_SIZE = 512 * 1024 * 1024;

/**
 * The `x-amz-copy-source` value: `bucket/key` with every key segment URL-encoded (so `+`, `?`,
 * `#`, `%`, spaces and non-ASCII survive), `/` kept as the separator.
 */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** True when S3 refused a `CopyObject` because the source is larger than 5 GiB. */
function isTooLargeForCopyObject(error: unknown): boolean {
  const e = error as { name?: unknown; Code?: unknown; message?: unknown } | undefined;
  const name = typeof e?.Code === 'string' ? e.Code : e?.name;
  const message = typeof e?.message === 'string' ? e.message : '';
  return httpStatusOf(error) === 400 && (name === 'EntityTooLarge' || (name === 'InvalidRequest' && /larger than the maximum allowable size/i.test(message)));
}

/** Copies `from` to `to`: `CopyObject`, falling back to a multipart copy for sources over 5 GiB. */
export async function copyObject(target: CopyTarget): Promise<void> {
  const { CopyObjectCommand } = await loadS3Sdk();
  try {
    await target.client.send(
      new CopyObjectCommand({ Bucket: target.bucket, Key: target.to, CopySource: copySource(target.bucket, target.from) }),
      { abortSignal: target.signal },
    );
  } catch (error) {
    if (!isTooLargeForCopyObject(error)) throw error;
    await copyInParts(target);
  }
}

/**
 * Multipart copy: `CreateMultipartUpload`, `UploadPartCopy` of byte ranges of the version seen by
 * a HEAD (`CopySourceIfMatch`, so a concurrent overwrite cannot mix versions), then
 * `CompleteMultipartUpload`; on any failure `AbortMultipartUpload`, and the first error is thrown.
 */
export async function copyInParts(target: CopyTarget): Promise<void> {
  const sdk = await loadS3Sdk();
  const { client, bucket, signal } = target;
  const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: target.from }), { abortSignal: signal });
  const size = head.ContentLength ?? 0;
  const partSize = Math.max(COPY_PART_SIZE, Math.ceil(size / MAX_PARTS));
  const created = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: target.to, ContentType: head.ContentType }), { abortSignal: signal });
  const uploadId = created.UploadId;
  try {
    const count = Math.max(1, Math.ceil(size / partSize));
    const etags: string[] = new Array<string>(count);
    // eachLimit lets the parts in flight settle before it throws, so none lands after the abort.
    await eachLimit([...etags.keys()], target.queueSize, async (index) => {
      const start = index * partSize;
      const end = Math.min(size, start + partSize) - 1;
      const part = await client.send(
        new sdk.UploadPartCopyCommand({
          Bucket: bucket,
          Key: target.to,
          UploadId: uploadId,
          PartNumber: index + 1,
          CopySource: copySource(bucket, target.from),
          CopySourceIfMatch: head.ETag,
          ...(size > 0 ? { CopySourceRange: `bytes=${start}-${end}` } : {}),
        }),
        { abortSignal: signal },
      );
      etags[index] = part.CopyPartResult?.ETag ?? '';
    });
    await client.send(
      new sdk.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: target.to,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: target.to, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}
