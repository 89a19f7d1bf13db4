/**
 * The S3 connector's one error-mapping function: what the AWS SDK throws -> {@link StrataError}.
 * @module
 */
import { StrataError, type StrataErrorCode } from '../../errors.js';
import { mapStoreError } from '../store-errors.js';

/** S3 error codes (and SDK error names) with a fixed meaning. */
const BY_NAME: Record<string, StrataErrorCode> = {
  NoSuchKey: 'ENOENT',
  NotFound: 'ENOENT',
  NoSuchUpload: 'ENOENT',
  NoSuchVersion: 'ENOENT',
  AccessDenied: 'EACCES',
  Forbidden: 'EACCES',
  AllAccessDisabled: 'EACCES',
  AccountProblem: 'EACCES',
  InvalidAccessKeyId: 'EACCES',
  SignatureDoesNotMatch: 'EACCES',
  InvalidToken: 'EACCES',
  ExpiredToken: 'EACCES',
  TokenRefreshRequired: 'EACCES',
  RequestTimeTooSkewed: 'EACCES',
  CredentialsProviderError: 'EACCES',
  PreconditionFailed: 'ESTALE',
};

/** Codes that mean "slow down / try later": temporary whatever their status. */
const TEMPORARY_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'ServiceUnavailable',
  'InternalError',
  'OperationAborted',
]);

/**
 * Maps an AWS SDK error to a {@link StrataError}:
 * `NoSuchKey`/`NotFound`/404 -> `ENOENT`; `NoSuchBucket` -> `ENOENT` naming the bucket;
 * `AccessDenied`/403/`InvalidAccessKeyId`/`SignatureDoesNotMatch`/expired tokens -> `EACCES`;
 * throttling (`SlowDown`, `Throttling`, 429, 503) and other 5xx -> temporary `EIO`; SDK and
 * socket timeouts -> `ETIMEDOUT`; `PreconditionFailed`/412 -> `ESTALE`. Aborts pass through.
 * The message and `cause` carry no secret: `secrets` (secret key, session token) are redacted
 * and the SDK's request/response objects (which hold signatures) are dropped.
 */
export function mapS3Error(error: unknown, context: { bucket: string; secrets?: readonly string[] }): Error {
  const e = error as { name?: unknown; Code?: unknown; code?: unknown } | undefined;
  const names = [e?.Code, e?.name, e?.code].filter((v): v is string => typeof v === 'string');
  const secrets = context.secrets ?? [];
  if (names.includes('NoSuchBucket')) {
    return mapStoreError(error, { byName: { NoSuchBucket: 'ENOENT' }, secrets, detail: `S3 bucket '${context.bucket}' does not exist` });
  }
  const mapped = mapStoreError(error, { byName: BY_NAME, secrets, service: 'S3' });
  if (mapped instanceof StrataError && mapped.code === 'EIO' && names.some((n) => TEMPORARY_NAMES.has(n))) mapped.temporary = true;
  return mapped;
}
