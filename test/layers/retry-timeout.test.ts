import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { StrataError, StrataFS, MemoryStore, type UnderStore } from '../../src/index.js';
import { expectCode } from '../support/helpers.js';
import { flakyStore } from '../support/flaky-store.js';

describe('retry and timeout layers', () => {
  let fs: StrataFS | undefined;
  afterEach(() => fs?.close());

  it('retries temporary errors with backoff and succeeds', async () => {
    fs = new StrataFS({ retry: { attempts: 4, minDelay: 1, maxDelay: 5 } });
    const store = flakyStore(3, () => new StrataError('EIO', 'slow down', { temporary: true }));
    await fs.mount('/f', store);
    expect((await fs.stat('/f/f.txt')).size).toBe(7);
    expect(store.attempts).toBe(4);
  });

  it('gives up after the attempts with EIO and the path', async () => {
    fs = new StrataFS({ retry: { attempts: 2, minDelay: 1, maxDelay: 2 } });
    const store = flakyStore(10, () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await fs.mount('/f', store);
    const error = await expectCode(fs.stat('/f/f.txt'), 'EIO');
    expect(error.path).toBe('/f/f.txt');
    expect(store.attempts).toBe(2);
  });

  it('a read that keeps failing with a temporary error asks the store `attempts` times, not more', async () => {
    fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    const inner = new MemoryStore();
    let reads = 0;
    const store: UnderStore = {
      uri: 'resetting://x',
      capabilities: inner.capabilities,
      stat: (k, o) => inner.stat(k, o),
      list: (p, o) => inner.list(p, o),
      read: async () => {
        reads++;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
      write: (k, b, o) => inner.write(k, b, o),
      delete: (k, o) => inner.delete(k, o),
    };
    await fs.mount('/f', store);
    await fs.writeFile('/f/f.txt', 'payload', { writeType: 'THROUGH' });
    const error = await expectCode(fs.readFile('/f/f.txt'), 'EIO');
    expect(error.path).toBe('/f/f.txt');
    expect(reads).toBe(3);
  });

  it('retries a store that ran out of file descriptors for a moment (EMFILE, ENFILE)', async () => {
    for (const code of ['EMFILE', 'ENFILE']) {
      fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
      const store = flakyStore(2, () => Object.assign(new Error(`${code}: too many open files, open '/x/f.txt'`), { code }));
      await fs.mount('/f', store);
      expect((await fs.stat('/f/f.txt')).size).toBe(7);
      expect(store.attempts).toBe(3);
      await fs.close();
    }
  });

  it('does not retry permanent errors', async () => {
    fs = new StrataFS({ retry: { attempts: 5, minDelay: 1, maxDelay: 2 } });
    const store = flakyStore(10, () => Object.assign(new Error('denied'), { code: 'EACCES' }));
    await fs.mount('/f', store);
    await expectCode(fs.stat('/f/f.txt'), 'EACCES');
    expect(store.attempts).toBe(1);
  });

  it('a request slower than timeout fails with ETIMEDOUT, and is retried', async () => {
    fs = new StrataFS({ timeout: 50, retry: { attempts: 2, minDelay: 1, maxDelay: 2 } });
    const store = flakyStore(0, () => new Error('unused'), 10_000);
    await fs.mount('/f', store);
    const error = await expectCode(fs.stat('/f/f.txt'), 'ETIMEDOUT');
    expect(error.path).toBe('/f/f.txt');
    expect(store.attempts).toBe(2);
  });

  it('a timed-out store request names the operation called, as every other store failure does', async () => {
    fs = new StrataFS({ timeout: 50, retry: { attempts: 1 }, metadata: { syncInterval: 0 } });
    await fs.mount('/f', flakyStore(0, () => new Error('unused'), 10_000)); // its stats hang
    const write = await expectCode(fs.writeFile('/f/new.txt', 'x'), 'ETIMEDOUT');
    expect(write).toMatchObject({ op: 'write', path: '/f/new.txt', mount: '/f' });
    expect(write.message).toBe("ETIMEDOUT: store stat request took longer than 50 ms, write '/f/new.txt'");
    const read = await expectCode(fs.readFile('/f/f.txt'), 'ETIMEDOUT');
    expect(read).toMatchObject({ op: 'read', path: '/f/f.txt' });
  });

  it('a streamed write longer than timeout in all, because its writer is slow, succeeds; one the store holds up fails with ETIMEDOUT', async () => {
    fs = new StrataFS({ timeout: 100, retry: { attempts: 1 } });
    await fs.mount('/m', new MemoryStore());
    const slowly = async function* (): AsyncGenerator<Buffer> {
      for (let i = 0; i < 5; i++) {
        await sleep(60); // 300 ms in all: three times the timeout
        yield Buffer.alloc(1000, i);
      }
    };
    expect((await fs.writeFile('/m/slow.bin', slowly())).size).toBe(5000);
    const stream = fs.createWriteStream('/m/open.log');
    const finished = new Promise<void>((resolve, reject) => stream.on('finish', resolve).on('error', reject));
    for (let i = 0; i < 5; i++) {
      stream.write(`line ${i}\n`);
      await sleep(60);
    }
    stream.end();
    await finished;
    expect((await fs.readFile('/m/open.log')).toString()).toBe('line 0\nline 1\nline 2\nline 3\nline 4\n');
    // A store that takes the whole body and then never answers (a commit that does not come back).
    const stuck = new MemoryStore();
    stuck.write = async (_key, body) => {
      for await (const chunk of body as AsyncIterable<Buffer>) void chunk;
      return await new Promise<never>(() => undefined);
    };
    await fs.mount('/stuck', stuck);
    const error = await expectCode(fs.writeFile('/stuck/a.bin', slowly()), 'ETIMEDOUT');
    expect(error.message).toContain('store write request made no progress for 100 ms');
  });

  it('a body that stalls for ever is cut after timeout and fetched again, also one that does not end when destroyed (a web stream, an async generator)', { timeout: 10_000 }, async () => {
    fs = new StrataFS({ timeout: 100, retry: { attempts: 2, minDelay: 1, maxDelay: 2 } });
    const data = Buffer.alloc(256 * 1024, 7);
    for (const kind of ['web', 'generator'] as const) {
      const inner = new MemoryStore();
      await inner.write('f.bin', data);
      let reads = 0;
      const store: UnderStore = {
        uri: `stalling-${kind}://x`,
        capabilities: inner.capabilities,
        stat: (k, o) => inner.stat(k, o),
        list: (p, o) => inner.list(p, o),
        write: (k, b) => inner.write(k, b),
        delete: (k) => inner.delete(k),
        read: async (_key, range) => {
          const first = ++reads === 1;
          const bytes = data.subarray(range?.offset ?? 0, range?.length === undefined ? undefined : (range.offset ?? 0) + range.length);
          const chunks = async function* (): AsyncGenerator<Buffer> {
            yield bytes.subarray(0, 1000);
            if (first) await new Promise(() => undefined); // the connection went silent, and nothing reports it
            yield bytes.subarray(1000);
          };
          return (kind === 'web' ? ReadableStream.from(chunks()) : Readable.from(chunks(), { objectMode: false })) as unknown as Readable;
        },
      };
      await fs.mount(`/${kind}`, store);
      expect((await fs.readFile(`/${kind}/f.bin`)).equals(data)).toBe(true);
      expect(reads).toBe(2);
    }
  });

  it('a listing whose store ignores the signal and never answers fails with ETIMEDOUT in time', { timeout: 10_000 }, async () => {
    fs = new StrataFS({ timeout: 50, retry: { attempts: 2, minDelay: 1, maxDelay: 2 } });
    const silent: UnderStore = {
      ...flakyStore(0, () => new Error('unused')),
      async *list() {
        await new Promise(() => undefined); // an SDK call without a signal, on an endpoint that never answers
      },
    };
    await fs.mount('/f', silent);
    const started = Date.now();
    const error = await expectCode(fs.readdir('/f'), 'ETIMEDOUT');
    expect(error).toMatchObject({ op: 'readdir', path: '/f' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a listing that failed is listed again from the start: never an empty directory, never rm of a full one', async () => {
    fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    const inner = new MemoryStore();
    await inner.write('d/keep1', Buffer.from('1'));
    await inner.write('d/keep2', Buffer.from('2'));
    let failures = 0;
    const store: UnderStore = {
      uri: 'flaky-list://x',
      capabilities: inner.capabilities,
      stat: (k, o) => inner.stat(k, o),
      async *list(prefix, opts) {
        if (failures-- > 0) throw new StrataError('EIO', 'listing broke off', { temporary: true });
        yield* inner.list(prefix, opts);
      },
      read: (k, r, o) => inner.read(k, r, o),
      write: (k, b, o) => inner.write(k, b, o),
      delete: (k, o) => inner.delete(k, o),
    };
    await fs.mount('/f', store, { syncInterval: 0 });
    failures = 1;
    expect(await fs.readdir('/f/d')).toEqual(['keep1', 'keep2']);
    failures = 1;
    expect(await fs.readdir('/f', { recursive: true })).toEqual(['d', 'd/keep1', 'd/keep2']);
    failures = 2;
    await expectCode(fs.rm('/f/d'), 'ENOTEMPTY');
    failures = 5;
    await expectCode(fs.rm('/f/d'), 'EIO');
    expect(await fs.readdir('/f/d')).toEqual(['keep1', 'keep2']);
  });

  it('a caller that aborts stops waiting for a store stat in flight; a caller sharing it without a signal gets its answer', async () => {
    fs = new StrataFS();
    const store = flakyStore(0, () => new Error('unused'), 3000);
    await fs.mount('/f', store);
    const controller = new AbortController();
    const started = Date.now();
    const aborted = fs.readFile('/f/f.txt', { signal: controller.signal });
    const patient = fs.stat('/f/f.txt');
    setTimeout(() => controller.abort(), 20);
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(2000); // long before the stat's 3 s
    expect((await patient).size).toBe(7);
    expect(store.attempts).toBe(1);
  });

  it('a store stat whose every caller gave up is aborted', async () => {
    fs = new StrataFS();
    const store = flakyStore(0, () => new Error('unused'), 10_000);
    let storeSignal: AbortSignal | undefined;
    const stat = store.stat;
    store.stat = (key, opts) => {
      storeSignal = opts?.signal;
      return stat(key, opts);
    };
    await fs.mount('/f', store);
    const controller = new AbortController();
    const call = fs.stat('/f/f.txt', { signal: controller.signal });
    await sleep(10);
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(storeSignal?.aborted).toBe(true);
  });

  it('counts each call once however often it is retried', async () => {
    fs = new StrataFS({ retry: { attempts: 3, minDelay: 1, maxDelay: 2 } });
    const store = flakyStore(2, () => new StrataError('EIO', 'busy', { temporary: true }));
    await fs.mount('/f', store);
    await fs.stat('/f/f.txt');
    expect(fs.stats().storeRequests.stat).toBe(1);
  });
});
