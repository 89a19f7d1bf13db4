/**
 * Faults between a connector's SDK and its emulator, injected by a proxy, with the retry and
 * timeout layers on. Each connector runs the same suite with one call; its SDK's own retries
 * are turned off so that what recovers is stratafs.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StrataFS, type UnderStore } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { expectCode, randomBytes, tempDir } from '../support/helpers.js';

const PAGE = 64 * 1024;
/**
 * The GETs of an object's bytes, ranged or whole (a cold whole read may be one GET without a
 * range): S3 `?x-id=GetObject`, GCS `?alt=media`, Azure, OSS and COS a plain GET of the object's path.
 */
const bytesOf = (name: string): { method: string; path: RegExp } => ({ method: 'GET', path: new RegExp(`(/|%2F)${name.replace(/\./g, '\\.')}(\\?(x-id=GetObject|alt=media)|$)`) });

/** What the suite needs from a connector. */
export interface FaultTarget {
  /** The emulator's endpoint (`http://127.0.0.1:PORT`) the proxy forwards to. */
  upstream: () => string;
  /** A store under `prefix` whose SDK talks to `endpoint` (the proxy), without SDK retries. */
  makeStore: (endpoint: string, prefix: string) => Promise<UnderStore>;
  /** Writes an object straight to the emulator (not through the proxy), under `prefix`. */
  put: (prefix: string, key: string, data: Buffer) => Promise<void>;
  /** The method the SDK uses to upload a small object (`PUT` or `POST`). */
  uploadMethod: string;
}

