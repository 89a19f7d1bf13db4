/**
 * Redis failing under the shared tier: killed (SIGKILL) mid-run, then restarted on the same port,
 * and frozen (SIGSTOP). Reads never fail: lookups answer misses, single-flight fetches by itself,
 * one warning per outage, and the tier comes back with Redis (subscriptions included).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { objectId, type PageId } from '../../src/cache/page-id.js';
import { openSharedTier, SHARED_TIER_WARNING, type RedisSharedTier } from '../../src/cache/shared/index.js';
import type { Invalidation } from '../../src/cache/shared-tier-types.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';

let server: RedisProcess;
let warnings: Error[];
const onWarning = (w: Error): void => {
  if ((w as { code?: string }).code === SHARED_TIER_WARNING) warnings.push(w);
};
const opened: RedisSharedTier[] = [];

beforeEach(async () => {
  server = await startRedis();
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(async () => {
  process.off('warning', onWarning);
  await Promise.all(opened.splice(0).map((t) => t.close()));
  await server.stop();
});

async function tier(): Promise<RedisSharedTier> {
  const t = await openSharedTier({ url: server.url, keyPrefix: 'outage:', coolDownMs: 300, timeoutMs: 200 });
  opened.push(t);
  return t;
}

const run: PageId[] = Array.from({ length: 3 }, (_, index) => ({ object: objectId('s3://b/p', 'k'), version: 'v1', index }));
const data = run.map(() => randomBytes(4096));

/** Lets emitted warnings (delivered on the next tick) arrive. */
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('the shared tier when Redis fails', () => {
  it('killed mid-run: misses, own fetches, one warning; back after a restart on the same port', async () => {
    const a = await tier();
    const b = await tier();
    const seen: Invalidation[] = [];
    b.onInvalidation((i) => seen.push(i));
    a.putPages(run.map((id, i) => ({ id, data: data[i]! })));
    await a.settle();
    expect((await b.getPages(run)).every((p) => p !== undefined)).toBe(true);

    await server.kill();

    expect(await a.getPages(run)).toEqual([undefined, undefined, undefined]);
    let fetches = 0;
    const fetch = async (): Promise<Buffer[]> => {
      fetches++;
      return data;
    };
    const pages = await a.fetchOnce(run, fetch);
    expect(pages.every((p, i) => p.equals(data[i]!))).toBe(true);
    expect(fetches).toBe(1);
    // Everything else is a no-op or a miss, never an error, across several cool-downs.
    for (let i = 0; i < 3; i++) {
      a.putPages([{ id: run[0]!, data: data[0]! }]);
      a.setStat('s3://b/p', 'k', null);
      a.publish({ cacheId: 's3://b/p', key: 'k', recursive: false });
      expect(await a.getStat('s3://b/p', 'k', 60_000)).toBeUndefined();
      expect(await b.getPages(run)).toEqual([undefined, undefined, undefined]);
      expect((await b.fetchOnce(run, fetch)).length).toBe(3);
      await a.settle();
      await new Promise((r) => setTimeout(r, 350));
    }
    await tick();
    expect(a.stats().available).toBe(false);
    expect(warnings).toHaveLength(2); // one per tier instance

    await server.restart();

    // Both instances come back by themselves once Redis answers again.
    await expect
      .poll(
        async () => {
          a.putPages([{ id: run[0]!, data: data[0]! }]);
          await a.settle();
          return (await b.getPages([run[0]!]))[0]?.equals(data[0]!) ?? false;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    expect(a.stats().available).toBe(true);
    expect(b.stats().available).toBe(true);
    // The subscriber re-subscribed: invalidations flow again.
    await expect
      .poll(
        async () => {
          a.publish({ cacheId: 's3://b/p', key: 'after-restart', recursive: false });
          await a.settle();
          return seen.some((i) => i.key === 'after-restart');
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    await tick();
    expect(warnings).toHaveLength(2); // still one per instance: the outage was one
  });

  it('killed while a process waits for another one\'s fetch: the waiter fetches by itself, both read right', async () => {
    const leader = await tier();
    const waiter = await openSharedTier({ url: server.url, keyPrefix: 'outage:', coolDownMs: 300, waitMs: 60_000 });
    opened.push(waiter);
    let fetches = 0;
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const leading = leader.fetchOnce(run, async () => {
      fetches++;
      await slow;
      return data;
    });
    await expect.poll(() => fetches).toBe(1); // the leader holds the leases
    const waiting = waiter.fetchOnce(run, async () => {
      fetches++;
      return data;
    });
    await new Promise((r) => setTimeout(r, 50));
    await server.kill();
    const fromWaiter = await waiting; // does not wait for the leader, nor for waitMs
    release();
    const fromLeader = await leading;
    expect(fetches).toBe(2);
    expect(fromWaiter.every((p, i) => p.equals(data[i]!))).toBe(true);
    expect(fromLeader.every((p, i) => p.equals(data[i]!))).toBe(true);
  });

  it('one instance warns exactly once per outage', async () => {
    const a = await tier();
    await server.kill();
    for (let i = 0; i < 5; i++) {
      expect(await a.getPages(run)).toEqual([undefined, undefined, undefined]);
      await new Promise((r) => setTimeout(r, 100));
    }
    await tick();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('shared cache');
  });

  it('frozen (no answers): lookups give up after the time budget and answer misses; no answer for a while skips it', async () => {
    const a = await tier();
    a.putPages(run.map((id, i) => ({ id, data: data[i]! })));
    await a.settle();
    server.pause();
    try {
      expect(await a.getPages(run)).toEqual([undefined, undefined, undefined]);
      let fetches = 0;
      const pages = await a.fetchOnce(run, async () => {
        fetches++;
        return data;
      });
      expect(fetches).toBe(1);
      expect(pages[2]!.equals(data[2]!)).toBe(true);
      // A slow answer alone is not an outage (Redis may be busy with others); no answer for a second is.
      for (let i = 0; i < 20 && a.stats().available; i++) expect(await a.getPages(run)).toEqual([undefined, undefined, undefined]);
      expect(a.stats().available).toBe(false);
      expect(a.stats().errors).toBeGreaterThanOrEqual(2);
      expect(await a.getPages(run)).toEqual([undefined, undefined, undefined]); // skipped: answers at once
      await tick();
      expect(warnings).toHaveLength(1);
    } finally {
      server.resume();
    }
    await expect
      .poll(async () => (await a.getPages([run[1]!]))[0]?.equals(data[1]!) ?? false, { timeout: 15_000, interval: 200 })
      .toBe(true);
  });

  it('credentials Redis refuses: one warning that says so at once, not after the connect timeout, without the password', async () => {
    const url = server.url.replace('redis://', 'redis://nobody:wrong-pass-1234@');
    const started = Date.now();
    const t = await openSharedTier({ url, keyPrefix: 'auth:', connectTimeoutMs: 10_000 });
    opened.push(t);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(t.stats().available).toBe(false);
    await tick();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('refused the credentials (WRONGPASS)');
    expect(warnings[0]!.message).not.toContain('wrong-pass-1234');
  });
});
