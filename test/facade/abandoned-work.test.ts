/**
 * Work several callers share (one store fetch of pages, one stat) when some of them give up:
 * the ones that did not give up get their answer, and nothing is left rejecting unobserved.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MemoryStore, StrataFS, type UnderStore } from '../../src/index.js';

const PAGE = 4096;
let unique = 0;

/** A call that takes `ms`, and, as an SDK does, fails a few ms after its signal aborts. */
function slowly(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      setTimeout(() => reject(Object.assign(new Error('aborted by the SDK'), { name: 'AbortError' })), 10);
    }, { once: true });
  });
}

/** A memory store whose reads (and stats, when `slowStat`) take `ms`. */
function slowStore(inner: MemoryStore, ms: number, slowStat = false): UnderStore {
  return {
    uri: `slow://${++unique}`,
    capabilities: inner.capabilities,
    stat: async (k, o) => {
      if (slowStat) await slowly(ms, o?.signal);
      return inner.stat(k, o);
    },
    list: (p, o) => inner.list(p, o),
    read: async (k, r, o) => {
      await slowly(ms, o?.signal);
      return inner.read(k, r, o);
    },
    write: (k, b, o) => inner.write(k, b, o),
    delete: (k, o) => inner.delete(k, o),
  };
}

const unhandled: unknown[] = [];
const onUnhandled = (error: unknown): void => void unhandled.push(error);
const open: StrataFS[] = [];
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  for (const fs of open.splice(0)) await fs.close();
});

it('a reader without a signal that joins a fetch its only other reader just gave up gets its bytes', async () => {
  const inner = new MemoryStore();
  const data = Buffer.alloc(4 * PAGE, 7);
  await inner.write('f', data);
  const fs = new StrataFS({ cache: { pageSize: PAGE } });
  open.push(fs);
  await fs.mount('/m', slowStore(inner, 200));
  await fs.stat('/m/f');
  const giving = new AbortController();
  const first = fs.readFile('/m/f', { signal: giving.signal });
  await sleep(20);
  giving.abort();
  await expect(first).rejects.toMatchObject({ code: 'ABORT_ERR' });
  expect((await fs.readFile('/m/f')).equals(data)).toBe(true);
});

it('a caller without a signal that joins a stat its only other caller just gave up gets the answer', async () => {
  const inner = new MemoryStore();
  await inner.write('f', Buffer.alloc(10, 1));
  const fs = new StrataFS({ metadata: { syncInterval: 60_000 } });
  open.push(fs);
  await fs.mount('/m', slowStore(inner, 200, true));
  const giving = new AbortController();
  const first = fs.stat('/m/f', { signal: giving.signal });
  await sleep(20);
  giving.abort();
  await expect(first).rejects.toMatchObject({ code: 'ABORT_ERR' });
  expect((await fs.stat('/m/f')).size).toBe(10);
});
