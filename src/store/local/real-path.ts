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

/** Flags to open a directory (following links, as `realpath` does) without reading it. */
const DIR_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * The canonical absolute path of `path`, as `realpath` gives it. Rejects with `ENOENT` when the
 * path (or the target of a link on it) is missing; anything else (a file, a directory it may
 * not read, a platform that cannot tell where an open directory is) is left to `realpath`.
 */
export async function realPathOf(path: string): Promise<string> {
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
