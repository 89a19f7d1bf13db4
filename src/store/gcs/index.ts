/**
 * The Google Cloud Storage connector: {@link GcsStore} and its settings.
 * @module
 */
export { GcsStore } from './gcs-store.js';
export { mapGcsError } from './gcs-errors.js';
export { GCS_SETTING_NAMES, assertGcsBucketName, resolveGcsOptions } from './gcs-options.js';
export type { GcsStoreOptions } from './gcs-options.js';
