/**
 * The permission bits a file written in place of another keeps: a write replaces a file by
 * renaming a new one over it, and the new one must not be readable by more people than the old.
 * @module
 */
import { stat } from 'node:fs/promises';

/** Permission bits kept (read, write, execute of owner, group and others). */
const PERMISSION_BITS = 0o777;

/** The permission bits of the regular file at `path` (links followed); `undefined` when there is none. */
export async function modeToKeep(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.mode & PERMISSION_BITS : undefined;
  } catch {
    return undefined;
  }
}
