/**
 * Vitest global setup: one Cloud Storage emulator (firebase-tools) for the whole run on
 * 127.0.0.1, provided to tests as `inject('gcsEndpoint')` and `inject('gcsProjectId')`, stopped
 * at the end.
 */
import type { TestProject } from 'vitest/node';
import { startGcsEmulator } from './gcs-emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the run's GCS emulator (an `apiEndpoint`). */
    gcsEndpoint: string;
    /** The project id the run's GCS emulator serves. */
    gcsProjectId: string;
  }
}

/** Starts the GCS emulator and returns its teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulator = await startGcsEmulator();
  project.provide('gcsEndpoint', emulator.endpoint);
  project.provide('gcsProjectId', emulator.projectId);
  return async () => {
    await emulator.stop();
  };
}
