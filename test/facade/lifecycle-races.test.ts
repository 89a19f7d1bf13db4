/**
 * Mounts coming and going, and close(), while calls are on their way: each call settles with
 * its result or a clear code, and nothing of one store is seen through the next mount.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StrataFS, MemoryStore, type UnderStore } from '../../src/index.js';
import { expectCode, tempDir } from '../support/helpers.js';

/** A store whose calls of the held operations wait until `release()`; `arrived(op)` resolves once one waits; `stats` counts its stat calls. */
function gatedStore(inner: UnderStore, held: Set<string>, capabilities = inner.capabilities) {
  const waiting: Array<() => void> = [];
  const arrivals: Array<{ op: string; resolve: () => void }> = [];
  const gate = async (op: string): Promise<void> => {
    if (!held.has(op)) return;
    await new Promise<void>((go) => {
      waiting.push(go);
      for (const a of arrivals.filter((a) => a.op === op)) a.resolve();
    });
  };
  const store: UnderStore & { stats: number } = {
    stats: 0,
    uri: inner.uri,
    capabilities,
    stat: async (k, o) => (store.stats++, await gate('stat'), inner.stat(k, o)),
    list: async function* (k, o) {
      await gate('list');
      yield* inner.list(k, o);
    },
    read: async (k, r, o) => (await gate('read'), inner.read(k, r, o)),
    write: async (k, b, o) => (await gate('write'), inner.write(k, b, o)),
    delete: async (k, o) => (await gate('delete'), inner.delete(k, o)),
  };
  return {
    store,
    arrived: (op: string) => new Promise<void>((resolve) => arrivals.push({ op, resolve })),
    release: () => {
      held.clear();
      for (const go of waiting.splice(0)) go();
    },
  };
}

let fs: StrataFS;
afterEach(async () => {
  await fs?.close();
});

describe('unmount with changes on their way', () => {
  const calls: Array<[string, (fs: StrataFS) => Promise<unknown>, (fs: StrataFS) => Promise<void>]> = [
    ['writeFile', (fs) => fs.writeFile('/m/f', 'new'), async (fs) => expect((await fs.readFile('/m/f')).toString()).toBe('new')],
    ['copy -r', (fs) => fs.copy('/m/d', '/m/e', { recursive: true }), async (fs) => expect(await fs.readdir('/m/e')).toEqual(['x', 'y'])],
    ['rm -r', (fs) => fs.rm('/m/d', { recursive: true }), async (fs) => expect(await fs.exists('/m/d')).toBe(false)],
  ];
  for (const [name, call, check] of calls) {
    it(`${name} finishes against its store, whole, and the next mount at that path sees only its own store`, async () => {
      fs = new StrataFS();
      const inner = new MemoryStore();
      const held = new Set<string>();
      const gated = gatedStore(inner, held);
      await fs.mount('/m', gated.store);
      await fs.writeFile('/m/f', 'old');
      await fs.writeFile('/m/d/x', 'x');
      await fs.writeFile('/m/d/y', 'y');
      held.add(name === 'rm -r' ? 'delete' : 'write');
      const arrived = gated.arrived(name === 'rm -r' ? 'delete' : 'write');
      const running = call(fs);
      await arrived;
      const unmounting = fs.unmount('/m');
      gated.release();
      await running; // not an error: the mount was still there when it started
      await unmounting;
      // Another store at the same path: nothing of the first one.
      await fs.mount('/m', 'memory://');
      expect(await fs.readdir('/m', { recursive: true })).toEqual([]);
      await expectCode(fs.readFile('/m/f'), 'ENOENT');
      await fs.unmount('/m');
      // The same store again: its current data.
      await fs.mount('/m', inner);
      await check(fs);
    });
  }
});

describe('unmount and close with a store that never answers a write', () => {
  for (const end of ['unmount', 'close'] as const) {
    it(`a writeFile whose look at its target never comes back fails with EINVAL once ${end} stops waiting, and stores nothing`, { timeout: 30_000 }, async () => {
      fs = new StrataFS();
      const inner = new MemoryStore();
      const gated = gatedStore(inner, new Set(['stat'])); // never released: the store ignores the abort too
      await fs.mount('/m', gated.store);
      const arrived = gated.arrived('stat');
      const writing = fs.writeFile('/m/f', 'data');
      writing.catch(() => undefined);
      await arrived;
      await (end === 'unmount' ? fs.unmount('/m') : fs.close());
      await expectCode(writing, 'EINVAL');
      expect(await inner.stat('f')).toBeUndefined();
    });
  }
});

