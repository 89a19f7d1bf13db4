/**
 * Changes of one file run in the order they were asked for: a background upload of an older
 * version never lands after a newer write or a removal, a write whose answer comes late does not
 * leave its version in the caches over a later one, and `overwrite: false` and `mkdir` are
 * exclusive among concurrent callers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, StrataError, StrataFS } from '../../src/index.js';
import { untilAborted } from '../../src/errors.js';
import type { ObjectInfo, StoreCallOptions, StoreCapabilities, StoreWriteOptions } from '../../src/store/under-store.js';
import { tempDir } from '../support/helpers.js';

/** A memory store whose writes can be held before they reach it (`beforeStore`) or before they answer (`beforeAnswer`), or made to fail. */
class GatedStore extends MemoryStore {
  #gates: Array<{ when: 'beforeStore' | 'beforeAnswer'; open: Promise<void>; arrived: () => void; honoursAbort: boolean }> = [];
  failures = 0;
  /** Writes of a Buffer for which this answers true fail (a temporary error), as if the store were down for them. */
  refuse: (data: Buffer) => boolean = () => false;
  /** The text of each Buffer written, in the order the store took them. */
  readonly writes: string[] = [];
  /** Holds the next write until `release` is called; `reached` resolves once that write is held. */
  hold(when: 'beforeStore' | 'beforeAnswer', honoursAbort = false): { release: () => void; reached: Promise<void> } {
    let release!: () => void;
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    this.#gates.push({ when, open: new Promise<void>((resolve) => (release = resolve)), arrived, honoursAbort });
    return { release, reached };
  }
  override async write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    const gate = this.#gates.shift();
    if (this.failures > 0 || (Buffer.isBuffer(body) && this.refuse(body))) {
      this.failures = Math.max(0, this.failures - 1);
      throw new StrataError('EIO', 'store is down', { temporary: true });
    }
    gate?.arrived();
    if (gate?.when === 'beforeStore') await (gate.honoursAbort ? untilAborted(gate.open, opts?.signal) : gate.open);
    // A gate that ignores aborts stands for a store that goes on with a write once it has it.
    const info = await super.write(key, body, gate && !gate.honoursAbort ? { ...opts, signal: undefined } : opts);
    if (Buffer.isBuffer(body)) this.writes.push(body.toString());
    if (gate?.when === 'beforeAnswer') await gate.open;
    return info;
  }
  async text(key: string): Promise<string | undefined> {
    if (!(await this.stat(key))) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of await this.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  }
}

