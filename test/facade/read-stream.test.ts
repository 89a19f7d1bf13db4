/**
 * `createReadStream` hands out chunks the consumer owns, as `fs` streams do: writing to them
 * reaches neither the memory tier nor the disk tier. `highWaterMark` below a page sets the chunk size.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;

/** Reads a stream to the end, zeroing every chunk once it has been copied out. */
async function readAndScribble(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) {
    parts.push(Buffer.from(chunk as Buffer));
    (chunk as Buffer).fill(0);
  }
  return Buffer.concat(parts);
}

describe('createReadStream chunks', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('a consumer writing to its chunks changes nothing cached in memory (cold or warm)', async () => {
    const fs = new StrataFS({ cache: { pageSize: PAGE } });
    cleanups.push(() => fs.close());
    await fs.mount('/m', 'memory://');
    const data = randomBytes(5 * PAGE + 11);
    await fs.writeFile('/m/a.bin', data, { writeType: 'THROUGH' });
    expect((await readAndScribble(fs.createReadStream('/m/a.bin'))).equals(data)).toBe(true); // cold: fetched pages
    expect((await readAndScribble(fs.createReadStream('/m/a.bin'))).equals(data)).toBe(true); // warm: memory-tier pages
    expect((await fs.readFile('/m/a.bin')).equals(data)).toBe(true);
    expect(fs.stats().bytesFromStore).toBe(data.length); // the reads after the first came from the cache
  });

  it('nor what goes to the disk tier: a new StrataFS on the same cache dir reads the right bytes', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const options = { cache: { pageSize: PAGE, memory: false as const, disk: { dir, capacity: '16MiB' } } };
    const data = randomBytes(5 * PAGE + 11);
    const first = new StrataFS(options);
    await first.mount('/m', 'memory://stream-owned');
    await first.writeFile('/m/a.bin', data, { writeType: 'THROUGH' });
    expect((await readAndScribble(first.createReadStream('/m/a.bin'))).equals(data)).toBe(true);
    await first.close();
    const second = new StrataFS(options);
    cleanups.push(() => second.close());
    await second.mount('/m', 'memory://stream-owned');
    expect((await second.readFile('/m/a.bin')).equals(data)).toBe(true);
    expect(second.stats().bytesFromStore).toBe(0); // served by the disk tier the first one filled
  });

  it('a highWaterMark below the page size is the chunk size', async () => {
    const fs = new StrataFS({ cache: { pageSize: PAGE } });
    cleanups.push(() => fs.close());
    await fs.mount('/m', 'memory://');
    const data = randomBytes(2 * PAGE + 5);
    await fs.writeFile('/m/a.bin', data);
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    for await (const chunk of fs.createReadStream('/m/a.bin', { start: 3, highWaterMark: 1000 })) {
      sizes.push((chunk as Buffer).length);
      parts.push(chunk as Buffer);
    }
    expect(Buffer.concat(parts).equals(data.subarray(3))).toBe(true);
    expect(Math.max(...sizes)).toBe(1000);
  });
});
