/**
 * Vitest global setup: one standalone redis-server and one 3-node Redis Cluster for the whole run
 * on 127.0.0.1 (free ports, no persistence), provided as `inject('redisUrl')` and
 * `inject('redisClusterUrl')`, stopped at the end. Fails the run when redis-server is missing.
 */
import type { TestProject } from 'vitest/node';
import { startRedis, startRedisCluster } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:PORT` of the run's standalone redis-server. */
    redisUrl: string;
    /** Comma-separated `redis://127.0.0.1:PORT` seeds of the run's 3-node cluster. */
    redisClusterUrl: string;
  }
}

/** Starts the servers and returns their teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startRedis();
  let cluster;
  try {
    cluster = await startRedisCluster();
  } catch (error) {
    await server.stop();
    throw error;
  }
  project.provide('redisUrl', server.url);
  project.provide('redisClusterUrl', cluster.url);
  return async () => {
    await Promise.all([server.stop(), cluster.stop()]);
  };
}