/** Registers the fault suite for one connector. */
export function describeFaults(name: string, target: FaultTarget): void {
  describe(`${name} under injected faults`, () => {
    let proxy: FaultProxy;
    let fs: StrataFS;
    let prefix: string;
    const stores: UnderStore[] = [];
    const mount = async (f: StrataFS): Promise<void> => {
      const store = await target.makeStore(proxy.endpoint, prefix);
      stores.push(store);
      await f.mount('/x', store);
    };
    const put = (key: string, data: Buffer): Promise<void> => target.put(prefix, key, data);

    beforeAll(async () => {
      proxy = await startFaultProxy(target.upstream());
    });
    afterAll(async () => {
      await proxy.close();
    });
    beforeEach(async () => {
      prefix = `faults-${Math.random().toString(36).slice(2)}`;
      fs = new StrataFS({ cache: { pageSize: PAGE }, retry: { attempts: 4, minDelay: 5, maxDelay: 20 }, timeout: 1000, metadata: { syncInterval: 0 } });
      await mount(fs);
    });
    afterEach(async () => {
      proxy.clear();
      await fs.close();
      for (const store of stores.splice(0)) await store.close?.();
    });

    it('transient 503/500/429 answers are retried and the read succeeds', async () => {
      const data = randomBytes(3 * PAGE);
      await put('a.bin', data);
      const before = proxy.applied;
      proxy.add({ method: 'GET', status: 503 });
      proxy.add({ method: 'GET', status: 500 });
      proxy.add({ method: 'GET', status: 429 });
      expect((await fs.readFile('/x/a.bin')).equals(data)).toBe(true);
      expect(proxy.applied - before).toBe(3);
    });

    it('persistent errors end in EIO with the path', async () => {
      await put('p.bin', randomBytes(10));
      proxy.add({ status: 503, times: 1000 });
      const error = await expectCode(fs.readFile('/x/p.bin'), 'EIO');
      expect(error.path).toBe('/x/p.bin');
    });

    it('an endpoint that answers every request with a web page is EIO, never an empty file or directory', async () => {
      await put('page.txt', Buffer.from('real'));
      proxy.add({ webPage: true, times: 1000 });
      for (const [op, call] of [
        ['stat', () => fs.stat('/x/page.txt')],
        ['readFile', () => fs.readFile('/x/page.txt')],
        ['writeFile', () => fs.writeFile('/x/new.txt', 'lost')],
        ['readdir', () => fs.readdir('/x')],
      ] as const) {
        const error = await expectCode(call(), 'EIO');
        expect(error.message, op).toContain('is the endpoint right?');
        expect((error as { temporary?: boolean }).temporary, op).toBe(false);
      }
      proxy.clear();
      expect((await fs.readFile('/x/page.txt')).toString()).toBe('real');
      await expectCode(fs.stat('/x/new.txt'), 'ENOENT');
    });

    it('an endpoint nothing listens on is a temporary EIO that says the service cannot be reached, and where', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const f = new StrataFS({ retry: { attempts: 1 }, timeout: 5000 });
      await f.mount('/down', await target.makeStore(`http://127.0.0.1:${port}`, prefix));
      try {
        for (const [op, call] of [
          ['stat', () => f.stat('/down/a.txt')],
          ['readdir', () => f.readdir('/down')],
        ] as const) {
          const error = await expectCode(call(), 'EIO');
          expect(error.message, op).toMatch(new RegExp(`^EIO: cannot reach [A-Z][\\w ]+: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}, ${op} '/down`));
          expect((error as { temporary?: boolean }).temporary, op).toBe(true);
        }
      } finally {
        await f.close();
      }
    });

    it('an endpoint that answers 404 with a web page is ENOENT, and no markup reaches the message', async () => {
      await put('gone.txt', Buffer.from('real'));
      proxy.add({ webPage: 404, times: 1000 });
      for (const [op, call] of [
        ['stat', () => fs.stat('/x/gone.txt')],
        ['readFile', () => fs.readFile('/x/gone.txt')],
      ] as const) {
        const error = await expectCode(call(), 'ENOENT');
        expect(error.message, op).not.toMatch(/<|html/i);
        expect(error.path, op).toBe('/x/gone.txt');
      }
    });

    it('connection resets before and during the body are retried; the bytes are right', async () => {
      const data = randomBytes(4 * PAGE);
      await put('r.bin', data);
      await fs.stat('/x/r.bin');
      const before = proxy.applied;
      proxy.add({ ...bytesOf('r.bin'), reset: 'before' });
      proxy.add({ ...bytesOf('r.bin'), reset: 'during' });
      expect((await fs.readFile('/x/r.bin')).equals(data)).toBe(true);
      expect(proxy.applied - before).toBe(2);
    });

    it('a truncated body with a correct Content-Length is never cached nor returned', async () => {
      const data = randomBytes(4 * PAGE);
      await put('t.bin', data);
      await fs.stat('/x/t.bin');
      proxy.add({ ...bytesOf('t.bin'), truncate: true, times: 1000 });
      const error = await fs.readFile('/x/t.bin').catch((e: { code?: string }) => e);
      expect(['EIO', 'ETIMEDOUT']).toContain((error as { code?: string }).code);
      expect(fs.stats().memory.pages).toBe(0);
      proxy.clear();
      expect((await fs.readFile('/x/t.bin')).equals(data)).toBe(true);
    });

    it('a body slower than the timeout ends in ETIMEDOUT', async () => {
      await put('slow.bin', randomBytes(2 * PAGE));
      await fs.stat('/x/slow.bin');
      proxy.add({ ...bytesOf('slow.bin'), delayBodyMs: 2500, times: 1000 });
      const error = await expectCode(fs.readFile('/x/slow.bin'), 'ETIMEDOUT');
      expect(error.path).toBe('/x/slow.bin');
    });

    it('a wrong Content-Range does not change what is returned', async () => {
      const data = randomBytes(2 * PAGE);
      await put('cr.bin', data);
      proxy.add({ ...bytesOf('cr.bin'), contentRange: 'bytes 0-9/10', times: 5 });
      const got = await fs.readFile('/x/cr.bin', { offset: PAGE, length: PAGE }).catch((e: { code?: string }) => e);
      // Either the right bytes, or a clear error from an SDK that checks the header: never wrong bytes.
      if (Buffer.isBuffer(got)) expect(got.equals(data.subarray(PAGE))).toBe(true);
      else expect(['EIO', 'EINVAL']).toContain((got as { code?: string }).code);
    });

    it('an object that changes between two page fetches never yields a mixed result', async () => {
      await put('m.bin', Buffer.alloc(4 * PAGE, 1));
      const handle = await fs.open('/x/m.bin');
      expect([...new Set(await handle.readRange(0, PAGE))]).toEqual([1]);
      await new Promise((r) => setTimeout(r, 5)); // a new version, even where versions are timestamps
      await put('m.bin', Buffer.alloc(4 * PAGE, 2));
      await expectCode(handle.readRange(2 * PAGE, PAGE), 'ESTALE');
      expect([...new Set(await fs.readFile('/x/m.bin'))]).toEqual([2]);
    });

    it('an aborted upload leaves the old object', async () => {
      await put('w.bin', Buffer.from('old'));
      const controller = new AbortController();
      const body = new Readable({ read() {} });
      const write = fs.writeFile('/x/w.bin', body, { signal: controller.signal });
      body.push(randomBytes(PAGE));
      setTimeout(() => controller.abort(), 50);
      await expect(write).rejects.toBeTruthy();
      expect((await fs.readFile('/x/w.bin')).toString()).toBe('old');
    });

    it('a connection dropped mid-upload leaves the old object', async () => {
      await put('d.bin', Buffer.from('old'));
      proxy.add({ method: target.uploadMethod, reset: 'before', times: 1000 });
      await expect(fs.writeFile('/x/d.bin', randomBytes(2 * PAGE))).rejects.toMatchObject({ name: 'StrataError' });
      proxy.clear();
      expect((await fs.readFile('/x/d.bin')).toString()).toBe('old');
    });

    it('a 503 on an upload request of a large file (in parts, resumable) is retried: the file is whole, in the foreground and in the background', { timeout: 60_000 }, async () => {
      // 9 MiB: above every connector's default single-request limit but Azure's (parts, a resumable session).
      const data = randomBytes(9 * 1024 * 1024);
      await put('big.bin', Buffer.from('old'));
      const before = proxy.applied;
      const cache = await tempDir();
      // No timeout: one request (a write of a Buffer) may well take more than a second on a busy machine.
      const roomy = new StrataFS({ cache: { disk: { dir: cache.dir } }, retry: { attempts: 3, minDelay: 5, maxDelay: 20 } });
      try {
        await mount(roomy);
        proxy.add({ method: 'PUT', status: 503 }); // the first request that carries the file's bytes
        await roomy.writeFile('/x/big.bin', data);
        expect(proxy.applied - before).toBe(1);
        proxy.add({ method: 'PUT', status: 503 });
        await roomy.writeFile('/x/later.bin', data, { writeType: 'ASYNC_THROUGH' });
        await roomy.flush();
        expect(proxy.applied - before).toBe(2);
      } finally {
        await roomy.close();
        await cache.cleanup();
      }
      expect((await fs.readFile('/x/big.bin')).equals(data)).toBe(true);
      expect((await fs.readFile('/x/later.bin')).equals(data)).toBe(true);
    });

    it('a write answers the version it stored, also when a newer one is there by the time it could ask (small, and in parts)', { timeout: 60_000 }, async () => {
      const roomy = new StrataFS({ retry: { attempts: 3, minDelay: 5, maxDelay: 20 } }); // no timeout: see above
      await mount(roomy);
      for (const [name, data] of [
        ['small.bin', randomBytes(1000)],
        ['large.bin', randomBytes(9 * 1024 * 1024)], // in parts, or a resumable session
      ] as const) {
        // Every HEAD meanwhile sees another version: as when another process's write lands right after this one.
        proxy.add({ method: 'HEAD', headers: { etag: '"0123456789abcdef0123456789abcdef"' }, times: 1000 });
        const written = await roomy.writeFile(`/x/${name}`, data).finally(() => proxy.clear());
        const stored = (await stores.at(-1)!.stat(name))!;
        expect(written.etag, name).toBe(stored.etag);
        expect(written.size, name).toBe(data.length);
      }
      await roomy.close();
    });

    it('ASYNC_THROUGH uploads survive a store outage and finish when it returns', async () => {
      const cache = await tempDir();
      const async = new StrataFS({ cache: { disk: { dir: cache.dir } }, retry: { attempts: 1, minDelay: 10, maxDelay: 50 } });
      try {
        await mount(async);
        const before = proxy.applied;
        proxy.add({ method: target.uploadMethod, status: 503, times: 3 });
        await async.writeFile('/x/later.txt', 'arrives', { writeType: 'ASYNC_THROUGH' });
        await async.flush();
        expect(proxy.applied - before).toBe(3);
      } finally {
        await async.close();
        await cache.cleanup();
      }
      expect((await fs.readFile('/x/later.txt')).toString()).toBe('arrives');
    });
  });
}