/**
 * A store whose calls of the held operations never answer, but end with their signal's reason
 * when it aborts (as an SDK does); `arrived` resolves once one of them waits. `rename` and `copy`
 * are its own only when the capabilities say so.
 */
function stuckStore(inner: MemoryStore, held: Set<string>, capabilities: Partial<UnderStore['capabilities']> = {}) {
  let arrive: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const stuck = async (op: string, signal: AbortSignal | undefined): Promise<void> => {
    if (!held.has(op)) return;
    arrive();
    await new Promise<void>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
  };
  const caps = { ...inner.capabilities, ...capabilities };
  const store: UnderStore = {
    uri: inner.uri,
    capabilities: caps,
    stat: async (k, o) => (await stuck('stat', o?.signal), inner.stat(k, o)),
    list: async function* (k, o) {
      await stuck('list', o?.signal);
      yield* inner.list(k, o);
    },
    read: async (k, r, o) => (await stuck('read', o?.signal), inner.read(k, r, o)),
    write: async (k, b, o) => (await stuck('write', o?.signal), inner.write(k, b, o)),
    delete: async (k, o) => (await stuck('delete', o?.signal), inner.delete(k, o)),
    ...(caps.copy ? { copy: async (f: string, t: string, o?: { signal?: AbortSignal }) => (await stuck('copy', o?.signal), inner.copy(f, t, o)) } : {}),
    ...(caps.rename ? { rename: async (f: string, t: string, o?: { signal?: AbortSignal }) => (await stuck('rename', o?.signal), inner.rename(f, t, o)) } : {}),
  };
  return { store, arrived };
}

/** The keys of a memory store. */
async function keysOf(store: MemoryStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list('', { recursive: true })) keys.push(o.key);
  return keys.sort();
}

describe('unmount and close with a store that never answers a change (but honours its abort)', () => {
  /** A change stuck on one store call, and what the store holds once it has ended. */
  const changes: Array<{ name: string; held: string[]; capabilities?: Partial<UnderStore['capabilities']>; call: (fs: StrataFS, m: string) => Promise<unknown>; left: string[] }> = [
    { name: 'mkdir (its look)', held: ['stat'], call: (fs, m) => fs.mkdir(`${m}/new`), left: ['d/x', 'd/y', 'f'] },
    { name: 'mkdir -p (its marker)', held: ['write'], call: (fs, m) => fs.mkdir(`${m}/a/b`, { recursive: true }), left: ['d/x', 'd/y', 'f'] },
    { name: 'rm', held: ['delete'], call: (fs, m) => fs.rm(`${m}/f`), left: ['d/x', 'd/y', 'f'] },
    { name: 'rm -r (its listing)', held: ['list'], call: (fs, m) => fs.rm(`${m}/d`, { recursive: true }), left: ['d/x', 'd/y', 'f'] },
    { name: 'rm -r (its deletes)', held: ['delete'], call: (fs, m) => fs.rm(`${m}/d`, { recursive: true }), left: ['d/x', 'd/y', 'f'] },
    { name: 'rename (the store\'s own)', held: ['rename'], call: (fs, m) => fs.rename(`${m}/f`, `${m}/g`), left: ['d/x', 'd/y', 'f'] },
    { name: 'rename by copy (its copy)', held: ['copy'], capabilities: { rename: false }, call: (fs, m) => fs.rename(`${m}/f`, `${m}/g`), left: ['d/x', 'd/y', 'f'] },
    { name: 'rename of a directory by copy (removing its source)', held: ['delete'], capabilities: { rename: false, copy: false }, call: (fs, m) => fs.rename(`${m}/d`, `${m}/e`), left: ['d/x', 'd/y', 'e/x', 'e/y', 'f'] },
    { name: 'copy (the store\'s own)', held: ['copy'], call: (fs, m) => fs.copy(`${m}/f`, `${m}/g`), left: ['d/x', 'd/y', 'f'] },
    { name: 'copy -r (its writes)', held: ['write'], capabilities: { copy: false }, call: (fs, m) => fs.copy(`${m}/d`, `${m}/e`, { recursive: true }), left: ['d/x', 'd/y', 'f'] },
    { name: 'copy -r (its writes, then the removals of what it made)', held: ['write', 'delete'], capabilities: { copy: false }, call: (fs, m) => fs.copy(`${m}/d`, `${m}/e`, { recursive: true }), left: ['d/x', 'd/y', 'f'] },
  ];
  for (const end of ['unmount', 'close'] as const) {
    it(`each fails with EINVAL once ${end} stops waiting for it, leaving what an abort there leaves`, { timeout: 30_000 }, async () => {
      fs = new StrataFS();
      const running = await Promise.all(
        changes.map(async ({ held, capabilities, call }, i) => {
          const inner = new MemoryStore();
          const ops = new Set<string>();
          const stuck = stuckStore(inner, ops, capabilities);
          await fs.mount(`/m${i}`, stuck.store);
          for (const [key, data] of [['f', 'f'], ['d/x', 'x'], ['d/y', 'y']]) await fs.writeFile(`/m${i}/${key}`, data!);
          for (const op of held) ops.add(op);
          const changing = call(fs, `/m${i}`);
          changing.catch(() => undefined);
          await stuck.arrived;
          return { inner, changing };
        }),
      );
      await (end === 'unmount' ? Promise.all(changes.map((_, i) => fs.unmount(`/m${i}`))) : fs.close());
      const expected = end === 'unmount' ? 'the mount was unmounted' : 'this StrataFS is closed';
      for (const [i, { inner, changing }] of running.entries()) {
        const error = await expectCode(changing, 'EINVAL');
        expect(error.message, changes[i]!.name).toContain(expected);
        expect(await keysOf(inner), changes[i]!.name).toEqual(changes[i]!.left);
      }
    });
  }
});

