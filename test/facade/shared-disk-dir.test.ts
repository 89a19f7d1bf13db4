import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StrataError, StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { expectedContent } from './fixtures/shared-dir-content.js';
import { tempDir } from '../support/helpers.js';
import { cacheIdOf, ENDED_PROCESS_STORES } from '../../src/mount/open-store.js';
import { MemoryStore } from '../../src/index.js';

describe('one disk cache dir shared by four processes', () => {
  it('stays consistent and under capacity while they read and write at once', async () => {
    const cache = await tempDir('stratafs-shared-cache-');
    const store = await tempDir('stratafs-shared-store-');
    try {
      for (let n = 0; n < 12; n++) await writeFile(join(store.dir, `shared-${n}.bin`), expectedContent(`shared-${n}`));
      const run = (id: number): Promise<{ reads: number; mismatches: number; maxUsed: number; capacity: number }> =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', 'test/facade/fixtures/shared-dir-worker.ts', cache.dir, store.dir, String(id), '4000'], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`worker ${id} exited ${code}`))));
        });
      const reports = await Promise.all([1, 2, 3, 4].map(run));
      for (const r of reports) {
        expect(r.reads).toBeGreaterThan(4);
        expect(r.mismatches).toBe(0);
        expect(r.maxUsed).toBeLessThanOrEqual(r.capacity);
      }
    } finally {
      await cache.cleanup();
      await store.cleanup();
    }
  }, 120_000);

  it('an instance serves the pages another one cached, while both are open', async () => {
    const cache = await tempDir('stratafs-shared-cache-');
    const store = new CountingStore('shared-dir');
    await store.inner.write('x.bin', expectedContent('x'));
    const options = { cache: { pageSize: 64 * 1024, memory: false as const, disk: { dir: cache.dir, capacity: '8MiB' } } };
    const a = new StrataFS(options);
    const b = new StrataFS(options);
    try {
      await a.mount('/s', store);
      await b.mount('/s', store);
      await a.readFile('/s/x.bin');
      for (let i = 0; i < 200 && (a.stats().disk?.pages ?? 0) < 4; i++) await new Promise((r) => setTimeout(r, 10));
      store.reset();
      expect((await b.readFile('/s/x.bin')).equals(expectedContent('x'))).toBe(true);
      expect(store.bytesRead).toBe(0);
      expect(b.stats().hits).toBe(4);
    } finally {
      await a.close();
      await b.close();
      await cache.cleanup();
    }
  });
});

describe('writes of one file from two instances on one disk cache dir, the first one ASYNC_THROUGH', () => {
  const later = {
    'an ASYNC_THROUGH write': (fs: StrataFS) => fs.writeFile('/s/f.txt', 'v2', { writeType: 'ASYNC_THROUGH' }).then(() => fs.flush()),
    'a CACHE_THROUGH write': (fs: StrataFS) => fs.writeFile('/s/f.txt', 'v2', { writeType: 'CACHE_THROUGH' }),
    'an rm': (fs: StrataFS) => fs.rm('/s/f.txt'),
    'a rename of another file onto it': (fs: StrataFS) => fs.rename('/s/g.txt', '/s/f.txt'),
    'a copy of another file onto it': (fs: StrataFS) => fs.copy('/s/g.txt', '/s/f.txt'),
  };
  for (const [change, run] of Object.entries(later)) {
    it(`the store ends with ${change} made by the other one, even when the upload of the earlier write is still on its way`, async () => {
      const store = new CountingStore('shared-dir-order');
      await store.inner.write('f.txt', Buffer.from('v0'));
      await store.inner.write('g.txt', Buffer.from('v2'));
      await whileUploading(store, 'f.txt', run, async (b) => {
        if (change === 'an rm') {
          expect(await store.inner.stat('f.txt')).toBeUndefined();
          expect(await b.exists('/s/f.txt')).toBe(false);
        } else {
          expect((await store.inner.read('f.txt').then((s) => s.toArray())).join('')).toBe('v2');
          expect((await b.readFile('/s/f.txt')).toString()).toBe('v2');
        }
      });
    });
  }
});

