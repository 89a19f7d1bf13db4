/**
 * Which entries of a directory the local connector shows: the one rule its listings and its
 * directory removal share.
 * @module
 */
import type { BigIntStats, Dirent } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isSafeKey } from '../../path.js';
import type { SafePaths } from './safe-path.js';
import { isTempName } from './temp-name.js';

/**
 * The stat of the entry `entry` of the real directory `dir` (through a final link) when a
 * listing shows it: a regular file or a directory, or a symbolic link to one inside the root.
 * `undefined` for what is hidden: temp files of writes, names that cannot be a key segment,
 * links that dangle, loop or lead outside the root, FIFOs, sockets and devices, and entries that
 * vanished.
 */
export async function visibleEntry(paths: SafePaths, dir: string, entry: Dirent): Promise<BigIntStats | undefined> {
  const name = entry.name;
  if (isTempName(name) || !isKeyName(name)) return undefined;
  try {
    const path = join(dir, name);
    const info = await stat(entry.isSymbolicLink() ? await paths.realInside(path) : path, { bigint: true });
    return info.isDirectory() || info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
}

/** True when a directory entry's name can be a key segment (by the same rules as listings of object stores). */
function isKeyName(name: string): boolean {
  return isSafeKey(name) && !name.includes('/');
}
