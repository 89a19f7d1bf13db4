/**
 * Helpers for tests against the run's s3rver: a client, the shared test bucket, and
 * `makeS3Store()` (a new, empty store under a fresh random prefix at each call).
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { S3Store } from '../../src/store/s3/index.js';
import type { S3StoreOptions } from '../../src/store/s3/index.js';
import { S3RVER_CREDENTIALS } from './s3-server.js';

// The SDK's one-time notice about future Node.js versions is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The bucket every S3 test works in (each store under its own prefix). */
export const TEST_BUCKET = 'stratafs-test';

/** Settings that work with s3rver, usable both as `S3ClientConfig` and as `S3Store` settings. */
export type S3TestSettings = { endpoint: string; region: string; forcePathStyle: boolean; credentials: { accessKeyId: string; secretAccessKey: string } };

/** Client (and store) settings that work with s3rver. */
export function s3ClientConfig(endpoint: string = inject('s3Endpoint')): S3TestSettings {
  return { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } };
}

/** A new S3Client for the run's s3rver (the caller destroys it). */
export function makeS3Client(config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({ ...s3ClientConfig(), ...config });
}

const buckets = new Map<string, Promise<void>>();

/** Creates `bucket` once per test file (an existing bucket of ours is fine). */
export function ensureBucket(bucket: string = TEST_BUCKET): Promise<void> {
  let pending = buckets.get(bucket);
  if (!pending) {
    pending = (async () => {
      const client = makeS3Client();
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
      } finally {
        client.destroy();
      }
    })();
    pending.catch(() => buckets.delete(bucket));
    buckets.set(bucket, pending);
  }
  return pending;
}

/** A random prefix no other store uses. */
export function freshPrefix(): string {
  return `t-${randomUUID()}`;
}

/**
 * A new, empty `S3Store` on the test bucket under a fresh random prefix, made from the settings
 * (not an injected client), so it owns and closes its client.
 */
export async function makeS3Store(options: Partial<S3StoreOptions> = {}): Promise<S3Store> {
  await ensureBucket(TEST_BUCKET);
  const { endpoint, region, forcePathStyle } = s3ClientConfig();
  return new S3Store({ bucket: TEST_BUCKET, prefix: freshPrefix(), endpoint, region, forcePathStyle, credentials: { ...S3RVER_CREDENTIALS }, ...options });
}
