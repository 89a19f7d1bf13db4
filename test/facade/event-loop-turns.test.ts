/**
 * Calls the cache answers let the event loop turn, as `fs` calls do: a loop of them does not
 * hold back timers, I/O callbacks or other requests for as long as it runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { randomBytes } from '../support/helpers.js';

describe('a loop of calls served from the cache', () => {
  let fs: StrataFS | undefined;
  afterEach(async () => {
    await fs?.close();
    fs = undefined;
  });

  /** A file system with `/m/small` and `/m/big` (many pages) written and cached. */
  async function cached(): Promise<StrataFS> {
    fs = new StrataFS({ cache: { pageSize: 4096, memory: { capacity: '64MiB' } } });
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/small', 'hello');
    await fs.writeFile('/m/big', randomBytes(8 * 1024 * 1024));
    await fs.readFile('/m/big');
    return fs;
  }

  /** Runs `step` until a timer set now fires, at most `limit` times; true when the timer fired first. */
  async function timerFiresDuring(step: () => Promise<unknown>, limit: number): Promise<boolean> {
    let fired = false;
    const timer = setTimeout(() => (fired = true), 1);
    try {
      for (let i = 0; i < limit && !fired; i++) await step();
      return fired;
    } finally {
      clearTimeout(timer);
    }
  }

  it('readFile, stat, exists and readdir in a loop let a timer fire', async () => {
    const fs = await cached();
    expect(await timerFiresDuring(() => fs.readFile('/m/small'), 100_000)).toBe(true);
    expect(await timerFiresDuring(() => fs.stat('/m/small'), 100_000)).toBe(true);
    expect(await timerFiresDuring(() => fs.exists('/m/small'), 100_000)).toBe(true);
    expect(await timerFiresDuring(() => fs.readdir('/m'), 100_000)).toBe(true);
  });

  it('a handle reading in a loop lets a timer fire', async () => {
    const fs = await cached();
    const handle = await fs.open('/m/big');
    const buffer = Buffer.alloc(100);
    expect(await timerFiresDuring(() => handle.read(buffer, 0, 100, 0), 100_000)).toBe(true);
    await handle.close();
  });

  it('calls made before close() still finish: a burst of writes and reads not awaited, then close()', async () => {
    const fs = await cached();
    const writes = Array.from({ length: 1000 }, (_, i) => fs.writeFile(`/m/f${i}`, 'x'));
    const reads = Array.from({ length: 300 }, () => fs.readFile('/m/small'));
    await fs.close();
    const failed = [...(await Promise.allSettled(writes)), ...(await Promise.allSettled(reads))].filter((r) => r.status === 'rejected');
    expect(failed).toEqual([]);
  });

  it('a stream of cached pages lets a timer fire before its end', async () => {
    const fs = await cached();
    let fired = false;
    const timer = setTimeout(() => (fired = true), 1);
    let firedBeforeEnd = false;
    for (let round = 0; round < 20 && !firedBeforeEnd; round++) {
      for await (const chunk of fs.createReadStream('/m/big')) {
        void chunk;
        if (fired) firedBeforeEnd = true;
      }
    }
    clearTimeout(timer);
    expect(firedBeforeEnd).toBe(true);
  });
});
