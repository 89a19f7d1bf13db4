/**
 * A test store over a MemoryStore holding `f.txt` ("payload") whose next `failures` stat calls
 * throw `error()`, each after hanging for `hangMs` (until its signal aborts): for the retry and
 * timeout layers and for errors as connectors throw them.
 */
import type { Readable } from 'node:stream';
import { MemoryStore, type UnderStore } from '../../src/index.js';

/** See the module comment; `attempts` counts the stat calls. */
export function flakyStore(failures: number, error: () => unknown, hangMs = 0): UnderStore & { attempts: number } {
  const inner = new MemoryStore();
  void inner.write('f.txt', Buffer.from('payload'));
  let left = failures;
  const store = {
    attempts: 0,
    uri: 'flaky://x',
    capabilities: inner.capabilities,
    async stat(key: string, opts?: { signal?: AbortSignal }) {
      store.attempts++;
      if (hangMs > 0) {
        await new Promise((resolve, reject) => {
          const t = setTimeout(resolve, hangMs);
          opts?.signal?.addEventListener('abort', () => {
            clearTimeout(t);
            reject(opts.signal!.reason);
          });
        });
      }
      if (left-- > 0) throw error();
      return inner.stat(key);
    },
    list: (k: string) => inner.list(k),
    read: (k: string, r?: { offset: number; length?: number }) => inner.read(k, r),
    write: (k: string, b: Readable | Buffer) => inner.write(k, b),
    delete: (k: string) => inner.delete(k),
  };
  return store;
}