describe('a rename in one instance of a file (or directory) whose ASYNC_THROUGH write another instance on the disk cache dir uploads', () => {
  const cases = [
    { what: 'a file, by the store\'s rename', rename: true, from: 'g.txt', to: 'h.txt', written: 'g.txt', moved: 'h.txt' },
    { what: 'a file, by copy and delete', rename: false, from: 'g.txt', to: 'h.txt', written: 'g.txt', moved: 'h.txt' },
    { what: 'a directory, by the store\'s rename', rename: true, from: 'd', to: 'e', written: 'd/x.txt', moved: 'e/x.txt' },
    { what: 'a directory, by copy and delete', rename: false, from: 'd', to: 'e', written: 'd/x.txt', moved: 'e/x.txt' },
  ];
  for (const { what, rename, from, to, written, moved } of cases) {
    it(`moves ${what} with that write, and the upload on its way does not bring the source back`, async () => {
      const store = new CountingStore('shared-dir-move', { rangeRead: true, list: true, copy: true, rename, directories: false });
      await store.inner.write(written, Buffer.from('v0'));
      await whileUploading(
        store,
        written,
        (b) => b.rename(`/s/${from}`, `/s/${to}`),
        async (b) => {
          expect(await store.inner.stat(written)).toBeUndefined();
          expect(await b.exists(`/s/${written}`)).toBe(false);
          expect((await store.inner.read(moved).then((s) => s.toArray())).join('')).toBe('v1');
          expect((await b.readFile(`/s/${moved}`)).toString()).toBe('v1');
        },
      );
    });
  }
});

describe('an rm -r in one instance of a directory with a file whose ASYNC_THROUGH write another instance on the disk cache dir uploads', () => {
  it('removes the file, and the upload on its way does not bring it back', async () => {
    const store = new CountingStore('shared-dir-rm-r');
    await store.inner.write('d/x.txt', Buffer.from('v0'));
    await whileUploading(
      store,
      'd/x.txt',
      (b) => b.rm('/s/d', { recursive: true }),
      async (b) => {
        expect(await store.inner.stat('d/x.txt')).toBeUndefined();
        expect(await b.exists('/s/d/x.txt')).toBe(false);
      },
    );
  });
});

describe('a change in one instance right after another instance on the disk cache dir wrote a file that is not in the store yet', () => {
  const cases = {
    'a persist uploads that write': async (b: StrataFS, store: CountingStore) => {
      await b.persist('/s/g.txt');
      expect((await store.inner.read('g.txt').then((s) => s.toArray())).join('')).toBe('v1');
    },
    'a rename moves that write': async (b: StrataFS, store: CountingStore, writeType: string) => {
      await b.rename('/s/g.txt', '/s/h.txt');
      expect(await b.exists('/s/g.txt')).toBe(false);
      expect((await b.readFile('/s/h.txt')).toString()).toBe('v1');
      // MUST_CACHE data moves in the disk cache; ASYNC_THROUGH data was uploaded first.
      if (writeType === 'ASYNC_THROUGH') {
        expect(await store.inner.stat('g.txt')).toBeUndefined();
        expect((await store.inner.read('h.txt').then((s) => s.toArray())).join('')).toBe('v1');
      }
    },
  };
  for (const [what, change] of Object.entries(cases)) for (const existing of [true, false]) for (const writeType of ['ASYNC_THROUGH', 'MUST_CACHE'] as const) {
    it(`${what} (${writeType}, of ${existing ? 'a file in the store' : 'a new file'})`, async () => {
      const cache = await tempDir('stratafs-shared-cache-');
      const store = new CountingStore('shared-dir-new-write');
      if (existing) await store.inner.write('g.txt', Buffer.from('v0'));
      // The same store, whose writes refuse a's upload: the write stays pending, for b to find.
      const refusing = Object.assign(Object.create(store) as CountingStore, {
        write: () => Promise.reject(new StrataError('EACCES', 'refused')),
      });
      const options = { cache: { disk: { dir: cache.dir, capacity: '8MiB' } }, retry: { attempts: 3, minDelay: 1, maxDelay: 20 } };
      const a = new StrataFS(options);
      const b = new StrataFS(options);
      try {
        await a.mount('/s', refusing);
        await b.mount('/s', store);
        await b.exists('/s/g.txt'); // b has just looked at the pending writes
        await a.writeFile('/s/g.txt', 'v1', { writeType });
        await change(b, store, writeType);
      } finally {
        await a.close();
        await b.close();
        await cache.cleanup();
      }
    });
  }
});

/**
 * Two instances on one new disk cache dir over `store`: `a` writes 'v1' to `written`
 * (ASYNC_THROUGH), and while its upload is held back `change` runs on `b`, given every chance to
 * reach the store first; then the upload goes on, and `check` runs once both have ended.
 * `ready` runs on `b` before `change`, while the upload is held back.
 */
