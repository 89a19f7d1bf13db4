/**
 * Load: 1,000 concurrent mixed operations over 10,000 small objects on one instance for a
 * bounded time, then invariants: every read matched what was last written, the cache stayed
 * under capacity, no file descriptors leaked, memory came back after close().
 */
import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryStore, StrataFS } from '../../src/index.js';
import { tempDir } from '../support/helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('load', () => {
  it('1,000 concurrent mixed operations keep every invariant', async () => {
    const cache = await tempDir('stratafs-load-');
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const fdsBefore = openFds();
    const memoryCapacity = 2 * 1024 * 1024;
    const diskCapacity = 8 * 1024 * 1024;
    const fs = new StrataFS({ cache: { pageSize: 4096, memory: { capacity: memoryCapacity }, disk: { dir: cache.dir, capacity: diskCapacity } } });
    const store = new MemoryStore();
    const objects = 10_000;
    const body = (key: number, version: number): Buffer => Buffer.from(`object ${key} version ${version} `.repeat(1 + (key % 40)));
    const model = new Map<number, number>();
    for (let k = 0; k < objects; k++) {
      await store.write(`dir${k % 100}/obj-${k}`, body(k, 0));
      model.set(k, 0);
    }
    await fs.mount('/data', store);

    const workers = 1000;
    const deadline = Date.now() + 6000;
    let operations = 0;
    const mismatches: string[] = [];
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        // Worker w owns the keys k with k % workers === w: it is their only writer, so it knows what they must hold.
        const own = Array.from({ length: objects / workers }, (_, i) => i * workers + w);
        let n = 0;
        while (Date.now() < deadline) {
          const key = own[n % own.length]!;
          const path = `/data/dir${key % 100}/obj-${key}`;
          switch (n++ % 5) {
            case 0:
            case 1: {
              const got = await fs.readFile(path);
              if (!got.equals(body(key, model.get(key)!))) mismatches.push(path);
              break;
            }
            case 2: {
              const version = model.get(key)! + 1;
              await fs.writeFile(path, body(key, version));
              model.set(key, version);
              break;
            }
            case 3:
              expect((await fs.stat(path)).size).toBe(body(key, model.get(key)!).length);
              break;
            default:
              await fs.readFile(path, { offset: 3, length: 10 });
              await fs.readdir(`/data/dir${key % 100}`);
          }
          operations++;
        }
      }),
    );
    expect(operations).toBeGreaterThan(workers);
    expect(mismatches).toEqual([]);
    const stats = fs.stats();
    expect(stats.memory.used).toBeLessThanOrEqual(memoryCapacity);
    expect(stats.disk!.used).toBeLessThanOrEqual(diskCapacity);
    for (let k = 0; k < objects; k += 37) expect((await fs.readFile(`/data/dir${k % 100}/obj-${k}`)).equals(body(k, model.get(k)!))).toBe(true);

    await fs.close();
    await cache.cleanup();
    gc();
    expect(openFds()).toBeLessThanOrEqual(fdsBefore + 2);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});
