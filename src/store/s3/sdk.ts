/**
 * Lazy loading of the AWS SDK: importing stratafs loads neither `@aws-sdk/client-s3` nor
 * `@aws-sdk/lib-storage`; the first S3 call does, once per process.
 * @module
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import { lazySdk } from '../load-sdk.js';

/** `@aws-sdk/client-s3`, imported on first use (`ENOTSUP` naming the package when it is missing). */
export const loadS3Sdk: () => Promise<typeof S3Sdk> = lazySdk('@aws-sdk/client-s3', 'S3', () => import('@aws-sdk/client-s3'));

/** `@aws-sdk/lib-storage` (multipart uploads), imported on the first large write. */
export const loadLibStorage: () => Promise<typeof LibStorage> = lazySdk('@aws-sdk/lib-storage', 'S3', () => import('@aws-sdk/lib-storage'));