async function whileUploading(
  store: CountingStore,
  written: string,
  change: (b: StrataFS) => Promise<unknown>,
  check: (b: StrataFS) => Promise<void>,
  ready?: (b: StrataFS) => Promise<void>,
): Promise<void> {
  const cache = await tempDir('stratafs-shared-cache-');
  let letGo!: () => void;
  const gate = new Promise<void>((resolve) => (letGo = resolve));
  let reached!: () => void;
  const v1Reached = new Promise<void>((resolve) => (reached = resolve));
  const write = store.write.bind(store);
  store.write = async (key, body, opts) => {
    const data = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray());
    if (key === written && data.toString() === 'v1') {
      reached();
      await gate;
    }
    return write(key, data, opts);
  };
  const options = { cache: { disk: { dir: cache.dir, capacity: '8MiB' } }, retry: { attempts: 3, minDelay: 1, maxDelay: 20 } };
  const a = new StrataFS(options);
  const b = new StrataFS(options);
  try {
    await a.mount('/s', store);
    await b.mount('/s', store);
    await a.writeFile(`/s/${written}`, 'v1', { writeType: 'ASYNC_THROUGH' });
    await v1Reached; // the upload of v1 is on its way
    await ready?.(b);
    const bDone = change(b);
    await Promise.race([bDone.catch(() => undefined), new Promise((r) => setTimeout(r, 300))]);
    letGo();
    await bDone;
    await a.flush();
    await check(b);
  } finally {
    letGo();
    await a.close();
    await b.close();
    await cache.cleanup();
  }
}

describe('a persist in one instance of a file whose ASYNC_THROUGH write another instance on the disk cache dir uploads', () => {
  it('resolves only once that upload has landed', async () => {
    const store = new CountingStore('shared-dir-persist');
    await store.inner.write('f.txt', Buffer.from('v00'));
    let persisted: string | undefined;
    await whileUploading(
      store,
      'f.txt',
      async (b) => {
        // It gives up at its signal while it waits.
        const abort = new AbortController();
        const given = b.persist('/s/f.txt', { signal: abort.signal });
        abort.abort();
        await expect(given).rejects.toMatchObject({ name: 'AbortError' });
        await b.persist('/s/f.txt');
        persisted = (await store.inner.read('f.txt').then((s) => s.toArray())).join('');
      },
      async () => expect(persisted).toBe('v1'),
      // Once b sees the pending write (its view of the journal is re-read at most once a second).
      async (b) => {
        while ((await b.stat('/s/f.txt')).size !== 2) await new Promise((r) => setTimeout(r, 20));
      },
    );
  });
});

describe('a disk cache dir opened after a process pinned files of its memory:// store', () => {
  /** Runs the pinner on `dir`; resolves once it pinned, with a function that ends it (it ends by itself unless `stay`). */
  async function pinner(dir: string, stay: boolean): Promise<() => Promise<unknown>> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/facade/fixtures/memory-pinner.ts', dir, ...(stay ? ['stay'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.once('exit', r));
    const used = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      void exited.then((code) => reject(new Error(`pinner exited (${String(code)}) before it pinned`)));
    });
    expect(Number(used)).toBe(1024 * 1024);
    return async () => {
      child.stdin.end();
      return await exited;
    };
  }

  async function usedBy(dir: string): Promise<unknown> {
    const fs = new StrataFS({ cache: { pageSize: 64 * 1024, memory: false, disk: { dir, capacity: '8MiB' } } });
    try {
      await fs.mount('/', 'memory://mine');
      return fs.stats().disk;
    } finally {
      await fs.close();
    }
  }

  it('that ended without close() no longer holds those pages: nothing could read or unpin them', async () => {
    const cache = await tempDir('stratafs-ended-pinner-');
    try {
      expect(await (await pinner(cache.dir, false))()).toBe(0);
      expect(await usedBy(cache.dir)).toMatchObject({ used: 0, pages: 0 });
    } finally {
      await cache.cleanup();
    }
  });

  it('with the pid of this one (as in a container) counts as ended unless it is this one', async () => {
    const own = cacheIdOf(new MemoryStore({ name: 'mine' }));
    expect(ENDED_PROCESS_STORES.test(own)).toBe(false);
    const token = own.slice(own.indexOf('#') + 1);
    const earlier = `memory://mine#${process.pid}-${token.endsWith('0') ? 'ffffffff' : '00000000'}`;
    expect(ENDED_PROCESS_STORES.test(earlier)).toBe(true);
  });

  it('that still runs keeps them', async () => {
    const cache = await tempDir('stratafs-running-pinner-');
    try {
      const end = await pinner(cache.dir, true);
      try {
        expect(await usedBy(cache.dir)).toMatchObject({ used: 1024 * 1024, pages: 16 });
      } finally {
        await end();
      }
    } finally {
      await cache.cleanup();
    }
  });
});
