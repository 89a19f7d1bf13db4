/**
 * A fleet of four StrataFS processes reading one object that is rewritten from outside every few
 * hundred milliseconds, while Redis is restarted empty, flushed, or made to evict under a small
 * `maxmemory`: no read fails but with ESTALE (a read slower than the rewrites), every read returns the bytes of one whole version, and once the
 * writes stop, every process reads the last version after its `syncInterval`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../support/redis-server.js';
import { makeVersion, startMember, type Member } from './fixtures/fs-fleet.js';

const run = promisify(execFile);
const PAGE = 64 * 1024;
const SYNC = 1000;
let redis: RedisProcess;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'stratafs-chaos-'));
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cli = (...args: string[]): Promise<unknown> => run('redis-cli', ['-p', String(redis.port), ...args]);

interface Read {
  sha256?: string;
  pages?: number[];
  error?: string;
}

/** Four members reading `file` in a loop while it is rewritten and `disturb` runs; what went wrong. */
async function readThrough(file: string, disturb: () => Promise<unknown>): Promise<string[]> {
  const keyPrefix = `chaos${randomUUID().slice(0, 8)}:`;
  // A small memory tier: most reads go to the shared tier.
  const options = { cache: { pageSize: PAGE, memory: { capacity: '256KiB' }, shared: { url: redis.url, keyPrefix, coolDownMs: 300 } }, metadata: { syncInterval: SYNC } };
  const members: Member[] = await Promise.all(Array.from({ length: 4 }, () => startMember({ options, mounts: [{ path: '/d', uri: `file://${dir}` }] })));
  const versions = new Map<number, string>();
  const write = async (v: number): Promise<void> => {
    const data = makeVersion(v, 20 * PAGE + 7 * v); // sizes differ: so do versions
    versions.set(v, sha(data));
    await writeFile(join(dir, `${file}.tmp`), data);
    await rename(join(dir, `${file}.tmp`), join(dir, file));
  };
  const wrong: string[] = [];
  const check = (n: number, r: Read, changing = false): void => {
    // While the file is rewritten every 300 ms, a read slower than three versions (a loaded
    // machine, or one waiting out a Redis that went) fails ESTALE, as documented: an honest
    // error, never a mix. Any other error is wrong, and so are bytes of no one version; the
    // reads after the last rewrite must all give it.
    if (changing && r.error?.startsWith('ESTALE')) return;
    if (r.error || r.pages?.length !== 1 || versions.get(r.pages[0]!) !== r.sha256) wrong.push(`member ${n}: ${JSON.stringify(r)}`);
  };
  let version = 1;
  await write(version);
  let stop = false;
  try {
    const loops = members.map(async (m, n) => {
      while (!stop) check(n, await m.ask<Read>({ op: 'read', path: `/d/${file}` }), true);
    });
    const writer = (async () => {
      while (!stop) {
        await sleep(300);
        await write(++version);
      }
    })();
    await sleep(600);
    await disturb();
    await sleep(1500);
    stop = true;
    await Promise.all([...loops, writer]);
    await sleep(SYNC + 200);
    const last = await Promise.all(members.map((m) => m.ask<Read>({ op: 'read', path: `/d/${file}` })));
    last.forEach((r, n) => {
      check(n, r);
      if (r.pages?.[0] !== version) wrong.push(`member ${n} reads version ${r.pages?.[0]} after the last one, ${version}`);
    });
    return wrong;
  } finally {
    await Promise.all(members.map((m) => m.kill()));
  }
}

describe('a fleet reading an object rewritten from outside', () => {
  it('while Redis is killed and started again empty on the same port', async () => {
    expect(await readThrough('restart.bin', () => redis.restart())).toEqual([]);
  });

  it('while Redis is flushed', async () => {
    expect(await readThrough('flush.bin', () => cli('FLUSHALL'))).toEqual([]);
  });

  it('while Redis evicts pages, leases and metadata under a small maxmemory', async () => {
    try {
      const wrong = await readThrough('evict.bin', async () => {
        await cli('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
        await cli('CONFIG', 'SET', 'maxmemory', '3mb');
      });
      expect(wrong).toEqual([]);
    } finally {
      await cli('CONFIG', 'SET', 'maxmemory', '0');
    }
  });
});
