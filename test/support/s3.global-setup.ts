/**
 * Vitest global setup: one s3rver for the whole run on 127.0.0.1 (free port, temp dir),
 * provided to tests as `inject('s3Endpoint')`, stopped and removed at the end.
 */
import type { TestProject } from 'vitest/node';
import { startS3Server } from './s3-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the run's s3rver. */
    s3Endpoint: string;
  }
}

/** Starts s3rver and returns its teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startS3Server();
  project.provide('s3Endpoint', server.endpoint);
  return async () => {
    await server.stop();
  };
}
