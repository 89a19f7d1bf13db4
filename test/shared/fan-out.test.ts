/**
 * Fleet-wide single-flight with real processes: two, then eight child processes, each with its own
 * shared tier on one redis-server, read the same cold object through a counting "store"; the
 * store serves it about once, and every process gets the right bytes. Eight StrataFS processes
 * reading overlapping ranges make the store serve each page once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { objectId, type PageId } from '../../src/cache/page-id.js';
import { openSharedTier } from '../../src/cache/shared/index.js';
import { fleetRead, makeObject, PAGE, storeBytes, type FleetObject } from './fixtures/fleet.js';
import { startChild } from './fixtures/spawn.js';
import { makeVersion, startMember } from './fixtures/fs-fleet.js';

let object: FleetObject;

beforeAll(async () => {
  object = await makeObject(32 * PAGE + 1234); // 33 pages, the last one short
});
afterAll(async () => {
  await object.remove();
});

describe('fleet single-flight on one redis-server', () => {
  for (const n of [2, 8]) {
    it(`${n} processes reading one cold object: the store serves it about once`, async () => {
      const results = await fleetRead(inject('redisUrl'), n, object);
      for (const r of results) expect(r.sha256).toBe(object.sha256);
      const bytes = storeBytes(results);
      console.log(
        `${n} processes: store bytes ${bytes} for an object of ${object.size} (${(bytes / object.size).toFixed(2)}x), ` +
          `fetches ${results.map((r) => r.fetches).join('+')}, wall ms ${results.map((r) => Math.round(r.elapsedMs)).join('/')}`,
      );
      // Without the shared tier it would be n × the object.
      expect(bytes).toBeGreaterThanOrEqual(object.size);
      expect(bytes).toBeLessThanOrEqual(1.5 * object.size);
    });
  }
});

describe('a leader that crashes', () => {
  it('holds its lease only until it expires: a waiting process then fetches and publishes', async () => {
    const url = inject('redisUrl');
    const keyPrefix = `crash${randomUUID().slice(0, 8)}:`;
    const ids: PageId[] = [0, 1].map((index) => ({ object: objectId('s3://b/p', 'k'), version: 'v', index }));
    const child = startChild('lease-holder-child.ts', [JSON.stringify({ url, keyPrefix, leaseMs: 400, ids })]);
    try {
      await child.line('leading');
    } finally {
      await child.kill();
    }
    const tier = await openSharedTier({ url, keyPrefix, waitMs: 60_000 });
    try {
      let fetches = 0;
      const pages = await tier.fetchOnce(ids, async () => {
        fetches++;
        return [Buffer.from('a'), Buffer.from('b')];
      });
      expect(pages.map(String)).toEqual(['a', 'b']);
      expect(fetches).toBe(1);
      expect(tier.stats()).toMatchObject({ leadFetches: 1, fallbacks: 0 });
      await tier.settle();
      expect((await tier.getPages(ids)).map(String)).toEqual(['a', 'b']);
    } finally {
      await tier.close();
    }
  });
});

describe('a fleet of StrataFS processes reading overlapping ranges of one cold file', () => {
  it('makes the store serve each page once, not each process its own range', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stratafs-overlap-'));
    const page = 64 * 1024;
    const data = makeVersion(1, 64 * page);
    await writeFile(join(dir, 'f.bin'), data);
    const keyPrefix = `ovl${randomUUID().slice(0, 8)}:`;
    const options = { cache: { pageSize: page, shared: { url: inject('redisUrl'), keyPrefix } }, metadata: { syncInterval: 60_000 } };
    const members = await Promise.all(Array.from({ length: 8 }, () => startMember({ options, mounts: [{ path: '/d', uri: `file://${dir}` }] })));
    try {
      await Promise.all(members.map((m) => m.ask({ op: 'stat', path: '/d/f.bin' })));
      // Member n reads pages [2n, 2n + 8): neighbours overlap by six pages.
      const reads = await Promise.all(members.map((m, n) => m.ask<{ sha256: string }>({ op: 'read', path: '/d/f.bin', offset: 2 * n * page, length: 8 * page })));
      reads.forEach((r, n) => expect(r.sha256).toBe(createHash('sha256').update(data.subarray(2 * n * page, (2 * n + 8) * page)).digest('hex')));
      const stats = await Promise.all(members.map((m) => m.ask<{ stats: { bytesFromStore: number } }>({ op: 'stats' })));
      const fromStore = stats.reduce((sum, s) => sum + s.stats.bytesFromStore, 0);
      console.log(`overlapping ranges, 8 processes: store bytes ${fromStore} for ${22 * page} bytes read`);
      expect(fromStore).toBeLessThanOrEqual(1.25 * 22 * page); // each process its own range: 64 pages
    } finally {
      await Promise.all(members.map((m) => m.kill()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
