import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, StrataError, StrataFS, type ObjectInfo, type UnderStore } from '../../src/index.js';
import { expectCode } from '../support/helpers.js';

/** The `StrataError` class of a second copy of stratafs, as a connector gets it from the other build (CommonJS vs ES module) or from a bundle. */
async function foreignStrataError(): Promise<typeof StrataError> {
  vi.resetModules();
  const copy = await import('../../src/errors.js');
  expect(copy.StrataError).not.toBe(StrataError);
  return copy.StrataError;
}

/** A memory store whose next `failures` stat calls throw `error()`. */
function failingStats(failures: number, error: () => unknown): UnderStore & { stats: number } {
  const inner = new MemoryStore();
  void inner.write('f.txt', Buffer.from('payload'));
  let left = failures;
  const store = {
    stats: 0,
    uri: 'failing://x',
    capabilities: inner.capabilities,
    async stat(key: string): Promise<ObjectInfo | undefined> {
      store.stats++;
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

describe('errors a connector throws', () => {
  let fs: StrataFS | undefined;
  afterEach(() => fs?.close());

  it('a temporary StrataError of another copy of stratafs is retried', async () => {
    const Foreign = await foreignStrataError();
    fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    const store = failingStats(2, () => new Foreign('EIO', 'slow down', { temporary: true }));
    await fs.mount('/f', store);
    expect((await fs.stat('/f/f.txt')).size).toBe(7);
    expect(store.stats).toBe(3);
  });

  it('a StrataError of another copy keeps its code and message, and is a StrataError to the application', async () => {
    const Foreign = await foreignStrataError();
    fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    await fs.mount('/f', failingStats(1, () => new Foreign('EACCES', 'token expired')));
    const error = await expectCode(fs.stat('/f/f.txt'), 'EACCES');
    expect(error).toBeInstanceOf(StrataError);
    expect(error.message).toBe("EACCES: token expired, stat '/f/f.txt'");
    expect(new Foreign('ENOENT')).toBeInstanceOf(StrataError);
    expect(new Error('plain')).not.toBeInstanceOf(StrataError);
  });
});
