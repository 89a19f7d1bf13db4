/**
 * Warming the cache with `load`, with a progress bar (cli-progress) on a terminal and plain
 * lines otherwise.   npx tsx examples/load-progress.ts
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import cliProgress from 'cli-progress';
import { StrataFS } from '../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'stratafs-load-'));
await mkdir(join(dir, 'dataset'));
for (let i = 0; i < 20; i++) await writeFile(join(dir, 'dataset', `part-${i}.bin`), randomFillSync(Buffer.alloc(2 * 1024 * 1024)));

const fs = new StrataFS({ cache: { memory: { capacity: '128MiB' } } });
await fs.mount('/data', `file://${dir}`);

const bar = process.stdout.isTTY ? new cliProgress.SingleBar({ format: 'loading [{bar}] {percentage}% | {value}/{total} bytes | {files} files' }, cliProgress.Presets.shades_classic) : undefined;
let lastFiles = -1;
await fs.load('/data/dataset', {
  recursive: true,
  onProgress: ({ bytes, totalBytes, files, totalFiles }) => {
    if (bar) {
      if (bytes === 0) bar.start(totalBytes, 0, { files: `0/${totalFiles}` });
      bar.update(bytes, { files: `${files}/${totalFiles}` });
    } else if (files !== lastFiles) {
      lastFiles = files;
      console.log(`loaded ${files}/${totalFiles} files, ${bytes}/${totalBytes} bytes`);
    }
  },
});
bar?.stop();

const before = fs.stats().bytesFromStore;
await fs.readFile('/data/dataset/part-7.bin');
console.log(`read after load: ${fs.stats().bytesFromStore - before} bytes from the store, memory tier holds ${fs.stats().memory.used} bytes`);
await fs.close();
await rm(dir, { recursive: true, force: true });