describe('unmount and close with a persist whose upload the store never answers (but aborts)', () => {
  for (const end of ['unmount', 'close'] as const) {
    it(`the persist fails with EINVAL once ${end} stops waiting for it, and the write stays pending, safe`, { timeout: 30_000 }, async () => {
      const { dir, cleanup } = await tempDir();
      try {
        fs = new StrataFS({ cache: { disk: { dir, capacity: '16MiB' } } });
        const inner = new MemoryStore();
        const held = new Set<string>();
        const stuck = stuckStore(inner, held);
        await fs.mount('/m', stuck.store);
        await fs.writeFile('/m/p', 'pending', { writeType: 'MUST_CACHE' });
        held.add('write');
        const persisting = fs.persist('/m/p');
        persisting.catch(() => undefined);
        await stuck.arrived;
        await (end === 'unmount' ? fs.unmount('/m') : fs.close());
        const error = await expectCode(persisting, 'EINVAL');
        expect(error.message).toContain(end === 'unmount' ? 'the mount was unmounted' : 'this StrataFS is closed');
        expect(await inner.stat('p')).toBeUndefined();
        // The next mount of the store on that dir still has it, and can persist it.
        held.clear();
        if (end === 'close') fs = new StrataFS({ cache: { disk: { dir, capacity: '16MiB' } } });
        await fs.mount('/m', stuck.store);
        expect(fs.stats().pendingWrites).toBe(1);
        expect((await fs.readFile('/m/p')).toString()).toBe('pending');
        await fs.persist('/m/p');
        expect(await inner.stat('p')).toBeDefined();
      } finally {
        await fs.close();
        await cleanup();
      }
    });
  }
});

describe('unmount and close with a change and an upload both stalled on a store that never answers', () => {
  for (const end of ['unmount', 'close'] as const) {
    it(`${end} waits 10 s for them in all, not 10 s for each, then the change fails with EINVAL and the write stays pending`, { timeout: 30_000 }, async () => {
      const { dir, cleanup } = await tempDir();
      try {
        fs = new StrataFS({ cache: { disk: { dir, capacity: '16MiB' } } });
        const inner = new MemoryStore();
        const stuck = stuckStore(inner, new Set(['write']));
        await fs.mount('/m', stuck.store);
        await fs.writeFile('/m/a', 'pending', { writeType: 'ASYNC_THROUGH' }); // its upload waits in the store
        await stuck.arrived;
        const making = fs.mkdir('/m/x'); // so does its marker
        making.catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
        let ended = false;
        const ending = (end === 'unmount' ? fs.unmount('/m') : fs.close()).then(() => (ended = true));
        await vi.advanceTimersByTimeAsync(15_000); // 10 s for what is on its way, 5 s for what was abandoned to end
        vi.useRealTimers();
        expect(ended).toBe(true);
        await ending;
        await expectCode(making, 'EINVAL');
        expect(await inner.stat('a')).toBeUndefined();
        if (end === 'unmount') expect(fs.stats().pendingWrites).toBe(1); // (in the disk cache, for the next mount)
      } finally {
        vi.useRealTimers();
        await fs.close();
        await cleanup();
      }
    });
  }
});

