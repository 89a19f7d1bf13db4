/**
 * A frozen Redis (SIGSTOP, then SIGCONT) under the shared tier, with its own redis-server per
 * test: a read of many pages falls back to the store after about `max(2 s, 10 × timeoutMs)`
 * whatever its size (while a large lookup over a slow link that keeps sending is not cut short),
 * a metadata write that waited in the socket during the freeze and lands late is as old as
 * the store's answer, not as old as its arrival in Redis, and single-flight leases taken by a
 * round trip given up during the freeze are freed when it lands.
 */
import { stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { objectId, type PageId } from '../../src/cache/page-id.js';
import { openSharedTier, type RedisSharedTier } from '../../src/cache/shared/index.js';
import { SharedKeys } from '../../src/cache/shared/keys.js';
import { StrataFS } from '../../src/index.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let server: RedisProcess;
let dir: Awaited<ReturnType<typeof tempDir>>;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  server = await startRedis();
  dir = await tempDir('stratafs-frozen-');
});
afterEach(async () => {
  server.resume();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server.stop();
  await dir.cleanup();
});

async function tier(extra: Parameters<typeof openSharedTier>[0] = {}): Promise<RedisSharedTier> {
  const t = await openSharedTier({ url: server.url, keyPrefix: 'frozen:', coolDownMs: 60_000, timeoutMs: 200, ...extra });
  cleanups.push(() => t.close());
  return t;
}

function fs(syncInterval: number): StrataFS {
  const f = new StrataFS({
    cache: { pageSize: MiB, memory: { capacity: '32MiB' }, shared: { url: server.url, keyPrefix: 'frozen:', timeoutMs: 200, coolDownMs: 60_000 } },
    metadata: { syncInterval },
  });
  cleanups.push(() => f.close());
  return f;
}

/** A TCP proxy to the server that passes Redis' answers on at `bytesPerSecond` (about every 10 ms). */
async function slowLink(bytesPerSecond: number): Promise<string> {
  const sockets = new Set<Socket>();
  const proxy = createServer((down) => {
    const up = connect(server.port, '127.0.0.1');
    const queue: Buffer[] = [];
    let queued = 0;
    let last = Date.now();
    const pump = setInterval(() => {
      const now = Date.now();
      let allowance = Math.floor((bytesPerSecond * (now - last)) / 1000);
      last = now;
      while (allowance > 0 && queue.length > 0) {
        const head = queue[0]!;
        const n = Math.min(allowance, head.length);
        down.write(head.subarray(0, n));
        if (n === head.length) queue.shift();
        else queue[0] = head.subarray(n);
        allowance -= n;
        queued -= n;
      }
      if (queued < MiB) up.resume();
    }, 10);
    up.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      queued += chunk.length;
      if (queued >= MiB) up.pause();
    });
    down.pipe(up);
    const end = (): void => {
      clearInterval(pump);
      up.destroy();
      down.destroy();
    };
    for (const s of [up, down]) {
      sockets.add(s);
      s.on('close', end).on('error', end);
    }
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => proxy.close(r));
  });
  return `redis://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

describe('large lookups: a bounded cost on a frozen Redis, not cut short on a slow one', () => {
  it('a lookup of 40 MiB over a slow link (12 MiB/s: over 3 s, more than the 2 s a frozen Redis gets) is not cut short', async () => {
    const t = await tier({ url: await slowLink(12 * MiB), pageSize: '1MiB' });
    const ids: PageId[] = Array.from({ length: 40 }, (_, index) => ({ object: objectId('s3://b/p', 'slow'), version: 'v', index }));
    const data = ids.map(() => randomBytes(MiB));
    t.putPages(ids.map((id, i) => ({ id, data: data[i]! })));
    await t.settle();
    const started = Date.now();
    const pages = await t.getPages(ids);
    const elapsed = Date.now() - started;
    expect(pages.every((p, i) => p?.equals(data[i]!))).toBe(true);
    expect(elapsed).toBeGreaterThan(2500);
    expect(t.stats()).toMatchObject({ available: true, errors: 0, hits: 40 });
  });

  it('a lookup of 256 pages of 1 MiB answers misses after about max(2 s, 10 × timeoutMs), then the tier is skipped', async () => {
    const t = await tier({ pageSize: '1MiB' });
    const ids: PageId[] = Array.from({ length: 256 }, (_, index) => ({ object: objectId('s3://b/p', 'big'), version: 'v', index }));
    server.pause();
    const started = Date.now();
    const pages = await t.getPages(ids);
    const elapsed = Date.now() - started;
    expect(pages.every((p) => p === undefined)).toBe(true);
    // About 2 s; its page budget alone would be 13.6 s (the bound leaves room for a loaded machine).
    expect(elapsed).toBeLessThan(9000);
    expect(t.stats().available).toBe(false);
    const { errors } = t.stats();
    expect((await t.getPages(ids)).every((p) => p === undefined)).toBe(true);
    expect(t.stats().errors).toBe(errors); // skipped: no round trip was tried
  });

  it('readFile of 256 MiB through StrataFS falls back to the store in bounded time, with the right bytes', async () => {
    const data = randomBytes(256 * MiB);
    await writeFile(join(dir.dir, 'big.bin'), data);
    const reader = fs(60_000);
    await reader.mount('/data', `file://${dir.dir}`);
    expect(reader.stats().shared?.available).toBe(true);
    server.pause();
    const started = Date.now();
    const read = await reader.readFile('/data/big.bin');
    const elapsed = Date.now() - started;
    expect(read.equals(data)).toBe(true);
    // The same read without the shared tier, on this machine now: what the store read costs.
    const plain = new StrataFS({ cache: { pageSize: MiB, memory: { capacity: '32MiB' } } });
    cleanups.push(() => plain.close());
    await plain.mount('/data', `file://${dir.dir}`);
    const plainStarted = Date.now();
    await plain.readFile('/data/big.bin');
    const storeRead = Date.now() - plainStarted;
    // About 2 s more than the store read; the lookup's page budget alone would be 13.6 s (room for a loaded machine).
    expect(elapsed - storeRead).toBeLessThan(9000);
    expect(reader.stats().bytesFromStore).toBe(data.length);
    expect(reader.stats().shared?.available).toBe(false);
  });
});

