import { afterEach, describe, expect, it, vi } from 'vitest';
import { StrataError, StrataFS } from '../../src/index.js';
import { expectCode } from '../support/helpers.js';
import { flakyStore } from '../support/flaky-store.js';

/** The `StrataError` class of a second copy of stratafs, as a connector gets it from the other build (CommonJS vs ES module) or from a bundle. */
async function foreignStrataError(): Promise<typeof StrataError> {
  vi.resetModules();
  const copy = await import('../../src/errors.js');
  expect(copy.StrataError).not.toBe(StrataError);
  return copy.StrataError;
}

describe('errors a connector throws', () => {
  let fs: StrataFS | undefined;
  afterEach(() => fs?.close());

  it('a temporary StrataError of another copy of stratafs is retried', async () => {
    const Foreign = await foreignStrataError();
    fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    const store = flakyStore(2, () => new Foreign('EIO', 'slow down', { temporary: true }));
    await fs.mount('/f', store);
    expect((await fs.stat('/f/f.txt')).size).toBe(7);
    expect(store.attempts).toBe(3);
  });

  it('a StrataError of another copy keeps its code and message, and is a StrataError to the application', async () => {
    const Foreign = await foreignStrataError();
    fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    await fs.mount('/f', flakyStore(1, () => new Foreign('EACCES', 'token expired')));
    const error = await expectCode(fs.stat('/f/f.txt'), 'EACCES');
    expect(error).toBeInstanceOf(StrataError);
    expect(error.message).toBe("EACCES: token expired, stat '/f/f.txt'");
    expect(new Foreign('ENOENT')).toBeInstanceOf(StrataError);
    expect(new Error('plain')).not.toBeInstanceOf(StrataError);
  });

  it('a thrown string, object or null becomes an EIO that says what came, with no signature in the message or cause', async () => {
    const thrown: Array<[unknown, string]> = [
      ['GET https://acct.blob.core.windows.net/c/f.txt?sv=2024&sig=S3CR3TSIG refused', 'sig=***'],
      [{ code: 403 }, 'the store failed (code 403)'],
      [{ status: 500, body: 'x' }, 'the store failed (code 500)'],
      [{}, 'the store failed with a value that is not an Error'],
      [null, 'the store failed with null'],
    ];
    for (const [value, said] of thrown) {
      fs = new StrataFS({ retry: { attempts: 1 } });
      await fs.mount('/f', flakyStore(1, () => value));
      const error = await expectCode(fs.stat('/f/f.txt'), 'EIO');
      expect(error.message).toContain(said);
      expect(error.message).not.toContain('S3CR3TSIG');
      expect(error.message).not.toContain('[object Object]');
      expect(String((error.cause as Error | undefined)?.message ?? '')).not.toContain('S3CR3TSIG');
      await fs.close();
    }
  });
});
