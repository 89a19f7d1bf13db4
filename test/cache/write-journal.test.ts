/**
 * The write-back journal on real files: staging, reading, completing, capacity (ENOSPC),
 * durability across a kill -9, rebuilding after a lost index, and claims between processes.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDiskCache, SqliteWriteJournal } from '../../src/cache/disk/index.js';
import type { DiskTier, WriteJournal } from '../../src/cache/disk-tier-types.js';
import { expectCode, tempDir } from '../support/helpers.js';
import { pageContent } from './fixtures/page-content.js';
import { startChild, type Child } from './fixtures/spawn-child.js';

/** Asserts `actual` holds exactly the bytes of `expected` (Buffer.equals: fast on large buffers). */
function expectBytes(actual: Buffer | undefined, expected: Buffer): void {
  expect(actual, 'expected bytes, got undefined').toBeDefined();
  expect(actual!.equals(expected), `bytes differ (${actual!.length} vs ${expected.length} bytes)`).toBe(true);
}

const KiB = 1024;
const cleanups: (() => Promise<void>)[] = [];
const tiers: DiskTier[] = [];
const children: Child[] = [];

async function newDir(): Promise<string> {
  const { dir, cleanup } = await tempDir('stratafs-journal-');
  cleanups.push(cleanup);
  return dir;
}

async function openCache(dir: string, capacity: number, options = {}): Promise<{ tier: DiskTier; journal: WriteJournal }> {
  const cache = await openDiskCache(dir, capacity, 4 * KiB, options);
  tiers.push(cache.tier);
  return cache;
}

