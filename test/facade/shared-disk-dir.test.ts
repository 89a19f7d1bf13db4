import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { expectedContent } from './fixtures/shared-dir-content.js';
import { tempDir } from '../support/helpers.js';

describe('one disk cache dir shared by four processes', () => {
  it('stays consistent and under capacity while they read and write at once', async () => {
    const cache = await tempDir('stratafs-shared-cache-');
    const store = await tempDir('stratafs-shared-store-');
    try {
      for (let n = 0; n < 12; n++) await writeFile(join(store.dir, `shared-${n}.bin`), expectedContent(`shared-${n}`));
      const run = (id: number): Promise<{ reads: number; mismatches: number; maxUsed: number; capacity: number }> =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', 'test/facade/fixtures/shared-dir-worker.ts', cache.dir, store.dir, String(id), '4000'], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`worker ${id} exited ${code}`))));
        });
      const reports = await Promise.all([1, 2, 3, 4].map(run));
      for (const r of reports) {
        expect(r.reads).toBeGreaterThan(4);
        expect(r.mismatches).toBe(0);
        expect(r.maxUsed).toBeLessThanOrEqual(r.capacity);
      }
    } finally {
      await cache.cleanup();
      await store.cleanup();
    }
  }, 120_000);

  it('an instance serves the pages another one cached, while both are open', async () => {
    const cache = await tempDir('stratafs-shared-cache-');
    const store = new CountingStore('shared-dir');
    await store.inner.write('x.bin', expectedContent('x'));
    const options = { cache: { pageSize: 64 * 1024, memory: false as const, disk: { dir: cache.dir, capacity: '8MiB' } } };
    const a = new StrataFS(options);
    const b = new StrataFS(options);
    try {
      await a.mount('/s', store);
      await b.mount('/s', store);
      await a.readFile('/s/x.bin');
      for (let i = 0; i < 200 && (a.stats().disk?.pages ?? 0) < 4; i++) await new Promise((r) => setTimeout(r, 10));
      store.reset();
      expect((await b.readFile('/s/x.bin')).equals(expectedContent('x'))).toBe(true);
      expect(store.bytesRead).toBe(0);
      expect(b.stats().hits).toBe(4);
    } finally {
      await a.close();
      await b.close();
      await cache.cleanup();
    }
  });
});
