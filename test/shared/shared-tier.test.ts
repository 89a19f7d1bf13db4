/**
 * The shared cache tier against a real redis-server on loopback: pages, TTLs, metadata with a
 * maximum age (counted from when the answer was taken), invalidations between instances, options
 * and client injection.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { objectId, type PageId } from '../../src/cache/page-id.js';
import { openSharedTier, type RedisSharedTier } from '../../src/cache/shared/index.js';
import { framed, unframed } from '../../src/cache/shared/codec.js';
import { SharedKeys } from '../../src/cache/shared/keys.js';
import { isProcessLocal } from '../../src/mount/open-store.js';
import type { Invalidation } from '../../src/cache/shared-tier-types.js';
import type { ObjectInfo } from '../../src/store/under-store.js';

const url = inject('redisUrl');
let admin: Redis;
const opened: RedisSharedTier[] = [];

async function tier(keyPrefix: string, extra: Parameters<typeof openSharedTier>[0] = {}): Promise<RedisSharedTier> {
  const t = await openSharedTier({ url, keyPrefix, ...extra });
  opened.push(t);
  return t;
}

const prefix = (): string => `t${randomUUID().slice(0, 8)}:`;

function ids(object: string, version: string, count: number): PageId[] {
  return Array.from({ length: count }, (_, index) => ({ object, version, index }));
}

async function keysOf(keyPrefix: string): Promise<string[]> {
  return admin.keys(`${keyPrefix}*`);
}

beforeAll(() => {
  admin = new Redis(url);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  admin.disconnect();
});

describe('pages', () => {
  it('round-trips binary pages byte for byte, in the order asked, with misses as undefined', async () => {
    const t = await tier(prefix());
    const object = objectId('s3://bucket/prefix', 'data/a.bin');
    const pages = [randomBytes(65536), Buffer.from([0, 13, 10, 255, 0, 36, 42]), Buffer.alloc(1000, 0), randomBytes(1)];
    const pageIds = ids(object, '"etag-1"', pages.length);
    t.putPages(pageIds.map((id, i) => ({ id, data: pages[i]! })));
    await t.settle();
    const other = { object: objectId('s3://bucket/prefix', 'data/b.bin'), version: '"etag-1"', index: 0 };
    const got = await t.getPages([pageIds[3]!, other, pageIds[0]!, pageIds[1]!, pageIds[2]!, { ...pageIds[0]!, index: 9 }]);
    expect(got.map((p) => p !== undefined)).toEqual([true, false, true, true, true, false]);
    expect(got[0]!.equals(pages[3]!)).toBe(true);
    expect(got[2]!.equals(pages[0]!)).toBe(true);
    expect(got[3]!.equals(pages[1]!)).toBe(true);
    expect(got[4]!.equals(pages[2]!)).toBe(true);
    expect(t.stats()).toMatchObject({ hits: 4, misses: 2, available: true, errors: 0 });
  });

  it('shares pages between instances, never across versions or page sizes', async () => {
    const keyPrefix = prefix();
    const a = await tier(keyPrefix, { pageSize: 4096 });
    const b = await tier(keyPrefix, { pageSize: 4096 });
    const other = await tier(keyPrefix, { pageSize: 8192 });
    const id = { object: objectId('gs://b', 'k'), version: '7@1700000000000', index: 2 };
    const data = randomBytes(4096);
    a.putPages([{ id, data }]);
    await a.settle();
    const [same] = await b.getPages([id]);
    expect(same?.equals(data)).toBe(true);
    expect(await b.getPages([{ ...id, version: '8@1700000000001' }])).toEqual([undefined]);
    expect(await other.getPages([id])).toEqual([undefined]);
  });

  it('stores pages with the configured TTL and keys that reveal neither the store URI nor the key', async () => {
    const keyPrefix = prefix();
    const t = await tier(keyPrefix, { pageTtl: 120 });
    const object = objectId('s3://secret-bucket-name/prefix', 'private/report.parquet');
    t.putPages(ids(object, 'v', 3).map((id) => ({ id, data: randomBytes(100) })));
    await t.settle();
    const keys = await keysOf(keyPrefix);
    expect(keys).toHaveLength(3);
    for (const key of keys) {
      expect(key).not.toMatch(/secret-bucket-name|private|report/);
      const ttl = await admin.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120);
    }
    // The pages of one object version share one Cluster hash slot.
    expect(new Set(keys.map((k) => /\{([^}]+)\}/.exec(k)?.[1])).size).toBe(1);
  });

  it('does not store pages over maxPageBytes', async () => {
    const keyPrefix = prefix();
    const t = await tier(keyPrefix, { maxPageBytes: 1024 });
    const [small, large] = ids(objectId('s3://b', 'k'), 'v', 2);
    t.putPages([
      { id: small!, data: randomBytes(1024) },
      { id: large!, data: randomBytes(1025) },
    ]);
    await t.settle();
    const got = await t.getPages([small!, large!]);
    expect(got[0]).toBeInstanceOf(Buffer);
    expect(got[1]).toBeUndefined();
    expect(t.stats().dropped).toBe(1);
  });

  it('single-flight between two instances in one process: one fetch, both get the bytes', async () => {
    const keyPrefix = prefix();
    const a = await tier(keyPrefix);
    const b = await tier(keyPrefix);
    const run = ids(objectId('s3://b', 'big'), 'v', 4);
    const bytes = run.map(() => randomBytes(2048));
    let fetches = 0;
    const fetch = async (): Promise<Buffer[]> => {
      fetches++;
      await new Promise((r) => setTimeout(r, 100));
      return bytes;
    };
    const [fromA, fromB] = await Promise.all([a.fetchOnce(run, fetch), b.fetchOnce(run, fetch)]);
    expect(fetches).toBe(1);
    fromA.forEach((p, i) => expect(p.equals(bytes[i]!)).toBe(true));
    fromB.forEach((p, i) => expect(p.equals(bytes[i]!)).toBe(true));
    // Once published, a late reader fetches nothing either.
    await Promise.all([a.settle(), b.settle()]);
    const late = await tier(keyPrefix);
    await late.fetchOnce(run, fetch);
    expect(fetches).toBe(1);
    // No lease is left behind.
    expect((await keysOf(keyPrefix)).filter((k) => k.startsWith(`${keyPrefix}l:`))).toEqual([]);
  });

  it('overlapping runs in two instances: each page is fetched once, by the one that leased it', async () => {
    const keyPrefix = prefix();
    const a = await tier(keyPrefix);
    const b = await tier(keyPrefix);
    const all = ids(objectId('s3://b', 'overlap'), 'v', 12);
    const bytes = all.map(() => randomBytes(1024));
    const fetched: number[] = [];
    const fetcher = (first: number) => async (start: number, count: number): Promise<Buffer[]> => {
      for (let i = first + start; i < first + start + count; i++) fetched.push(i);
      await new Promise((r) => setTimeout(r, 100));
      return bytes.slice(first + start, first + start + count);
    };
    // A leases pages 0-7 first; B then asks for 4-11: it fetches 8-11 and takes 4-7 from A.
    const fromA = a.fetchOnce(all.slice(0, 8), fetcher(0));
    await expect.poll(async () => (await keysOf(keyPrefix)).filter((k) => k.startsWith(`${keyPrefix}l:`)).length).toBe(8);
    const fromB = await b.fetchOnce(all.slice(4, 12), fetcher(4));
    fromB.forEach((p, k) => expect(p.equals(bytes[4 + k]!)).toBe(true));
    (await fromA).forEach((p, k) => expect(p.equals(bytes[k]!)).toBe(true));
    expect(fetched.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // Pages already in Redis are not fetched again either: only the missing middle is.
    await Promise.all([a.settle(), b.settle()]);
    await admin.del(...(await keysOf(keyPrefix)).filter((k) => /:p:\{.*\}:(5|6)$/.test(k)));
    fetched.length = 0;
    const again = await b.fetchOnce(all, fetcher(0));
    again.forEach((p, k) => expect(p.equals(bytes[k]!)).toBe(true));
    expect(fetched).toEqual([5, 6]);
  });

  it('a failing fetch frees the leases: the waiting instance fetches itself and gets the error of its own fetch only', async () => {
    const keyPrefix = prefix();
    const a = await tier(keyPrefix);
    const b = await tier(keyPrefix, { waitMs: 30_000 });
    const run = ids(objectId('s3://b', 'gone'), 'v', 2);
    const failing = a.fetchOnce(run, async () => {
      await new Promise((r) => setTimeout(r, 100));
      throw new Error('store says no');
    });
    await new Promise((r) => setTimeout(r, 20));
    const good = [Buffer.from('x'), Buffer.from('y')];
    const waiting = b.fetchOnce(run, async () => good);
    await expect(failing).rejects.toThrow('store says no');
    expect((await waiting).map(String)).toEqual(['x', 'y']);
  });

  it('a waiter whose signal aborts stops waiting and fetches by itself', async () => {
    const keyPrefix = prefix();
    const a = await tier(keyPrefix);
    const b = await tier(keyPrefix, { waitMs: 60_000 });
    const run = ids(objectId('s3://b', 'slow'), 'v', 1);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let fetches = 0;
    const leading = a.fetchOnce(run, async () => {
      fetches++;
      await held;
      return [Buffer.from('leader')];
    });
    await expect.poll(() => fetches).toBe(1);
    const controller = new AbortController();
    const waiting = b.fetchOnce(
      run,
      async () => {
        fetches++;
        return [Buffer.from('waiter')];
      },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 50);
    expect((await waiting).map(String)).toEqual(['waiter']);
    expect(b.stats().fallbacks).toBe(1);
    release();
    expect((await leading).map(String)).toEqual(['leader']);
  });
});

describe('metadata', () => {
  const info: ObjectInfo = { key: 'dir/a.txt', size: 42, mtime: new Date(1700000000123), etag: '"abc"', isDirectory: false };

  it('shares stat answers (and known-missing ones) younger than the reader’s max age', async () => {
    const keyPrefix = prefix();
    const a = await tier(keyPrefix);
    const b = await tier(keyPrefix);
    expect(await b.getStat('s3://b/p', 'dir/a.txt', 60_000)).toBeUndefined();
    a.setStat('s3://b/p', 'dir/a.txt', info);
    a.setStat('s3://b/p', 'dir/missing', null);
    await a.settle();
    expect(await b.getStat('s3://b/p', 'dir/a.txt', 60_000)).toEqual(info);
    expect(await b.getStat('s3://b/p', 'dir/missing', 60_000)).toBeNull();
    expect(await b.getStat('s3://other/p', 'dir/a.txt', 60_000)).toBeUndefined();
    expect(await b.getStat('s3://b/p', 'dir/a.txt', -1)).toEqual(info);
    expect(await b.getStat('s3://b/p', 'dir/a.txt', 0)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 60));
    expect(await b.getStat('s3://b/p', 'dir/a.txt', 20)).toBeUndefined();
    expect(await b.getStat('s3://b/p', 'dir/a.txt', 60_000)).toEqual(info);
  });

  it('a metadata value that is not one this format wrote intact is a miss: foreign JSON of the same shape, a changed digit', async () => {
    const keyPrefix = prefix();
    const reader = await tier(keyPrefix);
    const keys = new SharedKeys(keyPrefix, 0);
    const entryKey = (key: string): string => keys.stat(keys.mountTag('s3://b/p'), key);
    const wire = { k: info.key, s: info.size, m: info.mtime!.getTime(), e: info.etag };
    await admin.set(keys.epoch(keys.mountTag('s3://b/p')), '0'); // the mount's epoch, as the entries below say
    const json = JSON.stringify({ v: wire, p: 0, t: 60_000, a: Date.now() });
    await admin.set(entryKey('foreign'), json, 'PX', 60_000);
    expect(await reader.getStat('s3://b/p', 'foreign', 60_000)).toBeUndefined();
    await admin.set(entryKey('flipped'), framed(json).replace(`"s":${info.size}`, `"s":${info.size + 1}`), 'PX', 60_000);
    expect(await reader.getStat('s3://b/p', 'flipped', 60_000)).toBeUndefined();
    await admin.set(entryKey('intact'), framed(json), 'PX', 60_000);
    expect(await reader.getStat('s3://b/p', 'intact', 60_000)).toEqual(info);
  });

  it('counts an entry\'s age from when its answer was taken, not from when it reached Redis; entries without that time are misses', async () => {
    const keyPrefix = prefix();
    const reader = await tier(keyPrefix);
    const keys = new SharedKeys(keyPrefix, 0);
    const entryKey = (key: string): string => keys.stat(keys.mountTag('s3://b/p'), key);
    const wire = { k: info.key, s: info.size, m: info.mtime!.getTime(), e: info.etag };
    await admin.set(keys.epoch(keys.mountTag('s3://b/p')), '0'); // the mount's epoch, as the entries below say
    // Stored just now with a full TTL, but answered by the store 10 s ago (a SET that landed late).
    await admin.set(entryKey('late'), framed(JSON.stringify({ v: wire, p: 0, t: 60_000, a: Date.now() - 10_000 })), 'PX', 60_000);
    expect(await reader.getStat('s3://b/p', 'late', 5000)).toBeUndefined();
    const late = await reader.getStatEntry('s3://b/p', 'late', 60_000);
    expect(late?.value).toEqual(info);
    expect(late!.ageMs).toBeGreaterThanOrEqual(10_000);
    // A writer's clock ahead of the reader's never makes an entry younger than Redis' TTL says.
    await admin.set(entryKey('ahead'), framed(JSON.stringify({ v: wire, p: 0, t: 60_000, a: Date.now() + 60_000 })), 'PX', 60_000);
    await new Promise((r) => setTimeout(r, 60));
    expect(await reader.getStat('s3://b/p', 'ahead', 20)).toBeUndefined();
    expect(await reader.getStat('s3://b/p', 'ahead', 60_000)).toEqual(info);
    // Written by a version that did not record the time: its age is unknown, so it is not used.
    await admin.set(entryKey('old'), framed(JSON.stringify({ v: wire, p: 0, t: 60_000 })), 'PX', 60_000);
    expect(await reader.getStat('s3://b/p', 'old', 60_000)).toBeUndefined();
    expect(await reader.getStat('s3://b/p', 'old', -1)).toBeUndefined();
    // What this version writes carries it, and the TTL left of metadataTtl.
    reader.setStat('s3://b/p', 'new', info);
    await reader.settle();
    const stored = JSON.parse(unframed((await admin.get(entryKey('new')))!)!) as { a: number; t: number };
    expect(Date.now() - stored.a).toBeGreaterThanOrEqual(0);
    expect(Date.now() - stored.a).toBeLessThan(5000);
    expect(stored.t).toBeLessThanOrEqual(3_600_000);
    expect(await admin.pttl(entryKey('new'))).toBeLessThanOrEqual(stored.t);
  });

  it("a mount's epoch lives as long as the entries of it, then goes: mounts no one uses leave no key in Redis for ever", async () => {
    const keyPrefix = prefix();
    const t = await tier(keyPrefix, { metadataTtl: 1 });
    const keys = new SharedKeys(keyPrefix, 0);
    const epochOf = (cacheId: string): string => keys.epoch(keys.mountTag(cacheId));
    const withoutTtl = async (): Promise<string[]> => {
      const all = await keysOf(keyPrefix);
      const ttls = await Promise.all(all.map((k) => admin.pttl(k)));
      return all.filter((_, i) => ttls[i]! < 0);
    };
    for (let m = 0; m < 5; m++) t.setStat(`file:///tenant-${m}`, 'a.txt', info); // five stores, mounted once each
    t.setList('file:///tenant-0', 'dir', [info]);
    t.forget({ cacheId: 'file:///tenant-1', key: '', recursive: true }); // a new epoch for one of them
    await admin.set(epochOf('file:///tenant-9'), '7'); // an epoch an earlier version left without a TTL
    t.setStat('file:///tenant-9', 'b.txt', info);
    await t.settle();
    expect(await admin.exists(epochOf('file:///tenant-0'), epochOf('file:///tenant-1'), epochOf('file:///tenant-9'))).toBe(3);
    expect(await withoutTtl()).toEqual([]);
    await expect.poll(() => keysOf(keyPrefix), { timeout: 10_000, interval: 200 }).toEqual([]);
  });

  it('shares directory listings', async () => {
    const keyPrefix = prefix();
    const a = await tier(keyPrefix);
    const b = await tier(keyPrefix);
    const children: ObjectInfo[] = [info, { key: 'dir/sub', size: 0, isDirectory: true }];
    a.setList('s3://b/p', 'dir', children);
    await a.settle();
    expect(await b.getList('s3://b/p', 'dir', 60_000)).toEqual(children);
  });

  it('an invalidation reaches the other instances (not the sender) and retires the shared answers it affects', async () => {
    const keyPrefix = prefix();
    const a = await tier(keyPrefix);
    const b = await tier(keyPrefix);
    const c = await tier(keyPrefix);
    const seenByA: Invalidation[] = [];
    const seenByB: Invalidation[] = [];
    a.onInvalidation((i) => seenByA.push(i));
    b.onInvalidation((i) => seenByB.push(i));
    a.setStat('s3://b/p', 'dir/a.txt', info);
    a.setStat('s3://b/p', 'dir', null);
    a.setList('s3://b/p', '', []);
    a.setStat('s3://b/p', 'other.txt', { ...info, key: 'other.txt' });
    await a.settle();
    b.publish({ cacheId: 's3://b/p', key: 'dir/a.txt', recursive: false });
    await b.settle();
    await expect.poll(() => seenByA.length).toBe(1);
    expect(seenByA[0]).toEqual({ cacheId: 's3://b/p', key: 'dir/a.txt', recursive: false });
    expect(seenByB).toEqual([]);
    expect(await c.getStat('s3://b/p', 'dir/a.txt', 60_000)).toBeUndefined();
    expect(await c.getStat('s3://b/p', 'dir', 60_000)).toBeUndefined(); // an ancestor's negative answer
    expect(await c.getList('s3://b/p', '', 60_000)).toBeUndefined(); // an ancestor's listing
    expect(await c.getStat('s3://b/p', 'other.txt', 60_000)).toEqual({ ...info, key: 'other.txt' });
    // A recursive invalidation retires everything shared about the mount.
    b.publish({ cacheId: 's3://b/p', key: 'dir', recursive: true });
    await b.settle();
    await expect.poll(() => seenByA.length).toBe(2);
    expect(seenByA[1]!.recursive).toBe(true);
    expect(await c.getStat('s3://b/p', 'other.txt', 60_000)).toBeUndefined();
    // New answers are shared again after it.
    c.setStat('s3://b/p', 'other.txt', { ...info, key: 'other.txt', size: 1 });
    await c.settle();
    expect((await a.getStat('s3://b/p', 'other.txt', 60_000))?.size).toBe(1);
  });
});

describe('options', () => {
  it('rejects bad options with EINVAL', async () => {
    await expect(openSharedTier({})).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(openSharedTier({ url: 'http://127.0.0.1:1' })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(openSharedTier({ url, pageTtl: 0 })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(openSharedTier({ url, keyPrefix: 'a{b}' })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(openSharedTier({ client: {} as never })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(openSharedTier({ url, bogus: 1 } as never)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('uses an injected client and leaves it open on close', async () => {
    const client = new Redis(url);
    const t = await openSharedTier({ client, keyPrefix: prefix() });
    const id = { object: objectId('s3://b', 'k'), version: 'v', index: 0 };
    t.putPages([{ id, data: Buffer.from('hi') }]);
    await t.settle();
    expect(String((await t.getPages([id]))[0])).toBe('hi');
    await t.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('opens unavailable when Redis is not there, warning once without the password', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const t = await openSharedTier({ url: 'redis://user:hunter2-secret@127.0.0.1:1', connectTimeoutMs: 300, coolDownMs: 60_000 });
      opened.push(t);
      expect(t.stats().available).toBe(false);
      const id = { object: 'o', version: 'v', index: 0 };
      expect(await t.getPages([id])).toEqual([undefined]);
      expect((await t.fetchOnce([id], async () => [Buffer.from('z')])).map(String)).toEqual(['z']);
      await new Promise((r) => setImmediate(r));
      const ours = warnings.filter((w) => (w as { code?: string }).code === 'STRATAFS_SHARED_CACHE_UNAVAILABLE');
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).not.toContain('hunter2');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('tells which cache ids can be shared', () => {
    expect(isProcessLocal('s3://bucket/prefix')).toBe(false);
    expect(isProcessLocal('memory://#3')).toBe(true);
    expect(isProcessLocal('memory://name')).toBe(true);
  });
});