afterEach(async () => {
  for (const child of children.splice(0)) await child.kill();
  for (const tier of tiers.splice(0)) await tier.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The data the journal child stages for (key, seed). */
const childData = (key: string, seed: string, size: number) => pageContent({ object: key, version: seed, index: 0 }, size);

describe('write journal: in one process', () => {
  it('stages, finds, lists, reads, completes and discards', async () => {
    const dir = await newDir();
    const { journal, tier } = await openCache(dir, 1024 * KiB);
    const a1 = Buffer.from('first version of a');
    const a2 = Buffer.from('second version of a, longer');
    const b = pageContent({ object: 'b', version: '1', index: 0 }, 20 * KiB);
    const p1 = await journal.stage('s3://bucket', 'a', a1, 'ASYNC_THROUGH');
    const p2 = await journal.stage('s3://bucket', 'a', a2, 'ASYNC_THROUGH');
    const p3 = await journal.stage('memory://', 'b', b, 'MUST_CACHE');
    expect(p1).toMatchObject({ cacheId: 's3://bucket', key: 'a', size: a1.length, mode: 'ASYNC_THROUGH' });
    expect(p1.mtime).toBeInstanceOf(Date);
    expect(journal.find('s3://bucket', 'a')?.id).toBe(p2.id);
    expect(journal.find('s3://bucket', 'zzz')).toBeUndefined();
    expect(journal.list().map((p) => p.id)).toEqual([p1.id, p2.id, p3.id]);
    expect(journal.list('memory://').map((p) => p.id)).toEqual([p3.id]);
    expectBytes(await journal.read(p3.id, 0, b.length), b);
    expectBytes(await journal.read(p3.id, 1000, 50), b.subarray(1000, 1050));
    expectBytes(await journal.read(p3.id, b.length - 10, 50), b.subarray(b.length - 10));
    // Pending writes count in the dir's figures.
    expect(tier.stats().used).toBe(a1.length + a2.length + b.length);

    await journal.complete(p1.id);
    expect(journal.find('s3://bucket', 'a')?.id).toBe(p2.id);
    await journal.discard('s3://bucket', 'a');
    expect(journal.find('s3://bucket', 'a')).toBeUndefined();
    await expectCode(journal.read(p2.id, 0, 10), 'ENOENT');
    await journal.complete(p3.id);
    expect(journal.list()).toEqual([]);
    expect(tier.stats().used).toBe(0);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });

  it('a complete or discard overtaken by the close of the cache ends quietly; the next open no longer lists those writes', async () => {
    const dir = await newDir();
    const { journal, tier } = await openCache(dir, 1024 * KiB);
    const uploaded = await journal.stage('s3://bucket', 'a', Buffer.from('uploaded'), 'ASYNC_THROUGH');
    await journal.stage('s3://bucket', 'b', Buffer.from('replaced in the store'), 'ASYNC_THROUGH');
    const kept = await journal.stage('s3://bucket', 'c', Buffer.from('still pending'), 'MUST_CACHE');
    // The close runs while their data files are being removed (as at close() with an upload on its way).
    const completing = journal.complete(uploaded.id);
    const discarding = journal.discard('s3://bucket', 'b');
    await tier.close();
    await expect(completing).resolves.toBeUndefined();
    await expect(discarding).resolves.toBeUndefined();
    const again = await openCache(dir, 1024 * KiB);
    expect(again.journal.list().map((p) => p.id)).toEqual([kept.id]);
    expectBytes(await again.journal.read(kept.id, 0, 100), Buffer.from('still pending'));
  });

  it('evicts unpinned pages to make room and fails with ENOSPC when it cannot fit', async () => {
    const dir = await newDir();
    const { journal, tier } = await openCache(dir, 64 * KiB);
    const pageId = (i: number) => ({ object: 'mem://x\np', version: 'v', index: i });
    for (let i = 0; i < 4; i++) expect(await tier.put(pageId(i), pageContent(pageId(i), 4 * KiB))).toBe(true);
    await tier.setPinned('mem://x\np', true);
    for (let i = 4; i < 8; i++) expect(await tier.put({ ...pageId(i), object: 'mem://x\nq' }, Buffer.alloc(4 * KiB, i))).toBe(true);
    // 16 KiB pinned + 16 KiB unpinned: 40 KiB of pending data fits only by evicting the unpinned pages.
    const staged = await journal.stage('c', 'big', Buffer.alloc(40 * KiB, 1), 'MUST_CACHE');
    expect(tier.stats().used).toBeLessThanOrEqual(64 * KiB);
    expect(await tier.get({ ...pageId(4), object: 'mem://x\nq' })).toBeUndefined();
    for (let i = 0; i < 4; i++) expectBytes(await tier.get(pageId(i)), pageContent(pageId(i), 4 * KiB));
    // Pending writes are never evicted: the next one does not fit.
    await expectCode(journal.stage('c', 'more', Buffer.alloc(9 * KiB), 'MUST_CACHE'), 'ENOSPC');
    await expectCode(journal.stage('c', 'huge', Buffer.alloc(65 * KiB), 'ASYNC_THROUGH'), 'ENOSPC');
    // …and pages cannot push them out either.
    expect(await tier.put({ ...pageId(9), object: 'mem://x\nr' }, Buffer.alloc(9 * KiB))).toBe(false);
    expect(journal.list().map((p) => p.id)).toEqual([staged.id]);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    await journal.complete(staged.id);
    expect(await journal.stage('c', 'more', Buffer.alloc(9 * KiB), 'MUST_CACHE')).toMatchObject({ size: 9 * KiB });
  });

  it('streams staged at once are refused only for the bytes they hold, not for those they may still send', async () => {
    const dir = await newDir();
    const { journal } = await openCache(dir, 16 * 1024 * KiB);
    // Six small streams, each held open after its first chunk: together they hold 6 KiB of 16 MiB.
    const gates = Array.from({ length: 6 }, () => {
      let open!: () => void;
      return { opened: new Promise<void>((resolve) => (open = resolve)), open: () => open() };
    });
    const stages = gates.map((gate, i) =>
      journal.stage('c', `s${i}`, (async function* () {
        yield Buffer.alloc(KiB, i);
        await gate.opened;
      })(), 'MUST_CACHE'),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const gate of gates) gate.open();
    expect((await Promise.allSettled(stages)).map((s) => s.status)).toEqual(Array(6).fill('fulfilled'));
    // What cannot fit beside what they hold is still refused, as soon as it came.
    const pending = 6 * KiB;
    await expectCode(journal.stage('c', 'too-big', (async function* () {
      for (let sent = 0; sent <= 16 * 1024 * KiB - pending; sent += 256 * KiB) yield Buffer.alloc(256 * KiB);
    })(), 'MUST_CACHE'), 'ENOSPC');
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(await journal.stage('c', 'fits', Buffer.alloc(16 * 1024 * KiB - pending), 'MUST_CACHE')).toMatchObject({ size: 16 * 1024 * KiB - pending });
  });

  it('a lost or garbage index is rebuilt from the journal files without losing a pending write', async () => {
    const dir = await newDir();
    const first = await openCache(dir, 1024 * KiB);
    const data = [0, 1, 2].map((i) => pageContent({ object: 'k', version: String(i), index: 0 }, 3000 + i));
    const staged = [];
    for (const [i, d] of data.entries()) staged.push(await first.journal.stage('cache', `key-${i % 2}`, d, i === 2 ? 'MUST_CACHE' : 'ASYNC_THROUGH'));
    await first.tier.close();
    rmSync(join(dir, 'index.sqlite'));
    const second = await openCache(dir, 1024 * KiB);
    expect(second.journal.list()).toEqual(staged);
    expect(second.journal.find('cache', 'key-0')?.id).toBe(staged[2]!.id);
    for (const [i, p] of staged.entries()) expectBytes(await second.journal.read(p.id, 0, p.size), data[i]!);
    await second.tier.close();
    writeFileSync(join(dir, 'index.sqlite'), Buffer.alloc(4096, 0x5a));
    const third = await openCache(dir, 1024 * KiB);
    expect(third.journal.list()).toEqual(staged);
  });

  it('moves a pending write to another key in place: the other writes of both keys go, and a rebuilt index finds it under its new key', async () => {
    const dir = await newDir();
    const first = await openCache(dir, 1024 * KiB);
    const data = Buffer.alloc(3000, 7);
    const older = await first.journal.stage('cache', 'from', Buffer.from('older'), 'MUST_CACHE');
    const moving = await first.journal.stage('cache', 'from', data, 'MUST_CACHE');
    await first.journal.stage('cache', 'to', Buffer.from('replaced'), 'ASYNC_THROUGH');
    const files = readdirSync(join(dir, 'journal')).length;
    const moved = await first.journal.move(moving.id, 'cache', 'to');
    expect(moved).toMatchObject({ id: moving.id, cacheId: 'cache', key: 'to', size: data.length });
    expect(first.journal.list().map((p) => [p.cacheId, p.key, p.id])).toEqual([['cache', 'to', moving.id]]);
    expect(readdirSync(join(dir, 'journal'))).toHaveLength(files - 2);
    expectBytes(await first.journal.read(moving.id, 0, data.length), data);
    await expectCode(first.journal.move(older.id, 'cache', 'x'), 'ENOENT');
    await first.journal.move(moving.id, 'other-cache', 'to');
    await first.tier.close();
    rmSync(join(dir, 'index.sqlite'));
    const second = await openCache(dir, 1024 * KiB);
    expect(second.journal.list().map((p) => [p.cacheId, p.key, p.id])).toEqual([['other-cache', 'to', moving.id]]);
    expectBytes(await second.journal.read(moving.id, 0, data.length), data);
    await second.tier.close();
  });

  it('two journals in one process do not both hold a claim; release lets the other claim', async () => {
    const dir = await newDir();
    const a = await openCache(dir, 1024 * KiB);
    const b = await openCache(dir, 1024 * KiB);
    const p = await a.journal.stage('c', 'k', Buffer.from('x'), 'ASYNC_THROUGH');
    expect(a.journal.claim(p.id)).toBe('claimed');
    expect(a.journal.claim(p.id)).toBe('claimed');
    expect(b.journal.claim(p.id)).toBe('held');
    a.journal.release(p.id);
    expect(b.journal.claim(p.id)).toBe('claimed');
    expect(a.journal.claim(p.id)).toBe('held');
    expect(b.journal.claim('no-such-id')).toBe('gone');
  });

  it('a newer write of a key waits while another owner uploads an older one; the older one is then superseded', async () => {
    const dir = await newDir();
    const a = await openCache(dir, 1024 * KiB);
    const b = await openCache(dir, 1024 * KiB);
    const older = await a.journal.stage('c', 'k', Buffer.from('v1'), 'ASYNC_THROUGH');
    expect(a.journal.claim(older.id)).toBe('claimed');
    const newer = await b.journal.stage('c', 'k', Buffer.from('v2'), 'ASYNC_THROUGH');
    expect(b.journal.claim(newer.id)).toBe('waiting');
    expect(b.journal.claim(older.id)).toBe('held');
    a.journal.release(older.id);
    expect(a.journal.claim(older.id)).toBe('superseded');
    expect(b.journal.claim(newer.id)).toBe('claimed');
  });

  it('claiming a whole key waits while another owner uploads one of its writes, then holds them all', async () => {
    const dir = await newDir();
    const a = await openCache(dir, 1024 * KiB);
    const b = await openCache(dir, 1024 * KiB);
    const older = await a.journal.stage('c', 'k', Buffer.from('v1'), 'ASYNC_THROUGH');
    const newer = await a.journal.stage('c', 'k', Buffer.from('v2'), 'ASYNC_THROUGH');
    expect(a.journal.claim(newer.id)).toBe('claimed');
    expect(b.journal.claimKey('c', 'k')).toBeUndefined();
    a.journal.release(newer.id);
    expect(b.journal.claimKey('c', 'k')).toEqual([older.id, newer.id]);
    expect(a.journal.claim(newer.id)).toBe('held');
    expect(b.journal.claimKey('c', 'other')).toEqual([]);
  });

  it('claiming a directory holds the writes of the keys below it, and of no key that only starts like it', async () => {
    const dir = await newDir();
    const a = await openCache(dir, 1024 * KiB);
    const b = await openCache(dir, 1024 * KiB);
    const inside = await a.journal.stage('c', 'd/x', Buffer.from('v1'), 'ASYNC_THROUGH');
    const deeper = await a.journal.stage('c', 'd/e/y', Buffer.from('v1'), 'ASYNC_THROUGH');
    await a.journal.stage('c', 'd0', Buffer.from('v1'), 'ASYNC_THROUGH');
    await a.journal.stage('c', 'd.txt', Buffer.from('v1'), 'ASYNC_THROUGH');
    expect(a.journal.claim(deeper.id)).toBe('claimed');
    expect(b.journal.claimKey('c', 'd', true)).toBeUndefined();
    expect(b.journal.claimKey('c', 'd')).toEqual([]);
    a.journal.release(deeper.id);
    expect(b.journal.claimKey('c', 'd', true)?.sort()).toEqual([inside.id, deeper.id].sort());
    expect(b.journal.claimKey('c', '', true)).toHaveLength(4);
  });

  it('a claim held through a long upload is not taken over when its lease runs out; once let go, it can be', async () => {
    const dir = await newDir();
    const a = await openCache(dir, 1024 * KiB, { leaseMs: 60 });
    const b = await openCache(dir, 1024 * KiB);
    const p = await a.journal.stage('c', 'k', Buffer.from('x'), 'ASYNC_THROUGH');
    expect(a.journal.claim(p.id)).toBe('claimed');
    const stopHolding = a.journal.holdClaim(p.id);
    await new Promise((r) => setTimeout(r, 300)); // five leases
    expect(b.journal.claim(p.id)).toBe('held');
    stopHolding();
    await new Promise((r) => setTimeout(r, 150));
    expect(b.journal.claim(p.id)).toBe('claimed');
  });

  it('an expired lease can be taken over', async () => {
    const dir = await newDir();
    const a = await openCache(dir, 1024 * KiB, { leaseMs: 30 });
    const b = await openCache(dir, 1024 * KiB);
    const p = await a.journal.stage('c', 'k', Buffer.from('x'), 'ASYNC_THROUGH');
    expect(a.journal.claim(p.id)).toBe('claimed');
    expect(b.journal.claim(p.id)).toBe('held');
    await new Promise((r) => setTimeout(r, 60));
    expect(b.journal.claim(p.id)).toBe('claimed');
    expect((b.journal as SqliteWriteJournal).owner).not.toBe((a.journal as SqliteWriteJournal).owner);
  });
});

describe('write journal: across processes', () => {
  it('a stage acknowledged before a kill -9 is listed by the next journal with its bytes intact', async () => {
    const dir = await newDir();
    const sizes = [1, 100 * KiB, 3 * 1024 * KiB];
    const ids: string[] = [];
    for (const [i, size] of sizes.entries()) {
      const child = startChild('journal-child.ts', [dir, String(64 * 1024 * KiB), 'stage', 'gs://bucket', `key-${i}`, String(size), `seed-${i}`]);
      children.push(child);
      ids.push((await child.line('staged ')).slice('staged '.length).trim());
      await child.kill();
      expect(child.process.signalCode).toBe('SIGKILL');
    }
    const { journal } = await openCache(dir, 64 * 1024 * KiB);
    const pending = journal.list('gs://bucket');
    expect(pending.map((p) => p.id)).toEqual(ids);
    for (const [i, size] of sizes.entries()) {
      expect(pending[i]).toMatchObject({ key: `key-${i}`, size, mode: 'ASYNC_THROUGH' });
      expectBytes(await journal.read(ids[i]!, 0, size), childData(`key-${i}`, `seed-${i}`, size));
    }
  });

  it("a claim excludes a second claimer while its owner lives, and is taken over once it is killed", async () => {
    const dir = await newDir();
    const { journal } = await openCache(dir, 1024 * KiB);
    const p = await journal.stage('c', 'k', Buffer.from('payload'), 'ASYNC_THROUGH');
    const owner = startChild('journal-child.ts', [dir, String(1024 * KiB), 'claim', p.id]);
    children.push(owner);
    expect(await owner.line('claimed ')).toBe('claimed claimed');
    expect(journal.claim(p.id)).toBe('held');
    const rival = startChild('journal-child.ts', [dir, String(1024 * KiB), 'claim', p.id]);
    children.push(rival);
    expect(await rival.line('claimed ')).toBe('claimed held');
    await owner.kill();
    expect(journal.claim(p.id)).toBe('claimed');
    await journal.complete(p.id);
    expect(journal.list()).toEqual([]);
  });
});
