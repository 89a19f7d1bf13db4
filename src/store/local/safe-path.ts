/**
 * Key -> real path inside a root directory, refusing anything that would leave it: keys are
 * checked segment by segment, and every existing part of the path is resolved with `realpath`
 * and must stay below the real root (so a symbolic link can not lead outside).
 * @module
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { StrataError, invalid } from '../../errors.js';
import { assertSafeKey } from '../../path.js';
import { codeOf, outsideRoot } from './local-errors.js';
import { openedPath, reopenPath } from './opened-path.js';
import { realPathOf } from './real-path.js';
import { isTempName } from './temp-name.js';

/** How often {@link SafePaths} looks again at parent directories that other calls change meanwhile. */
const ENSURE_ATTEMPTS = 5;

/** Flags to hold a directory open (never a link, never a file). */
const DIR_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** Resolves keys of one store to paths below its real root directory. */
export class SafePaths {
  private readonly rootWithSep: string;

  /** @param realRoot the root directory, already resolved with `realpath`. */
  constructor(readonly realRoot: string) {
    this.rootWithSep = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
  }

  /** The key's segments (no trailing `/`), after checking the key is safe and not a temp name. */
  segments(key: string): string[] {
    assertSafeKey(key);
    const body = key.endsWith('/') ? key.slice(0, -1) : key;
    if (body === '') return [];
    const parts = body.split('/');
    for (const part of parts) {
      if (isTempName(part)) throw invalid(`key names a temporary file: ${JSON.stringify(key)}`);
    }
    return parts;
  }

  /** True when the real path `real` is the root or below it. */
  isInside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.rootWithSep);
  }

  /** `realpath(p)`, refused with `EACCES` when it lands outside the root. Missing paths reject with `ENOENT`. */
  async realInside(p: string, op?: string): Promise<string> {
    const real = await realPathOf(p);
    if (!this.isInside(real)) throw outsideRoot(op);
    return real;
  }

  /**
   * Refuses with `EACCES` a file opened through a path checked before, when the file it opened
   * lies outside the root (a directory on its path was swapped for a link meanwhile). Resolves
   * with the file's real path, or `undefined` where the platform cannot tell where an open file is.
   */
  async openedInside(handle: FileHandle, op: string): Promise<string | undefined> {
    const real = await openedPath(handle);
    if (real !== undefined && !this.isInside(real)) throw outsideRoot(op);
    return real;
  }

  /**
   * Runs `fn` on the entry `entry` (a real path below the root, as {@link entry} gives) through
   * its directory held open and checked to be inside the root (`/proc/self/fd/<fd>/<name>` on
   * Linux): a directory on the way swapped for a link to outside after the check can not
   * redirect a removal or a rename. Where the platform can not name an open directory, `fn`
   * gets `entry` as it is.
   */
  async inEntryDir<T>(entry: string, op: string, fn: (pinned: string) => Promise<T>): Promise<T> {
    const dir = await open(dirname(entry), DIR_FLAGS);
    try {
      await this.openedInside(dir, op);
      const pinned = await reopenPath(dir);
      if (pinned === undefined) return await fn(entry);
      try {
        return await fn(join(pinned, basename(entry)));
      } catch (error) {
        throw namingRealDir(error, pinned, dirname(entry));
      }
    } finally {
      await dir.close().catch(() => undefined);
    }
  }

  /**
   * The real path of the key's directory entry: its parent resolved (inside the root), joined with
   * its own name, unresolved (it may be missing, or a link). With `createParents`, missing parent
   * directories are created below the deepest existing one. `ENOENT` when the parent is missing
   * and `createParents` is off, `ENOTDIR` when a parent is a file.
   */
  async entry(key: string, op: string, createParents = false): Promise<string> {
    const parts = this.segments(key);
    if (parts.length === 0) return this.realRoot;
    const parentParts = parts.slice(0, -1);
    const name = parts[parts.length - 1] as string;
    const parent = createParents ? await this.ensureDir(parentParts, op) : await this.existingDir(parentParts, op);
    return join(parent, name);
  }

  /**
   * The real path the key designates, following a final symbolic link (which must stay inside
   * the root; a dangling one is refused with `EACCES`). `ENOENT`/`ENOTDIR` when missing.
   */
  async follow(key: string, op: string): Promise<string> {
    const entry = await this.entry(key, op);
    if (entry === this.realRoot) return entry;
    const info = await lstat(entry);
    if (!info.isSymbolicLink()) return entry;
    try {
      return await this.realInside(entry, op);
    } catch (error) {
      if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ELOOP') throw new StrataError('EACCES', 'dangling or looping symbolic link', { op });
      throw error;
    }
  }

  /** The real path of an existing directory below the root, given by its segments. */
  private async existingDir(parts: string[], op: string): Promise<string> {
    const real = await this.realInside(join(this.realRoot, ...parts), op);
    return real;
  }

  /**
   * Like {@link existingDir}, creating what is missing below the deepest existing ancestor. A
   * directory another call creates or removes meanwhile is looked at again (a few times), so a
   * concurrent write or `rm` is never taken for a dangling link.
   */
  private async ensureDir(parts: string[], op: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const found = await this.ensureDirOnce(parts, op, attempt < ENSURE_ATTEMPTS);
      if (found !== undefined) return found;
    }
  }

  /** One try of {@link ensureDir}; `undefined` when the tree changed under it and `retry` allows another. */
  private async ensureDirOnce(parts: string[], op: string, retry: boolean): Promise<string | undefined> {
    let depth = parts.length;
    let ancestor: string | undefined;
    while (ancestor === undefined) {
      const candidate = join(this.realRoot, ...parts.slice(0, depth));
      try {
        ancestor = await this.realInside(candidate, op);
      } catch (error) {
        if (codeOf(error) !== 'ENOENT' || depth === 0) throw error;
        const entry = await lstat(candidate).catch(() => undefined);
        // A dangling link is refused rather than created through.
        if (entry?.isSymbolicLink()) throw new StrataError('EACCES', 'dangling symbolic link in path', { op });
        if (entry !== undefined) {
          // Created by another call since realpath looked: resolve it again.
          if (!retry) throw error;
          return undefined;
        }
        depth -= 1;
      }
    }
    if (depth === parts.length) {
      if (!(await stat(ancestor)).isDirectory()) throw new StrataError('ENOTDIR', undefined, { op });
      return ancestor;
    }
    const target = join(ancestor, ...parts.slice(depth));
    try {
      await mkdir(target, { recursive: true });
      return await this.realInside(target, op);
    } catch (error) {
      // Removed by another call between creating it and resolving it: create it again.
      if (codeOf(error) !== 'ENOENT' || !retry) throw error;
      return undefined;
    }
  }
}

/** `error` of a call made through the held-open directory `pinned`, its paths naming `real` again (the directory's real path). */
function namingRealDir(error: unknown, pinned: string, real: string): unknown {
  const e = error as { message?: unknown; path?: unknown; dest?: unknown } | undefined;
  if (e === undefined || e === null || typeof e !== 'object') return error;
  const swap = (text: unknown): unknown => (typeof text === 'string' ? text.split(pinned + sep).join(real + sep) : text);
  if (typeof e.message === 'string') e.message = swap(e.message) as string;
  if (typeof e.path === 'string') e.path = swap(e.path);
  if (typeof e.dest === 'string') e.dest = swap(e.dest);
  return error;
}
