/**
 * Where an open file really is, as the kernel tells it (`/proc/self/fd/<fd>` on Linux). A path
 * resolved inside the root can still lead outside when a directory on it is swapped for a
 * symbolic link between the check and the `open`; asking the open file itself closes that gap.
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { readlink } from 'node:fs/promises';

/** What the kernel appends to the path of an open file that was removed since. */
const DELETED = ' (deleted)';

/** The real path of the file `handle` has open; `undefined` where the platform cannot tell. */
export async function openedPath(handle: FileHandle): Promise<string | undefined> {
  let path: string;
  try {
    path = await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return undefined;
  }
  return path.endsWith(DELETED) ? path.slice(0, -DELETED.length) : path;
}

/**
 * A path that opens the very file `handle` has open (`/proc/self/fd/<fd>` on Linux), for calls
 * that take a path (`copyFile`); `undefined` where the platform has none.
 */
export async function reopenPath(handle: FileHandle): Promise<string | undefined> {
  return (await openedPath(handle)) === undefined ? undefined : `/proc/self/fd/${handle.fd}`;
}
