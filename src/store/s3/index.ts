/**
 * The S3 connector: {@link S3Store} and its settings.
 * @module
 */
export { S3Store } from './s3-store.js';
export { mapS3Error } from './errors.js';
export { parseS3Uri, resolveS3Options, assertBucketName } from './options.js';
export type { S3StoreOptions, S3Credentials, S3CredentialProvider } from './options.js';
