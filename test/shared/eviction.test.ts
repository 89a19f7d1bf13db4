/**
 * Redis evicting the shared tier's keys one by one (`maxmemory` with an `allkeys-*` policy):
 * pages, leases and metadata entries go independently of each other, and of the mount's epoch.
 * Whatever goes, the fleet never takes back an answer a change through stratafs retired.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StrataFS } from '../../src/index.js';

const url = inject('redisUrl');
let admin: Redis;
let dir: string;

beforeAll(async () => {
  admin = new Redis(url);
  dir = await mkdtemp(join(tmpdir(), 'stratafs-evict-'));
});
afterAll(async () => {
  admin.disconnect();
  await rm(dir, { recursive: true, force: true });
});

describe('keys evicted by Redis', () => {
  it("an evicted mount epoch does not bring back the answers a recursive change retired", async () => {
    const keyPrefix = `ev${randomUUID().slice(0, 8)}:`;
    const root = join(dir, 'epoch');
    await mkdir(join(root, 'dir', 'sub'), { recursive: true });
    await writeFile(join(root, 'dir', 'sub', 'x'), 'x');
    const member = (): StrataFS => new StrataFS({ cache: { shared: { url, keyPrefix } }, metadata: { syncInterval: 60_000 } });
    const [a, b, c] = [member(), member(), member()];
    try {
      for (const fs of [a, b, c]) await fs.mount('/d', `file://${root}`);
      expect((await a.stat('/d/dir/sub/x')).size).toBe(1); // shared with the fleet
      await expect.poll(() => admin.keys(`${keyPrefix}s:*`)).not.toEqual([]);
      await b.rm('/d/dir', { recursive: true }); // retires every shared answer of the mount
      await expect.poll(() => admin.keys(`${keyPrefix}e:*`)).toHaveLength(1);
      expect(await c.exists('/d/dir/sub/x')).toBe(false);
      await c.free('/d', { recursive: true });
      // Redis, full, evicts the epoch (and nothing else).
      await admin.del(...(await admin.keys(`${keyPrefix}e:*`)));
      expect(await c.exists('/d/dir/sub/x')).toBe(false);
    } finally {
      await Promise.all([a, b, c].map((fs) => fs.close()));
    }
  });
});