describe('the changes of one file, in order', () => {
  let cache: Awaited<ReturnType<typeof tempDir>>;
  let fs: StrataFS;
  let store: GatedStore;
  beforeEach(async () => {
    cache = await tempDir('stratafs-order-');
    fs = new StrataFS({ cache: { disk: { dir: cache.dir, capacity: '16MiB' } }, retry: { attempts: 1, minDelay: 1, maxDelay: 2 }, metadata: { syncInterval: -1 } });
    store = new GatedStore();
    await fs.mount('/s', store);
  });
  afterEach(async () => {
    await fs.close();
    await cache.cleanup();
  });

  for (const second of ['ASYNC_THROUGH', 'CACHE_THROUGH', 'THROUGH'] as const) {
    it(`a slow background upload of an older version does not land after a newer ${second} write`, async () => {
      const { release, reached } = store.hold('beforeStore');
      await fs.writeFile('/s/k', 'version 1', { writeType: 'ASYNC_THROUGH' });
      await reached; // the upload of version 1 is on its way
      const newer = fs.writeFile('/s/k', 'version 2', { writeType: second });
      await sleep(30);
      release();
      await newer;
      await fs.flush();
      expect(await store.text('k')).toBe('version 2');
      expect((await fs.readFile('/s/k')).toString()).toBe('version 2');
    });
  }

  it('a slow background upload does not bring back a file removed meanwhile', async () => {
    const { release, reached } = store.hold('beforeStore');
    await fs.writeFile('/s/k', 'version 1', { writeType: 'ASYNC_THROUGH' });
    await reached;
    const removal = fs.rm('/s/k');
    await sleep(30);
    release();
    await removal;
    await fs.flush();
    expect(await store.text('k')).toBeUndefined();
    expect(await fs.exists('/s/k')).toBe(false);
  });

  it('an upload waiting to retry is superseded by a newer write uploaded meanwhile', async () => {
    // Version 1 fails until version 2 is in the store, then would succeed.
    store.refuse = (data) => data.toString() === 'version 1' && store.writes.every((w) => w !== 'version 2');
    await fs.writeFile('/s/k', 'version 1', { writeType: 'ASYNC_THROUGH' });
    await sleep(20); // version 1 failed and waits to be tried again
    await fs.writeFile('/s/k', 'version 2', { writeType: 'ASYNC_THROUGH' });
    await fs.flush();
    await sleep(200); // past the next attempts the older upload would make
    await fs.flush();
    expect(store.writes).toEqual(['version 2']);
    expect(await store.text('k')).toBe('version 2');
    expect((await fs.readFile('/s/k')).toString()).toBe('version 2');
  });

  it('a write whose answer comes late does not leave its version in the caches over a later write', async () => {
    const { release, reached } = store.hold('beforeAnswer');
    const first = fs.writeFile('/s/k', 'version 1');
    await reached;
    const second = fs.writeFile('/s/k', 'version 2');
    await sleep(30);
    release();
    await Promise.all([first, second]);
    expect(await store.text('k')).toBe('version 2');
    expect((await fs.readFile('/s/k')).toString()).toBe('version 2');
    expect((await fs.stat('/s/k')).etag).toBe((await store.stat('k'))!.etag);
  });

  it('of concurrent writes with overwrite: false, one creates the file and the others fail with EEXIST', async () => {
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => fs.writeFile('/s/lock', `writer ${n}`, { overwrite: false })));
    const created = results.filter((r) => r.status === 'fulfilled');
    expect(created).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['EEXIST', 'EEXIST', 'EEXIST']);
    const winner = results.findIndex((r) => r.status === 'fulfilled') + 1;
    expect((await fs.readFile('/s/lock')).toString()).toBe(`writer ${winner}`);
  });

  it('of concurrent mkdir of one path, one makes it and the others fail with EEXIST (recursive: all succeed)', async () => {
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => fs.mkdir('/s/dir')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(new Set(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code))).toEqual(new Set(['EEXIST']));
    await Promise.all([1, 2, 3].map(() => fs.mkdir('/s/other/deep', { recursive: true })));
    expect((await fs.stat('/s/other/deep')).type).toBe('directory');
  });

  it('a write to the disk cache does not wait for an upload stalled with its store; close() gives that upload up', async () => {
    store.hold('beforeStore', true); // never released: the first upload stalls (no timeout set), until aborted
    await fs.writeFile('/s/k', 'version 1', { writeType: 'ASYNC_THROUGH' });
    await sleep(20);
    const started = Date.now();
    await fs.writeFile('/s/k', 'version 2', { writeType: 'ASYNC_THROUGH' });
    expect(Date.now() - started).toBeLessThan(5_000); // the stalled upload never ends by itself
    expect((await fs.readFile('/s/k')).toString()).toBe('version 2');
    const closing = Date.now();
    await fs.close();
    expect(Date.now() - closing).toBeLessThan(15_000);
  }, 30_000);

  it('close() lets the changes already on their way finish: the last one asked wins', async () => {
    const { release, reached } = store.hold('beforeAnswer');
    const first = fs.writeFile('/s/k', 'version 1', { writeType: 'ASYNC_THROUGH' });
    await reached;
    const second = fs.writeFile('/s/k', 'version 2');
    const third = fs.writeFile('/s/k', 'version 3', { writeType: 'ASYNC_THROUGH' });
    const closed = fs.close();
    await sleep(50);
    release();
    await Promise.all([first, second, third, closed]);
    expect(await store.text('k')).toBe('version 3');
  });

  it('a copy or rename onto a file with a pending write replaces it, also while its upload is on its way', async () => {
    await fs.writeFile('/s/src1', 'NEW 1');
    await fs.writeFile('/s/dst1', 'OLD 1', { writeType: 'MUST_CACHE' });
    await fs.rename('/s/src1', '/s/dst1');
    await fs.writeFile('/s/src2', 'NEW 2');
    await fs.writeFile('/s/dst2', 'OLD 2', { writeType: 'MUST_CACHE' });
    await fs.copy('/s/src2', '/s/dst2');
    expect([(await fs.readFile('/s/dst1')).toString(), (await fs.readFile('/s/dst2')).toString()]).toEqual(['NEW 1', 'NEW 2']);
    expect(fs.stats().pendingWrites).toBe(0);
    const { release, reached } = store.hold('beforeStore');
    await fs.writeFile('/s/dst3', 'OLD 3', { writeType: 'ASYNC_THROUGH' });
    await reached; // its upload is on its way
    await fs.writeFile('/s/src3', 'NEW 3', { writeType: 'THROUGH' }).catch(() => undefined);
    const copied = fs.copy('/s/src2', '/s/dst3');
    await sleep(30);
    release();
    await copied;
    await fs.flush();
    expect(await store.text('dst3')).toBe('NEW 2');
    expect((await fs.readFile('/s/dst3')).toString()).toBe('NEW 2');
  });

  it('changes of one file asked at once take their turns one by one: the store, the disk cache and reads agree', async () => {
    // As with fs, calls made without waiting for each other may take their turns in any order;
    // whichever order they took, no older upload or late answer undoes the last one.
    for (const [name, calls] of [
      ['write, rm, write to the disk cache', [(p: string) => fs.writeFile(p, 'X', { writeType: 'THROUGH' }), (p: string) => fs.rm(p), (p: string) => fs.writeFile(p, 'W', { writeType: 'MUST_CACHE' })]],
      ['write to the disk cache, then a store write', [(p: string) => fs.writeFile(p, 'A', { writeType: 'ASYNC_THROUGH' }), (p: string) => fs.writeFile(p, 'B', { writeType: 'THROUGH' })]],
      ['two writes to the disk cache', [(p: string) => fs.writeFile(p, 'A', { writeType: 'ASYNC_THROUGH' }), (p: string) => fs.writeFile(p, 'B', { writeType: 'ASYNC_THROUGH' })]],
    ] as const) {
      const path = `/s/${name.replaceAll(' ', '-')}`;
      await fs.writeFile(path, 'first');
      const { release } = store.hold('beforeStore');
      const settled = Promise.allSettled(calls.map((call) => call(path)));
      await sleep(30);
      release();
      await settled;
      await fs.persist('/s').catch(() => undefined);
      await fs.flush();
      const key = path.slice(3);
      const read = await fs.readFile(path).then((b) => b.toString(), () => undefined);
      expect({ name, read }).toEqual({ name, read: await store.text(key) });
      expect(fs.stats().pendingWrites).toBe(0);
    }
  });

  it('an upload that gives way still ends before the change it gave way to, even in a store that ignores aborts', async () => {
    const { release, reached } = store.hold('beforeStore'); // the gate does not listen to the signal
    await fs.writeFile('/s/k', 'A', { writeType: 'ASYNC_THROUGH' });
    await reached;
    const through = fs.writeFile('/s/k', 'T', { writeType: 'THROUGH' });
    await sleep(50);
    release(); // the store goes on with A after the abort
    await through;
    await fs.flush();
    expect(store.writes.at(-1)).toBe('T'); // A, had it gone on, landed before T
    expect([await store.text('k'), (await fs.readFile('/s/k')).toString()]).toEqual(['T', 'T']);
  });

  it('an upload does not give way to calls that replace nothing (overwrite: false, mkdir): it lands', async () => {
    const { release, reached } = store.hold('beforeStore', true);
    await fs.writeFile('/s/k', 'A', { writeType: 'ASYNC_THROUGH' });
    await reached;
    const refused = Promise.allSettled([fs.writeFile('/s/k', 'X', { overwrite: false }), fs.mkdir('/s/k')]);
    await sleep(30);
    release(); // A was not aborted: it goes on and lands
    expect((await refused).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await fs.flush();
    expect(store.writes).toEqual(['A']);
  });

  it('close() does not wait for ever for a persist stalled with a store that ignores aborts', async () => {
    await fs.writeFile('/s/m', 'M', { writeType: 'MUST_CACHE' });
    store.hold('beforeStore'); // never released
    const persisting = fs.persist('/s/m').catch(() => undefined);
    await sleep(20);
    const started = Date.now();
    await fs.close();
    expect(Date.now() - started).toBeLessThan(25_000);
    void persisting;
  }, 40_000);

  it('close() lets a recursive mkdir on its way finish', async () => {
    const made = fs.mkdir('/s/a/b/c', { recursive: true });
    await sleep(1);
    await Promise.all([made, fs.close()]);
    expect((await store.stat('a/b/c'))?.isDirectory).toBe(true);
  });

  it('a second close() resolves once the first is done', async () => {
    const { release, reached } = store.hold('beforeAnswer');
    await fs.writeFile('/s/up', 'U', { writeType: 'ASYNC_THROUGH' });
    await reached; // its upload is on its way
    const first = fs.close();
    let secondDone = false;
    const second = fs.close().then(() => (secondDone = true));
    await sleep(50);
    expect(secondDone).toBe(false);
    release();
    await Promise.all([first, second]);
    expect(await store.text('up')).toBe('U');
  });

  it('mkdir and writeFile of one name at once: one of them fails, whatever the write type', async () => {
    for (const writeType of ['CACHE_THROUGH', 'ASYNC_THROUGH', 'MUST_CACHE'] as const) {
      const results = await Promise.allSettled([fs.mkdir(`/s/${writeType}`), fs.writeFile(`/s/${writeType}`, 'file', { writeType })]);
      expect({ writeType, fulfilled: results.filter((r) => r.status === 'fulfilled').length }).toEqual({ writeType, fulfilled: 1 });
    }
  });

  it('a writer that gives up while it waits for the changes before it leaves the queue; the next still waits its turn', async () => {
    const { release, reached } = store.hold('beforeAnswer');
    const first = fs.writeFile('/s/k', 'version 1');
    await reached;
    const controller = new AbortController();
    const gaveUp = fs.writeFile('/s/k', 'version 2', { signal: controller.signal });
    const third = fs.writeFile('/s/k', 'version 3');
    controller.abort();
    await expect(gaveUp).rejects.toMatchObject({ name: 'AbortError' });
    release();
    await Promise.all([first, third]);
    expect(await store.text('k')).toBe('version 3');
    expect((await fs.readFile('/s/k')).toString()).toBe('version 3');
  });

  // A rename of a MUST_CACHE file beside its persist.
  for (const when of ['beforeStore', 'beforeAnswer'] as const) {
    it(`waits for the upload on its way (held ${when}): the file is at its new name only, with its bytes`, async () => {
      await fs.writeFile('/s/a', 'the data', { writeType: 'MUST_CACHE' });
      const { release, reached } = store.hold(when);
      const persisted = fs.persist('/s/a');
      await reached; // the upload of a is on its way
      const renamed = fs.rename('/s/a', '/s/b');
      await sleep(30);
      release();
      await Promise.all([persisted, renamed]);
      expect((await fs.readFile('/s/b')).toString()).toBe('the data');
      await expect(fs.stat('/s/a')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await store.text('a')).toBeUndefined();
    });
  }
});

