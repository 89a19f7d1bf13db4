/**
 * The disk cache: a page tier and a write-back journal sharing one directory and one SQLite
 * index, safe for several processes on one host. `openDiskCache` is the entry point.
 * @module
 */
import { invalid } from '../../errors.js';
import type { DiskTier, WriteJournal } from '../disk-tier-types.js';
import { prepareCacheDir, removeDeadTempFiles, unlinkQuietly } from './disk-cache-dir.js';
import { DiskPageTier, type DiskPageTierOptions } from './disk-page-tier.js';
import { SqliteIndex, type AbandonedStores } from './sqlite-index.js';
import { SqliteWriteJournal, type WriteJournalOptions } from './write-journal.js';

export { DiskPageTier, type DiskPageTierOptions } from './disk-page-tier.js';
export { SqliteWriteJournal, type WriteJournalOptions } from './write-journal.js';
export type { AbandonedStores } from './sqlite-index.js';

/** Tuning of {@link openDiskCache} (all optional). */
export interface DiskCacheOptions extends DiskPageTierOptions, WriteJournalOptions {
  /** Stores whose pages and pins are dropped at open: no process can read them again. */
  abandoned?: AbandonedStores;
}

/** What {@link openDiskCache} returns. Closing `tier` closes the journal too (they share the index). */
export interface DiskCache {
  /** The page tier. */
  tier: DiskTier;
  /** The write-back journal. */
  journal: WriteJournal;
}

/**
 * Opens the disk cache in `dir` (created when missing) with a byte `capacity` shared by every
 * process using the dir, for pages of `pageSize` bytes. Removes temp files left by dead
 * processes, opens the index (recreating it from the files when it is missing or damaged) and
 * reconciles it with the files on disk, dropping the pages and pins of `options.abandoned` stores.
 *
 * Fails with a `StrataError` naming the dir: `EINVAL` (bad argument), `ENOTDIR` (it or a part
 * of it is a file), `EACCES` (not readable and writable), `EIO` (the index cannot be opened).
 */
export async function openDiskCache(dir: string, capacity: number, pageSize: number, options: DiskCacheOptions = {}): Promise<DiskCache> {
  if (!Number.isSafeInteger(capacity) || capacity < 0) throw invalid(`disk cache capacity must be a non-negative integer number of bytes, got ${capacity}`, { op: 'cache.disk' });
  if (!Number.isSafeInteger(pageSize) || pageSize <= 0) throw invalid(`page size must be a positive integer number of bytes, got ${pageSize}`, { op: 'cache.disk' });
  const layout = await prepareCacheDir(dir);
  await removeDeadTempFiles(layout);
  const { index, evicted } = await SqliteIndex.open(layout, capacity, options.abandoned);
  await unlinkQuietly(evicted.map((v) => index.pagePath(v.file)));
  const tier = new DiskPageTier(index, capacity, pageSize, options);
  const journal = new SqliteWriteJournal(index, capacity, options);
  return { tier, journal };
}
