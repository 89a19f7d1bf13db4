/**
 * `realpath` that costs a few system calls at any depth. The C library's `realpath` resolves a
 * path one component at a time, reading each prefix as a possible link: a path of `d`
 * directories costs `d` calls that each walk up to `d` components. An existing directory is
 * opened instead and the kernel is asked where it is (see `openedPath`), which gives the same
 * answer (links followed, `..` resolved) in one open and one read of a link.
 * @module
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { codeOf } from './local-errors.js';
import { openedPath } from './opened-path.js';

/**
 * Components from which a path is resolved by opening it: below that, one `realpath` (a single
 * call into the thread pool) costs less than the three calls of an open, a read and a close.
 */
const DEEP_PATH_COMPONENTS = 32;

/** Flags to open a directory (following links, as `realpath` does) without reading it. */
const DIR_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * The canonical absolute path of `path`, as `realpath` gives it. Rejects with `ENOENT` when the
 * path (or the target of a link on it) is missing; a short path, or anything else (a file, a directory it may
 * not read, a platform that cannot tell where an open directory is) is left to `realpath`.
 */
export async function realPathOf(path: string): Promise<string> {
  if (componentsOf(path) < DEEP_PATH_COMPONENTS) return realpath(path);
  let dir;
  try {
    dir = await open(path, DIR_FLAGS);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') throw error;
    return realpath(path);
  }
  try {
    return (await openedPath(dir)) ?? (await realpath(path));
  } finally {
    await dir.close().catch(() => undefined);
  }
}

/** The number of `/` in `path`, counted up to {@link DEEP_PATH_COMPONENTS}. */
function componentsOf(path: string): number {
  let count = 0;
  for (let i = path.indexOf('/'); i >= 0 && count < DEEP_PATH_COMPONENTS; i = path.indexOf('/', i + 1)) count++;
  return count;
}