/**
 * A memory store with no rename of its own (a rename is copy + delete, as on object stores) whose
 * next delete (or batch delete) can be held, and where another client of the store can write
 * just before a delete (`beforeDelete`).
 */
class CopyRenameStore extends MemoryStore {
  override readonly capabilities: StoreCapabilities = { ...new MemoryStore().capabilities, rename: false };
  #held: { open: Promise<void>; arrived: () => void } | undefined;
  /** Holds the next delete until `release` is called; `reached` resolves once it is held. */
  holdDelete(): { release: () => void; reached: Promise<void> } {
    let release!: () => void;
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    this.#held = { open: new Promise<void>((resolve) => (release = resolve)), arrived };
    return { release, reached };
  }
  /** Runs before each write, with the key. */
  beforeWrite: (key: string) => Promise<void> = async () => undefined;
  override async write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    await this.beforeWrite(key);
    return super.write(key, body, opts);
  }
  /** Runs before each delete, with the key (the first key of a batch). */
  beforeDelete: (key: string) => Promise<void> = async () => undefined;
  override async delete(key: string, opts?: StoreCallOptions): Promise<void> {
    await this.#beforeDelete(key);
    return super.delete(key, opts);
  }
  override async deleteMany(keys: string[], opts?: StoreCallOptions): Promise<void> {
    await this.#beforeDelete(keys[0]!);
    return super.deleteMany(keys, opts);
  }
  async #beforeDelete(key: string): Promise<void> {
    const held = this.#held;
    this.#held = undefined;
    held?.arrived();
    await held?.open;
    await this.beforeDelete(key);
  }
}