describe('a metadata write that lands late', () => {
  const info = { key: 'x', size: 2, isDirectory: false };

  it('is as old as the answer it carries: a SET held in the socket by a 1.5 s freeze is not fresh when it lands', async () => {
    const writer = await tier();
    const reader = await tier();
    const admin = new Redis(server.url);
    cleanups.push(async () => void admin.disconnect());
    const keys = new SharedKeys('frozen:', 0);
    const entryKey = keys.stat(keys.mountTag('s3://b/p'), 'x');
    expect(await writer.getStat('s3://b/p', 'x', 60_000)).toBeUndefined(); // learns the mount's epoch
    server.pause();
    writer.setStat('s3://b/p', 'x', info);
    await writer.settle(); // the SET is given up after its budget, but stays in the socket
    expect(writer.stats().errors).toBeGreaterThanOrEqual(1);
    await sleep(1500);
    server.resume();
    await expect.poll(() => admin.exists(entryKey), { timeout: 5000, interval: 20 }).toBe(1); // it landed, with a full TTL
    expect(await admin.pttl(entryKey)).toBeGreaterThan(3_500_000);
    const entry = await reader.getStatEntry('s3://b/p', 'x', -1);
    expect(entry?.value).toEqual(info);
    expect(entry!.ageMs).toBeGreaterThanOrEqual(1500);
    expect(await reader.getStat('s3://b/p', 'x', 1000)).toBeUndefined();
    expect(await reader.getStat('s3://b/p', 'x', 60_000)).toEqual(info);
  });

  it('through StrataFS (the probe): a stat taken before a change outside stratafs is not served as fresh after the freeze', async () => {
    const file = join(dir.dir, 'x');
    await writeFile(file, 'ab');
    await writeFile(join(dir.dir, 'other'), '');
    const b = fs(1000);
    await b.mount('/data', `file://${dir.dir}`);
    await b.stat('/data/other'); // a shared lookup that answers: B knows the mount's epoch
    const admin = new Redis(server.url);
    cleanups.push(async () => void admin.disconnect());
    await expect.poll(async () => (await admin.keys('frozen:s:*')).length).toBe(1);
    server.pause();
    expect((await b.stat('/data/x')).size).toBe(2); // the shared lookup times out, the store answers, the SET waits in the socket
    await writeFile(file, 'changed!!'); // outside stratafs
    const changedAt = (await stat(file)).mtimeMs;
    await sleep(1500);
    server.resume();
    await expect.poll(async () => (await admin.keys('frozen:s:*')).length, { timeout: 5000, interval: 20 }).toBe(2); // B's SET landed
    const c = fs(1000);
    await c.mount('/data', `file://${dir.dir}`);
    expect(Date.now() - changedAt).toBeLessThan(3000);
    expect((await c.stat('/data/x')).size).toBe(9);
  });
});

describe('a single-flight round trip given up during a freeze', () => {
  it('does not leave its leases behind: once Redis thaws, another process leads the fetch instead of waiting them out', async () => {
    const first = await tier({ timeoutMs: 100, leaseMs: 60_000 });
    const second = await tier({ timeoutMs: 100, leaseMs: 60_000, waitMs: 1000 });
    const run: PageId[] = [0, 1].map((index) => ({ object: objectId('s3://b/p', 'thaw'), version: 'v', index }));
    const pages = [Buffer.from('a'), Buffer.from('b')];
    expect(await first.getPages(run)).toEqual([undefined, undefined]); // Redis answered just now: a short freeze is no outage
    server.pause();
    // The round trip that reads the pages and takes their leases is given up: the first process
    // fetches by itself, while its lease requests wait in the socket.
    expect((await first.fetchOnce(run, async () => pages)).map(String)).toEqual(['a', 'b']);
    await first.settle();
    server.resume();
    let fetches = 0;
    const got = await second.fetchOnce(run, async () => {
      fetches++;
      return pages;
    });
    expect(got.map(String)).toEqual(['a', 'b']);
    expect(fetches).toBe(1);
    expect(second.stats()).toMatchObject({ leadFetches: 1, fallbacks: 0 });
  });
});
