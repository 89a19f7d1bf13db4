/**
 * Vitest global setup: one Azurite blob service for the whole run on 127.0.0.1 (in memory),
 * provided to tests as `inject('azuriteBlobEndpoint')` and `inject('azuriteConnectionString')`,
 * stopped at the end.
 */
import type { TestProject } from 'vitest/node';
import { startAzurite } from './azurite-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT/devstoreaccount1`: the run's Azurite blob endpoint. */
    azuriteBlobEndpoint: string;
    /** Connection string of Azurite's development account on the run's server. */
    azuriteConnectionString: string;
  }
}

/** Starts Azurite and returns its teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startAzurite();
  project.provide('azuriteBlobEndpoint', server.blobEndpoint);
  project.provide('azuriteConnectionString', server.connectionString);
  return async () => {
    await server.stop();
  };
}
