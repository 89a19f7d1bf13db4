/**
 * The shared tier on a real 3-node Redis Cluster (loopback): pages of many objects spread over
 * the slots round-trip, an injected `Cluster` client works, invalidations cross nodes, and
 * child processes reading one cold object make the store serve it about once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { objectId, type PageId } from '../../src/cache/page-id.js';
import { openSharedTier, type RedisSharedTier } from '../../src/cache/shared/index.js';
import type { Invalidation } from '../../src/cache/shared-tier-types.js';
import { fleetRead, makeObject, PAGE, storeBytes, type FleetObject } from './fixtures/fleet.js';

const url = inject('redisClusterUrl');
const opened: RedisSharedTier[] = [];
let object: FleetObject;

async function tier(keyPrefix: string): Promise<RedisSharedTier> {
  const t = await openSharedTier({ url, keyPrefix });
  opened.push(t);
  return t;
}

beforeAll(async () => {
  object = await makeObject(24 * PAGE + 77);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  await object.remove();
});

describe('shared tier on a 3-node Redis Cluster', () => {
  it('round-trips pages of many objects (many slots) in one lookup', async () => {
    const keyPrefix = `c${randomUUID().slice(0, 8)}:`;
    const a = await tier(keyPrefix);
    const b = await tier(keyPrefix);
    const ids: PageId[] = [];
    const data: Buffer[] = [];
    for (let o = 0; o < 20; o++) {
      for (let index = 0; index < 3; index++) {
        ids.push({ object: objectId('s3://bucket/p', `file-${o}`), version: `"${o}"`, index });
        data.push(randomBytes(1000 + o));
      }
    }
    a.putPages(ids.map((id, i) => ({ id, data: data[i]! })));
    await a.settle();
    const got = await b.getPages([...ids, { ...ids[0]!, index: 99 }]);
    expect(got.slice(0, -1).every((p, i) => p?.equals(data[i]!))).toBe(true);
    expect(got.at(-1)).toBeUndefined();
    expect(b.stats()).toMatchObject({ hits: ids.length, misses: 1, errors: 0 });
  });

  it('works with an injected Cluster client, shares metadata and delivers invalidations', async () => {
    const ports = url.split(',').map((u) => ({ host: '127.0.0.1', port: Number(new URL(u).port) }));
    const client = new Cluster(ports);
    const keyPrefix = `c${randomUUID().slice(0, 8)}:`;
    const a = await openSharedTier({ client, keyPrefix });
    opened.push(a);
    const b = await tier(keyPrefix);
    const seen: Invalidation[] = [];
    b.onInvalidation((i) => seen.push(i));
    a.setStat('s3://bucket/p', 'x/y', { key: 'x/y', size: 5, isDirectory: false });
    await a.settle();
    expect(await b.getStat('s3://bucket/p', 'x/y', 60_000)).toEqual({ key: 'x/y', size: 5, isDirectory: false });
    a.publish({ cacheId: 's3://bucket/p', key: 'x/y', recursive: false });
    await a.settle();
    await expect.poll(() => seen.length).toBe(1);
    expect(await b.getStat('s3://bucket/p', 'x/y', 60_000)).toBeUndefined();
    await a.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('single-flight across 4 processes: the store serves the object about once', async () => {
    const results = await fleetRead(url, 4, object);
    for (const r of results) expect(r.sha256).toBe(object.sha256);
    const bytes = storeBytes(results);
    console.log(`cluster, 4 processes: store bytes ${bytes} for an object of ${object.size} (${(bytes / object.size).toFixed(2)}x)`);
    expect(bytes).toBeGreaterThanOrEqual(object.size);
    expect(bytes).toBeLessThanOrEqual(1.5 * object.size);
  });
});
