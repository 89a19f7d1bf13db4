/**
 * The shared (Redis) tier through StrataFS: two instances with separate memory and disk caches
 * on one real redis-server, as two processes of a fleet would be.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;

describe('shared tier through the facade', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let a: StrataFS;
  let b: StrataFS;
  let prefix: string;
  const make = (): StrataFS => new StrataFS({ cache: { pageSize: PAGE, shared: { url: inject('redisUrl'), keyPrefix: prefix } }, metadata: { syncInterval: 60_000 } });

  beforeEach(async () => {
    dir = await tempDir('stratafs-shared-');
    prefix = `facade-${Math.random().toString(36).slice(2)}:`;
    a = make();
    b = make();
    await a.mount('/data', `file://${dir.dir}`);
    await b.mount('/data', `file://${dir.dir}`);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await dir.cleanup();
  });

  it('a page one instance read is served to the other from the shared tier', async () => {
    const data = randomBytes(4 * PAGE);
    await writeFile(join(dir.dir, 'x.bin'), data);
    expect((await a.readFile('/data/x.bin')).equals(data)).toBe(true);
    expect(a.stats().bytesFromStore).toBe(data.length);
    for (let i = 0; i < 100 && (a.stats().shared?.bytesOut ?? 0) < data.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await b.readFile('/data/x.bin')).equals(data)).toBe(true);
    expect(b.stats().bytesFromStore).toBe(0);
    expect(b.stats().shared!.hits).toBeGreaterThanOrEqual(4);
  });

  it('a write through one instance is seen by the other at its next stat', async () => {
    await writeFile(join(dir.dir, 'y.txt'), 'first');
    expect((await b.stat('/data/y.txt')).size).toBe(5);
    expect((await b.readFile('/data/y.txt')).toString()).toBe('first');
    await a.writeFile('/data/y.txt', 'second version');
    let size = 0;
    for (let i = 0; i < 100 && size !== 14; i++) {
      size = (await b.stat('/data/y.txt')).size;
      if (size !== 14) await new Promise((r) => setTimeout(r, 10));
    }
    expect(size).toBe(14);
    expect((await b.readFile('/data/y.txt')).toString()).toBe('second version');
    await a.rm('/data/y.txt');
    let exists = true;
    for (let i = 0; i < 100 && exists; i++) {
      exists = await b.exists('/data/y.txt');
      if (exists) await new Promise((r) => setTimeout(r, 10));
    }
    expect(exists).toBe(false);
  });

  it('a file changed outside stratafs is read at its new version by every instance, though the fleet shared its old stat', async () => {
    await writeFile(join(dir.dir, 'z.bin'), Buffer.alloc(3 * PAGE, 1));
    expect((await a.stat('/data/z.bin')).size).toBe(3 * PAGE); // the answer goes to the shared tier
    await new Promise((r) => setTimeout(r, 50));
    expect((await b.stat('/data/z.bin')).size).toBe(3 * PAGE);
    await writeFile(join(dir.dir, 'z.bin'), Buffer.alloc(2 * PAGE + 7, 2)); // changed outside stratafs
    const readB = await b.readFile('/data/z.bin');
    expect([readB.length, [...new Set(readB)]]).toEqual([2 * PAGE + 7, [2]]);
    const readA = await a.readFile('/data/z.bin');
    expect([readA.length, [...new Set(readA)]]).toEqual([2 * PAGE + 7, [2]]);
  });

  it('Redis unreachable never fails a read', async () => {
    const offline = new StrataFS({ cache: { pageSize: PAGE, shared: { url: 'redis://127.0.0.1:1', keyPrefix: prefix } } });
    try {
      await offline.mount('/data', `file://${dir.dir}`);
      const data = randomBytes(2 * PAGE);
      await writeFile(join(dir.dir, 'z.bin'), data);
      expect((await offline.readFile('/data/z.bin')).equals(data)).toBe(true);
      expect(offline.stats().shared?.available).toBe(false);
    } finally {
      await offline.close();
    }
  });
});
