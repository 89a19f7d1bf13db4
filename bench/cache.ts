/**
 * `npm run bench:cache`: the cache's hot paths against the plain memory and file-system work
 * they stand for, measured in the same run.
 */
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { StrataFS, type StrataFileHandle } from '../src/index.js';
import { runCases, writeJsonIfAsked, type BenchCase } from './harness.js';

const SIZE = 64 * 1024 * 1024;
const data = randomFillSync(Buffer.allocUnsafe(SIZE));
const target = Buffer.alloc(SIZE);
const dir = await mkdtemp(join(tmpdir(), 'stratafs-bench-'));
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

const cases: BenchCase[] = [
  {
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
    title: 'warm memory-tier readFile of 64 MiB',
    baseline: { name: 'Buffer.allocUnsafe + copy', run: () => data.copy(Buffer.allocUnsafe(SIZE)) },
    candidate: { name: 'fs.readFile (memory tier)', before: async () => void (await memFs.readFile('/data.bin')), run: () => memFs.readFile('/data.bin') },
    target: { ratio: 0.8, text: '>= 0.8x' },
  },
  {
    title: 'warm disk-tier handle.read of 64 MiB into a caller buffer',
    baseline: { name: 'FileHandle.read of a plain file into a preallocated buffer', run: () => plainHandle.read(target, 0, SIZE, 0) },
    candidate: {
      name: 'handle.read (disk tier)',
      before: async () => {
        diskHandle = await diskFs.open('/plain.bin');
        await diskHandle.read(target, 0, SIZE, 0);
        await diskFs.flush();
        await new Promise((r) => setTimeout(r, 500));
      },
      run: () => diskHandle.read(target, 0, SIZE, 0),
    },
    target: { ratio: 0.8, text: '>= 0.8x' },
  },
  {
    title: 'warm disk-tier readFile of 64 MiB',
    baseline: { name: 'fs.promises.readFile of a plain file', run: () => readFile(plainFile) },
    candidate: { name: 'fs.readFile (disk tier)', run: () => diskFs.readFile('/plain.bin') },
    target: { ratio: 0.9, text: '>= 0.9x' },
  },
  {
    title: 'cached stat',
    candidate: { name: 'stat', run: () => undefined },
    figure: async () => {
      for (let i = 0; i < 50_000; i++) await memFs.stat('/data.bin'); // warm-up (JIT)
      const n = 300_000;
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await memFs.stat('/data.bin');
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      return { value: Math.round(n / seconds), unit: 'stat/s', target: 500_000 };
    },
    target: { ratio: 500_000, text: '>= 500k ops/s' },
  },
];

const results = await runCases(cases);
writeJsonIfAsked(results);
await plainHandle.close();
await memFs.close();
await diskFs.close();
await rm(dir, { recursive: true, force: true });
