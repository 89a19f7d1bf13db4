/**
 * The shared (fleet-wide) cache tier on Redis: {@link openSharedTier} and its types.
 * Importing this module does not load `ioredis`; opening a tier does.
 * @module
 */
import { invalid } from '../../errors.js';
import type { SharedTier } from '../shared-tier-types.js';
import { createClient, duplicateClient, isRedisClient, parseRedisUrl, type RedisClient } from './connect.js';
import { resolveSharedTierOptions, type SharedTierOptions } from './options.js';
import { RedisSharedTier } from './redis-shared-tier.js';

export type { SharedTierOptions } from './options.js';
export type { SharedTierStats } from '../shared-tier-types.js';
export { RedisSharedTier } from './redis-shared-tier.js';
export { SHARED_TIER_WARNING } from './breaker.js';

/**
 * Opens the shared tier on Redis (one server, or a Cluster) from `options.client` or
 * `options.url`. Throws `EINVAL` for bad options and `ENOTSUP` when `ioredis` is not installed;
 * Redis being down is not an error: the tier opens unavailable (one warning) and is used as soon
 * as Redis answers. Close it with `close()`.
 */
export async function openSharedTier(options: SharedTierOptions): Promise<RedisSharedTier> {
  const resolved = resolveSharedTierOptions(options);
  let client: RedisClient;
  let owns: boolean;
  let secrets: string[] = [];
  if (options.client !== undefined) {
    if (!isRedisClient(options.client)) throw invalid(`shared cache option 'client' must be an ioredis Redis or Cluster instance`);
    client = options.client;
    owns = false;
  } else if (options.url !== undefined) {
    const parsed = parseRedisUrl(options.url, options.cluster === true);
    client = await createClient(parsed, resolved.connectTimeoutMs);
    owns = true;
    secrets = parsed.secrets;
  } else {
    throw invalid(`the shared cache needs 'url' (redis://host:port) or 'client' (an ioredis instance)`);
  }
  const writer = duplicateClient(client);
  const subscriber = duplicateClient(client);
  // Connection errors are handled by the breaker; without a listener ioredis would print each one.
  for (const c of owns ? [client, writer, subscriber] : [writer, subscriber]) c.on('error', () => undefined);
  const tier = new RedisSharedTier({ client, writer, subscriber }, owns, resolved, secrets);
  await tier.start();
  return tier;
}


/** The tier contract (re-exported for convenience). */
export type { SharedTier };
