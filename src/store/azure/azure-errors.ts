/**
 * The Azure Blob connector's one error mapping: a `RestError` (or an identity / network error)
 * becomes a `StrataError` with a Node-style code, a temporary flag, and no secret.
 * @module
 */
import { StrataError, isAbortError, type StrataErrorCode } from '../../errors.js';
import { httpStatusOf, mapStoreError } from '../store-errors.js';
import type { StoreCallOptions } from '../under-store.js';

/** Azure error codes (`x-ms-error-code`, identity error names) and what they mean here. */
const BY_NAME: Record<string, StrataErrorCode> = {
  BlobNotFound: 'ENOENT',
  ContainerNotFound: 'ENOENT',
  ResourceNotFound: 'ENOENT',
  CannotVerifyCopySource: 'ENOENT',
  AuthenticationFailed: 'EACCES',
  AuthorizationFailure: 'EACCES',
  AuthorizationPermissionMismatch: 'EACCES',
  AuthorizationResourceTypeMismatch: 'EACCES',
  AuthorizationServiceMismatch: 'EACCES',
  AuthorizationSourceIPMismatch: 'EACCES',
  AuthorizationProtocolMismatch: 'EACCES',
  InsufficientAccountPermissions: 'EACCES',
  InvalidAuthenticationInfo: 'EACCES',
  NoAuthenticationInformation: 'EACCES',
  CredentialUnavailableError: 'EACCES',
  AggregateAuthenticationError: 'EACCES',
  AuthenticationRequiredError: 'EACCES',
  AuthenticationError: 'EACCES',
  ConditionNotMet: 'ESTALE',
  SourceConditionNotMet: 'ESTALE',
  TargetConditionNotMet: 'ESTALE',
  BlobAlreadyExists: 'EEXIST',
  ContainerAlreadyExists: 'EEXIST',
  LeaseIdMissing: 'EBUSY',
  LeaseAlreadyPresent: 'EBUSY',
  LeaseIdMismatchWithBlobOperation: 'EBUSY',
  PendingCopyOperation: 'EBUSY',
  BlobArchived: 'EIO',
  SnapshotsPresent: 'EIO',
  OperationTimedOut: 'ETIMEDOUT',
  InvalidBlobOrBlock: 'EINVAL',
  InvalidResourceName: 'EINVAL',
  OutOfRangeInput: 'EINVAL',
};

/** What {@link mapAzureError} knows about the store and the call. */
export interface AzureErrorContext {
  /** The store's container, named when it is missing. */
  container: string;
  /** Secrets to remove from messages. */
  secrets: readonly string[];
  /** The call's options when the error came from a call: an abort that its signal did not cause is a timeout. */
  call?: StoreCallOptions;
}

/**
 * The first line of an Azure message (the service appends `RequestId:…` and `Time:…` lines);
 * none when it is markup: the page of a web server that is not Azure's.
 */
function firstLine(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | undefined)?.message;
  if (typeof message !== 'string' || message.trim() === '') return undefined;
  const line = message.trim().split('\n')[0]?.trim();
  return line?.startsWith('<') ? undefined : line;
}

/**
 * Maps anything the Azure SDK threw: 404 -> `ENOENT` (a missing container names it), 401/403
 * and identity failures -> `EACCES`, 412 -> `ESTALE`, 409 by code, 429/5xx and broken
 * connections -> temporary `EIO`, timeouts -> `ETIMEDOUT`. Aborts the caller asked for pass through.
 */
export function mapAzureError(error: unknown, context: AzureErrorContext): Error {
  if (error instanceof StrataError) return error;
  if (isAbortError(error)) {
    // The SDK reports its own request timeout as an abort: only the caller's signal makes it one.
    if (context.call === undefined || context.call.signal?.aborted) return error as Error;
    return new StrataError('ETIMEDOUT', 'Azure Blob request timed out', { temporary: true });
  }
  const e = error as { code?: unknown; name?: unknown } | undefined;
  const status = httpStatusOf(error);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  let detail = firstLine(error);
  if (code === 'ContainerNotFound') detail = `container '${context.container}' does not exist`;
  else if (e?.name === 'CredentialUnavailableError' || e?.name === 'AggregateAuthenticationError') detail = `no usable Azure credentials (DefaultAzureCredential): ${detail ?? 'no credential in the chain worked'}`;
  else if (detail === undefined && (status === 401 || status === 403)) detail = `Azure Blob refused the credentials, or they lack the permission (HTTP ${status})`;
  else if (detail === undefined && status !== undefined) detail = `Azure Blob answered HTTP ${status}${code !== undefined ? ` ${code}` : ''}`;
  else if (code === 'REQUEST_SEND_ERROR' || (status === undefined && code !== undefined && /^E[A-Z]+$/.test(code))) detail = `cannot reach Azure Blob: ${detail ?? code}`;
  const mapped = mapStoreError(error, { byName: BY_NAME, secrets: context.secrets, detail });
  if (mapped instanceof StrataError && code === 'REQUEST_SEND_ERROR') mapped.temporary = true;
  return mapped;
}
