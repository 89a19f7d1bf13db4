/**
 * The cache's hot paths against the plain memory and file-system work they stand for: warm
 * memory-tier and disk-tier reads of 64 MiB, and cached `stat`. Used by `npm run bench` and
 * `npm run bench:cache`.
 */
import { open, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataFS, type StrataFileHandle } from '../src/index.js';
import { MiB, testData, type BenchEnv } from './env.js';
import type { CaseGroup } from './group.js';
import type { BenchCase } from './harness.js';

const SIZE = 64 * MiB;

/** Memory tier, disk tier and cached stat (see the module comment). */
export const cacheGroup: CaseGroup = {
  name: 'a 64 MiB file in the memory tier and in the disk tier',
  ids: ['memory-handle-read', 'memory-readfile', 'disk-handle-read', 'disk-readfile', 'stat'],
  async make(env: BenchEnv, wanted) {
    const data = testData(SIZE, 3);
    const target = Buffer.alloc(SIZE);
    const dir = join(await env.tmp(), 'cache-cases');
    await mkdir(dir, { recursive: true });
    const plainFile = join(dir, 'plain.bin');
    await writeFile(plainFile, data);

    // Memory tier only.
    const memFs = new StrataFS({ cache: { memory: { capacity: '512MiB' } } });
    await memFs.mount('/', 'memory://');
    await memFs.writeFile('/data.bin', data);
    let memHandle: StrataFileHandle;

    // Disk tier only (memory off): every read is served from page files.
    const diskFs = new StrataFS({ cache: { memory: false, disk: { dir: join(dir, 'cache'), capacity: '1GiB' } } });
    await diskFs.mount('/', `file://${dir}`);
    let diskHandle: StrataFileHandle;
    const plainHandle = await open(plainFile);
    // Reads the file once, then waits until its 64 pages are in the disk tier (they are written in the background).
    const warmDisk = async (): Promise<void> => {
      await diskFs.readFile('/plain.bin');
      for (let waited = 0; (diskFs.stats().disk?.pages ?? 0) < SIZE / MiB && waited < 30_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    };

    const cases: BenchCase[] = [
      {
        id: 'memory-handle-read',
        title: 'warm memory-tier handle.read of 64 MiB into a caller buffer',
        baseline: { name: 'Buffer.copy into a preallocated buffer', run: () => data.copy(target) },
        candidate: {
          name: 'handle.read (memory tier)',
          before: async () => {
            memHandle = await memFs.open('/data.bin');
            await memHandle.read(target, 0, SIZE, 0);
          },
          run: () => memHandle.read(target, 0, SIZE, 0),
        },
        target: { ratio: 0.5, text: '>= 0.5x' },
      },
      {
        id: 'memory-readfile',
        title: 'warm memory-tier readFile of 64 MiB',
        baseline: { name: 'Buffer.allocUnsafe + copy', run: () => data.copy(Buffer.allocUnsafe(SIZE)) },
        candidate: { name: 'fs.readFile (memory tier)', before: async () => void (await memFs.readFile('/data.bin')), run: () => memFs.readFile('/data.bin') },
        target: { ratio: 0.8, text: '>= 0.8x' },
      },
      {
        id: 'disk-handle-read',
        title: 'warm disk-tier handle.read of 64 MiB into a caller buffer',
        baseline: { name: 'FileHandle.read of a plain file into a preallocated buffer', run: () => plainHandle.read(target, 0, SIZE, 0) },
        candidate: {
          name: 'handle.read (disk tier)',
          before: async () => {
            await warmDisk();
            diskHandle = await diskFs.open('/plain.bin');
            await diskHandle.read(target, 0, SIZE, 0);
          },
          run: () => diskHandle.read(target, 0, SIZE, 0),
        },
        target: { ratio: 0.8, text: '>= 0.8x' },
      },
      {
        id: 'disk-readfile',
        title: 'warm disk-tier readFile of 64 MiB',
        baseline: { name: 'fs.promises.readFile of a plain file', run: () => readFile(plainFile) },
        candidate: { name: 'fs.readFile (disk tier)', before: warmDisk, run: () => diskFs.readFile('/plain.bin') },
        target: { ratio: 0.9, text: '>= 0.9x' },
      },
      {
        id: 'stat',
        title: 'cached stat',
        candidate: { name: 'stat', run: () => undefined },
        figureRuns: 5,
        figure: async () => {
          for (let i = 0; i < 50_000; i++) await memFs.stat('/data.bin'); // warm-up (JIT)
          const n = 300_000;
          const start = process.hrtime.bigint();
          for (let i = 0; i < n; i++) await memFs.stat('/data.bin');
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          return { value: Math.round(n / seconds), unit: 'stat/s', target: 500_000 };
        },
        target: { ratio: 500_000, text: '>= 500k ops/s' },
        note: 'sequential awaited fs.stat of one file whose metadata is cached (no store call)',
      },
    ];
    return {
      cases: cases.filter((c) => wanted(c.id!)),
      close: async () => {
        await plainHandle.close();
        await memFs.close();
        await diskFs.close();
      },
    };
  },
};
