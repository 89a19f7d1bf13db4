/**
 * Processes of a fleet that mount one store at different prefixes (`file:///root/data` here,
 * `file:///root` there, as `s3://b/data` and `s3://b`): a change made through one of them is seen
 * by the others at once, not after their `syncInterval`, even when a third process shared its
 * older answer in Redis.
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
let root: string;

beforeAll(async () => {
  admin = new Redis(url);
  root = await mkdtemp(join(tmpdir(), 'stratafs-overlap-'));
});
afterAll(async () => {
  admin.disconnect();
  await rm(root, { recursive: true, force: true });
});

describe('mounts of one store at different prefixes across the fleet', () => {
  it('a write through one mount reaches the other mounts of the fleet at once, past what Redis held for them', async () => {
    const keyPrefix = `ov${randomUUID().slice(0, 8)}:`;
    await mkdir(join(root, 'data'), { recursive: true });
    await writeFile(join(root, 'data', 'x'), 'a');
    const member = (): StrataFS => new StrataFS({ cache: { shared: { url, keyPrefix } }, metadata: { syncInterval: 60_000 } });
    const [inner, inner2, outer1, outer2] = [member(), member(), member(), member()];
    try {
      await inner.mount('/in', `file://${join(root, 'data')}`);
      await outer1.mount('/out', `file://${root}`);
      await outer2.mount('/out', `file://${root}`);
      expect(String(await outer1.readFile('/out/data/x'))).toBe('a'); // its answer is shared with outer2
      await expect.poll(() => admin.keys(`${keyPrefix}s:*`)).not.toEqual([]);
      await inner.writeFile('/in/x', 'changed!!');
      await expect.poll(() => outer2.stats().shared?.invalidations.received).toBe(1);
      expect((await outer2.stat('/out/data/x')).size).toBe(9);
      expect(String(await outer2.readFile('/out/data/x'))).toBe('changed!!');
      expect(String(await outer1.readFile('/out/data/x'))).toBe('changed!!');
      // And the other way: a write through an outer mount reaches the inner mounts.
      await inner2.mount('/in', `file://${join(root, 'data')}`);
      expect(String(await inner2.readFile('/in/x'))).toBe('changed!!'); // shared with inner
      await expect.poll(async () => (await admin.keys(`${keyPrefix}s:*`)).length).toBeGreaterThan(1);
      await outer1.writeFile('/out/data/x', 'b');
      await expect.poll(() => inner.stats().shared?.invalidations.received).toBe(1);
      expect((await inner.stat('/in/x')).size).toBe(1);
      expect(String(await inner.readFile('/in/x'))).toBe('b');
    } finally {
      await Promise.all([inner, inner2, outer1, outer2].map((fs) => fs.close()));
    }
  });
});
