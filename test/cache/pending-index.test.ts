/**
 * The in-process mirror of the write-back journal: a burst of writes through it does not read
 * the whole journal again after each one, and it still tells the changes made through another
 * open of the same cache dir (another process) and keeps the newest write of each key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDiskCache } from '../../src/cache/disk/index.js';
import type { DiskTier, PendingWrite, WriteJournal } from '../../src/cache/disk-tier-types.js';
import { PendingIndex } from '../../src/cache/pending-index.js';
import { PendingMirror } from '../../src/cache/pending-mirror.js';
import { tempDir } from '../support/helpers.js';

const KiB = 1024;
const tiers: DiskTier[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const tier of tiers.splice(0)) await tier.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A journal on a new cache dir (or on `dir`), and how many times its whole list was read. */
async function openJournal(dir?: string): Promise<{ dir: string; journal: WriteJournal; reads: () => number }> {
  if (dir === undefined) {
    const made = await tempDir('stratafs-pending-index-');
    cleanups.push(made.cleanup);
    dir = made.dir;
  }
  const { tier, journal } = await openDiskCache(dir, 4096 * KiB, 4 * KiB);
  tiers.push(tier);
  let reads = 0;
  const list = journal.list.bind(journal);
  journal.list = (...args) => {
    reads++;
    return list(...args);
  };
  return { dir, journal, reads: () => reads };
}

const ids = (pending: PendingWrite[]): string[] => pending.map((p) => p.id);

describe('pending index', () => {
  it('follows its own stages, completes, moves and discards without reading the whole journal again after each', async () => {
    const { journal, reads } = await openJournal();
    const index = new PendingIndex(journal, 60_000);
    expect(index.list()).toEqual([]);
    const staged: PendingWrite[] = [];
    for (let i = 0; i < 200; i++) {
      staged.push(await index.stage('memory://', `d/f${i}`, Buffer.from(`data ${i}`), i % 2 ? 'MUST_CACHE' : 'ASYNC_THROUGH'));
      expect(index.find('memory://', `d/f${i}`)?.id).toBe(staged[i]!.id);
      expect(index.list('memory://').filter((p) => p.key === `d/f${i}`)).toHaveLength(1);
    }
    await index.complete(staged[0]!.id);
    await index.move(staged[1]!.id, 'memory://', 'd/f2'); // replaces f2's write
    await index.discard('memory://', 'd/f3');
    const again = await index.stage('memory://', 'd/f4', Buffer.from('newer'), 'MUST_CACHE');
    expect(index.find('memory://', 'd/f1')).toBeUndefined();
    expect(index.find('memory://', 'd/f2')?.id).toBe(staged[1]!.id);
    expect(index.find('memory://', 'd/f3')).toBeUndefined();
    expect(index.find('memory://', 'd/f4')?.id).toBe(again.id);
    // One read at the start, none for the 204 changes; fresh: the mark tells nothing changed elsewhere.
    expect(reads()).toBe(1);
    expect(ids(index.list(undefined, true))).toEqual(ids(journal.list()));
    expect(reads()).toBe(2); // the check above
  });

  it('keeps the newest write of a key when stages of it end in another order than they were recorded', async () => {
    const { journal } = await openJournal();
    const index = new PendingIndex(journal, 60_000);
    index.list();
    const written = await Promise.all(Array.from({ length: 20 }, (_, i) => index.stage('memory://', 'k', Buffer.alloc(1 + i * 3000, i), 'MUST_CACHE')));
    expect(ids(index.list())).toEqual(ids(journal.list()));
    expect(index.find('memory://', 'k')?.id).toBe(journal.find('memory://', 'k')?.id);
    expect(written.map((p) => p.id)).toContain(index.find('memory://', 'k')?.id);
  });

  it('reads the journal again for a change made through another open of the dir, and tells what that one completed', async () => {
    const { dir, journal } = await openJournal();
    const other = await openJournal(dir);
    const gone: string[] = [];
    const index = new PendingIndex(journal, 60_000, (p) => gone.push(p.id));
    const mine = await index.stage('memory://', 'a', Buffer.from('a'), 'ASYNC_THROUGH');
    expect(ids(index.list())).toEqual([mine.id]);
    const theirs = await other.journal.stage('memory://', 'b', Buffer.from('b'), 'ASYNC_THROUGH');
    // Asked fresh, the write made elsewhere is seen at once.
    expect(ids(index.list(undefined, true))).toEqual([mine.id, theirs.id]);
    // A change of mine after one made elsewhere: the mirror is read again, not patched.
    await other.journal.complete(mine.id);
    const next = await index.stage('memory://', 'c', Buffer.from('c'), 'MUST_CACHE');
    expect(ids(index.list())).toEqual([theirs.id, next.id]);
    expect(gone).toEqual([mine.id]);
    // A write moved here and completed elsewhere later is told too.
    await index.move(next.id, 'memory://', 'd');
    await other.journal.complete(next.id);
    expect(ids(index.list(undefined, true))).toEqual([theirs.id]);
    expect(gone).toEqual([mine.id, next.id]);
  });

  it('keeps the writes of the mirror oldest first, and the newest of each key, whatever order they are added in', () => {
    const write = (id: string, key: string, seq: number): PendingWrite => ({ id, cacheId: 'c', key, size: 1, mtime: new Date(0), mode: 'MUST_CACHE', seq });
    const mirror = new PendingMirror([write('a', 'x', 1)]);
    mirror.add(write('d', 'x', 4));
    mirror.add(write('b', 'y', 2));
    mirror.add(write('c', 'x', 3));
    expect(ids([...mirror.all()])).toEqual(['a', 'b', 'c', 'd']);
    expect(mirror.newest('c', 'x')?.id).toBe('d');
    expect(ids([...mirror.ofKey('c', 'x')])).toEqual(['a', 'c', 'd']);
    mirror.remove('d');
    mirror.removeKey('c', 'y');
    expect(mirror.newest('c', 'x')?.id).toBe('c');
    expect(mirror.newest('c', 'y')).toBeUndefined();
    expect(ids([...mirror.all()])).toEqual(['a', 'c']);
  });
});
