/**
 * A read that gives up while it shares another reader's store fetch and waits for Redis for
 * its other pages: it fails with its AbortError, and nothing is left rejecting unobserved (an
 * unhandled rejection ends a plain Node process).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, inject, it } from 'vitest';
import { MemoryStore, StrataFS, type UnderStore } from '../../src/index.js';

const PAGE = 4096;

/** A memory store whose reads take `ms`, and, as an SDK does, fail a few ms after their signal aborts. */
function slowStore(inner: MemoryStore, ms: number): UnderStore {
  return {
    uri: `slow://abandoned-${Date.now()}`,
    capabilities: inner.capabilities,
    stat: (k, o) => inner.stat(k, o),
    list: (p, o) => inner.list(p, o),
    read: async (k, r, o) => {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        o?.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          setTimeout(() => reject(Object.assign(new Error('aborted by the SDK'), { name: 'AbortError' })), 10);
        }, { once: true });
      });
      return inner.read(k, r, o);
    },
    write: (k, b, o) => inner.write(k, b, o),
    delete: (k, o) => inner.delete(k, o),
  };
}

it("a read given up while it joined another reader's fetch and waits for Redis leaves no unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown): void => void unhandled.push(error);
  process.on('unhandledRejection', onUnhandled);
  const fs = new StrataFS({ cache: { pageSize: PAGE, shared: { url: inject('redisUrl'), keyPrefix: `abandoned-${Date.now()}:` } } });
  try {
    const inner = new MemoryStore();
    const data = Buffer.alloc(8 * PAGE, 5);
    await inner.write('f', data);
    await fs.mount('/m', slowStore(inner, 100));
    await fs.stat('/m/f');
    for (let round = 0; round < 120; round++) {
      await fs.free('/m/f');
      await fs.stat('/m/f');
      const first = fs.readFile('/m/f', { offset: 0, length: 4 * PAGE }); // no signal: pages 0-3 in flight
      await sleep(2);
      const giving = new AbortController();
      const second = fs.readFile('/m/f', { signal: giving.signal }).catch((error: unknown) => error); // joins 0-3, asks Redis for 4-7
      const k = round % 6;
      if (k === 0) setImmediate(() => giving.abort());
      else if (k === 1) setImmediate(() => setImmediate(() => giving.abort()));
      else if (k === 2) setImmediate(() => setImmediate(() => setImmediate(() => giving.abort())));
      else setTimeout(() => giving.abort(), (k - 3) * 0.5);
      expect((await first).equals(data.subarray(0, 4 * PAGE))).toBe(true);
      const outcome = await second;
      if (Buffer.isBuffer(outcome)) expect(outcome.equals(data)).toBe(true);
      else expect(outcome).toMatchObject({ code: 'ABORT_ERR' });
    }
    await sleep(300);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await fs.close();
  }
}, 60_000);