describe('mount below a mount being unmounted', () => {
  it('fails with EBUSY, and the mount above goes as asked (it is not left in place with its writes refused)', async () => {
    fs = new StrataFS();
    const held = new Set<string>(['write']);
    const gated = gatedStore(new MemoryStore(), held);
    await fs.mount('/m', gated.store);
    const arrived = gated.arrived('write');
    const writing = fs.writeFile('/m/f', 'data');
    await arrived;
    const unmounting = fs.unmount('/m');
    await expectCode(fs.mount('/m/n', 'memory://'), 'EBUSY');
    gated.release();
    await writing;
    await unmounting;
    expect(fs.mounts()).toEqual([]);
    // The same store mounted again takes writes as before.
    await fs.mount('/m', gated.store);
    await fs.writeFile('/m/g', 'g');
    expect((await fs.readFile('/m/f')).toString()).toBe('data');
  });
});

describe('unmount with reads on their way', () => {
  it('a read whose bytes come after the unmount asks nothing more of the store (no version check) and fails with EINVAL', async () => {
    fs = new StrataFS();
    const held = new Set<string>();
    // A store that cannot check versions itself: a read is followed by a stat.
    const inner = new MemoryStore();
    const gated = gatedStore(inner, held, { ...inner.capabilities, conditionalRead: false });
    await fs.mount('/m', gated.store);
    await fs.writeFile('/m/f', 'data', { writeType: 'THROUGH' });
    held.add('read');
    const arrived = gated.arrived('read');
    const reading = fs.readFile('/m/f');
    await arrived;
    await fs.unmount('/m');
    const stats = gated.store.stats;
    gated.release();
    await expectCode(reading, 'EINVAL');
    expect(gated.store.stats).toBe(stats);
  });
});

describe('load and reads on their way at an unmount', () => {
  it('end with their data, and cache none of it: the unmount left no page of the store behind', async () => {
    fs = new StrataFS({ cache: { pageSize: 4096 } });
    const held = new Set<string>();
    const inner = new MemoryStore();
    const gated = gatedStore(inner, held);
    await fs.mount('/m', gated.store);
    const data = Buffer.alloc(16 * 4096, 7);
    await fs.writeFile('/m/f', data, { writeType: 'THROUGH' });
    expect(fs.stats().memory.pages).toBe(0);
    held.add('read');
    const arrived = gated.arrived('read');
    const loading = fs.load('/m/f');
    await arrived;
    await fs.unmount('/m');
    gated.release();
    await loading;
    expect(fs.stats().memory.pages).toBe(0);
  });
});

describe('close with calls on their way', () => {
  it('calls made once close() was called fail at once with the closed error, also before it resolves', async () => {
    fs = new StrataFS();
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/a', 'a');
    const closing = fs.close();
    const late: Array<[string, Promise<unknown>]> = [
      ['stat', fs.stat('/m/a')],
      ['writeFile', fs.writeFile('/m/b', 'b')],
      ['unmount', fs.unmount('/m')],
      ['mount', fs.mount('/n', 'memory://')],
      ['flush', fs.flush()],
    ];
    for (const [name, call] of late) expect((await expectCode(call, 'EINVAL')).message, name).toContain('closed');
    await closing;
    await fs.close(); // twice: resolves again
  });

  it('a pin whose pages are on their way when close() is called fails with the closed error, not ENOSPC', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      fs = new StrataFS({ cache: { disk: { dir, capacity: '16MiB' } } });
      const inner = new MemoryStore();
      const held = new Set<string>();
      const gated = gatedStore(inner, held);
      await fs.mount('/m', gated.store);
      await fs.writeFile('/m/d/x', 'x', { writeType: 'THROUGH' });
      held.add('read');
      const arrived = gated.arrived('read');
      const pinning = fs.pin('/m/d');
      await arrived;
      const closing = fs.close();
      gated.release();
      const error = await expectCode(pinning, 'EINVAL');
      expect(error.message).toContain('closed');
      await closing;
    } finally {
      await cleanup();
    }
  });
});