describe('a move by copy + delete and the changes of its names', () => {
  it('a write of the source while it is moved lands after the move instead of being deleted with the old version', async () => {
    const store = new CopyRenameStore();
    const fs = new StrataFS();
    try {
      await fs.mount('/s', store);
      await fs.writeFile('/s/a', 'old');
      const { release, reached } = store.holdDelete();
      const move = fs.rename('/s/a', '/s/b');
      await reached; // copied to b, a not deleted yet
      const write = fs.writeFile('/s/a', 'new');
      await sleep(30);
      release();
      await Promise.all([move, write]);
      expect((await fs.readFile('/s/b')).toString()).toBe('old');
      expect((await fs.readFile('/s/a')).toString()).toBe('new');
      await fs.free('/s', { recursive: true });
      expect((await fs.readFile('/s/a')).toString()).toBe('new');
    } finally {
      await fs.close();
    }
  });

  it('writes into a directory while it is moved land after the move, under the old name, instead of being deleted with the source', async () => {
    const store = new CopyRenameStore();
    const fs = new StrataFS({ metadata: { syncInterval: -1 } });
    try {
      await fs.mount('/s', store);
      for (const name of ['a', 'b', 'c']) await fs.writeFile(`/s/d/${name}`, `old ${name}`);
      const { release, reached } = store.holdDelete();
      const move = fs.rename('/s/d', '/s/e');
      await reached; // the tree is copied to e, the source not removed yet
      const writes = [fs.writeFile('/s/d/a', 'new a'), fs.writeFile('/s/d/added', 'added'), fs.mkdir('/s/d/sub', { recursive: true })];
      await sleep(30);
      release();
      await Promise.all([move, ...writes]);
      expect((await fs.readdir('/s/e')).sort()).toEqual(['a', 'b', 'c']);
      expect((await fs.readFile('/s/e/a')).toString()).toBe('old a');
      expect((await fs.readdir('/s/d')).sort()).toEqual(['a', 'added', 'sub']);
      expect((await fs.readFile('/s/d/a')).toString()).toBe('new a');
      expect((await fs.readFile('/s/d/added')).toString()).toBe('added');
    } finally {
      await fs.close();
    }
  });

  it('a write started before a directory move ends before the tree is copied: the file moves with it', async () => {
    const store = new CopyRenameStore();
    const fs = new StrataFS({ metadata: { syncInterval: -1 } });
    try {
      await fs.mount('/s', store);
      await fs.writeFile('/s/d/a', 'a');
      let release!: () => void;
      let arrived!: () => void;
      const reached = new Promise<void>((resolve) => (arrived = resolve));
      const open = new Promise<void>((resolve) => (release = resolve));
      store.beforeWrite = async (key) => void (key === 'd/slow' && (arrived(), await open));
      const write = fs.writeFile('/s/d/slow', 'slow');
      await reached; // the write is on its way to the store
      const move = fs.rename('/s/d', '/s/e');
      await sleep(30);
      release();
      await Promise.all([write, move]);
      expect((await fs.readdir('/s/e')).sort()).toEqual(['a', 'slow']);
      expect((await fs.readFile('/s/e/slow')).toString()).toBe('slow');
      await expect(fs.stat('/s/d')).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await fs.close();
    }
  });

  it('a directory move does not wait for a write stream still open below it: the streamed files land under the old name once it ends', async () => {
    const store = new CopyRenameStore();
    const fs = new StrataFS({ metadata: { syncInterval: -1 } });
    try {
      await fs.mount('/s', store);
      await fs.writeFile('/s/d/a', 'old a');
      await fs.writeFile('/s/d/b', 'b');
      const rewrite = fs.createWriteStream('/s/d/a');
      const added = fs.createWriteStream('/s/d/log');
      rewrite.write('new ');
      added.write('first ');
      await fs.rename('/s/d', '/s/e'); // with both streams still open
      const finished = (w: NodeJS.WritableStream): Promise<void> => new Promise((resolve, reject) => w.on('finish', resolve).on('error', reject));
      const ends = [finished(rewrite), finished(added)];
      rewrite.end('a');
      added.end('line');
      await Promise.all(ends);
      expect((await fs.readdir('/s/e')).sort()).toEqual(['a', 'b']);
      expect((await fs.readFile('/s/e/a')).toString()).toBe('old a');
      expect((await fs.readFile('/s/d/a')).toString()).toBe('new a');
      expect((await fs.readFile('/s/d/log')).toString()).toBe('first line');
    } finally {
      await fs.close();
    }
  });

  it('a file another client writes into a directory as its move removes the source stays there, and the move succeeds', async () => {
    const store = new CopyRenameStore();
    const fs = new StrataFS({ metadata: { syncInterval: -1 } });
    try {
      await fs.mount('/s', store);
      await fs.writeFile('/s/d/a', 'a');
      await fs.writeFile('/s/d/b', 'b');
      // Written straight into the store once the copied files are gone, as the directory's own marker goes.
      store.beforeDelete = async (key) => void (key === 'd/' && (await store.write('d/late', Buffer.from('late'))));
      await fs.rename('/s/d', '/s/e');
      expect((await fs.readdir('/s/e')).sort()).toEqual(['a', 'b']);
      expect((await fs.readdir('/s/d')).sort()).toEqual(['late']);
      expect((await fs.readFile('/s/d/late')).toString()).toBe('late');
    } finally {
      await fs.close();
    }
  });

  it('rm -r of a directory another client writes into as it is removed fails ENOTEMPTY naming what was added', async () => {
    const store = new CopyRenameStore();
    const fs = new StrataFS({ metadata: { syncInterval: -1 } });
    try {
      await fs.mount('/s', store);
      await fs.writeFile('/s/d/a', 'a');
      store.beforeDelete = async (key) => void (key === 'd/' && (await store.write('d/late', Buffer.from('late'))));
      const error = await fs.rm('/s/d', { recursive: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ENOTEMPTY', path: '/s/d' });
      expect((error as Error).message).toContain('/s/d/late');
      expect((error as Error).message).not.toContain('no path can name');
      expect((await fs.readFile('/s/d/late')).toString()).toBe('late');
    } finally {
      await fs.close();
    }
  });
});
