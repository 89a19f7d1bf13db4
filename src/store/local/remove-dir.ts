/**
 * Removing a directory that looks empty: `rmdir`, after removing the entries listings hide.
 * @module
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { codeOf } from './local-errors.js';
import type { SafePaths } from './safe-path.js';
import { visibleEntry } from './visible-entry.js';

/** What `rmdir` of a directory that is not empty fails with (`EEXIST` on some systems). */
const NOT_EMPTY = new Set(['ENOTEMPTY', 'EEXIST']);

/**
 * `rmdir` of the real directory `dir` (below the root, not a link). When it is not empty but
 * holds only entries a listing hides (see {@link visibleEntry}: links that dangle or lead outside
 * the root, FIFOs, sockets, temp files of writes — a write in progress there then fails —, names
 * that cannot be keys), those are removed first, as `rm -r` would: a link itself and never its
 * target, a hidden sub-directory with what it holds, following no link. A directory holding
 * anything a listing shows fails with `rmdir`'s `ENOTEMPTY`, so a non-recursive remove keeps its
 * meaning.
 */
export async function removeDirectory(paths: SafePaths, dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (error) {
    if (!NOT_EMPTY.has(codeOf(error) ?? '')) throw error;
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if ((await visibleEntry(paths, dir, entry)) !== undefined) throw error;
    }
    // `rm` works on the entry itself (lstat): a link is unlinked, and no link below is followed.
    for (const entry of entries) await rm(join(dir, entry.name), { recursive: true, force: true });
    await rmdir(dir);
  }
}
