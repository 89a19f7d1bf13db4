/**
 * The disk cache directory: its layout, the checks that it is usable, temp-file naming and the
 * small file-system helpers the index and the tiers share.
 *
 * ```
 * <dir>/index.sqlite         the index (SQLite, WAL mode; -wal and -shm beside it)
 * <dir>/index.lock           held only while a missing or damaged index is recreated
 * <dir>/pages/<xx>/<name>    page files (data + trailer), 256 fan-out directories
 * <dir>/journal/<id>         data of pending writes (ASYNC_THROUGH, MUST_CACHE), fsynced
 * <dir>/tmp/<pid>.<token>.<n>  files being written; renamed into place when complete
 * ```
 * @module
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StrataError, type StrataErrorCode } from '../../errors.js';

/** Where everything lives inside a disk cache dir. */
export interface CacheDirLayout {
  /** The dir itself, absolute. */
  readonly root: string;
  /** The SQLite index. */
  readonly dbFile: string;
  /** Lock file held while the index is recreated. */
  readonly lockFile: string;
  /** Page files. */
  readonly pagesDir: string;
  /** Journal data files. */
  readonly journalDir: string;
  /** Files being written. */
  readonly tmpDir: string;
}

/**
 * Mode of the directories the disk cache creates: only their owner may enter them. Cached pages
 * and pending writes hold the bytes of private buckets; other users of the machine must not read them.
 */
export const PRIVATE_DIR_MODE = 0o700;

/** Mode of the files the disk cache creates (pages, journal data, the index): owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/** The layout of `dir` (no I/O). */
export function layoutOf(dir: string): CacheDirLayout {
  const root = resolve(dir);
  return {
    root,
    dbFile: join(root, 'index.sqlite'),
    lockFile: join(root, 'index.lock'),
    pagesDir: join(root, 'pages'),
    journalDir: join(root, 'journal'),
    tmpDir: join(root, 'tmp'),
  };
}

/** A `StrataError` saying the disk cache dir cannot be used, naming it. */
export function unusableDir(code: StrataErrorCode, dir: string, why: string, cause?: unknown): StrataError {
  return new StrataError(code, `disk cache dir is unusable: ${why}`, { path: dir, op: 'cache.disk', cause: cause === undefined ? undefined : plainCause(cause) });
}

/**
 * The error for a disk cache dir that fails under a write, or under a read of pending data: it
 * was deleted (`EIO`), cannot be written (`EIO`, the cause named: `EROFS`, `EACCES`), or its
 * disk is full (`ENOSPC`, also when the index could not grow: `SQLITE_FULL`). It names the dir and the cause, never a bare code of a cache file
 * (which would read as if the user's own file were missing or refused). A `StrataError` stays as it is.
 */
export function cacheDirFailure(error: unknown, layout: CacheDirLayout, op: string): StrataError {
  if (error instanceof StrataError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const cause = plainCause(error);
  const fail = (strataCode: StrataErrorCode, why: string): StrataError => new StrataError(strataCode, `the disk cache dir ${layout.root} ${why}`, { op, cause });
  if (code === 'ENOENT' || code === 'ENOTDIR') return fail('EIO', `is missing (${code})`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return fail('EIO', `cannot be written (${code})`);
  // SQLITE_FULL: the index could not grow (its database or write-ahead log) on a full disk.
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return fail('ENOSPC', `is on a full disk (${code})`);
  return fail('EIO', `failed: ${cause.message}`);
}

function plainCause(error: unknown): Error {
  const e = error as { message?: unknown; code?: unknown };
  const out = new Error(typeof e?.message === 'string' ? e.message : String(error)) as Error & { code?: unknown };
  if (typeof e?.code === 'string') out.code = e.code;
  out.stack = undefined;
  return out;
}

/** Maps a Node fs error met while preparing the dir to the code a user should see. */
function codeOf(error: unknown): StrataErrorCode {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'ENOTDIR';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'EACCES';
  return 'EINVAL';
}

/**
 * Checks that `dir` can hold a disk cache, creating it and its sub-directories when missing.
 * Throws a `StrataError` naming the dir: `EINVAL` for a bad argument, `ENOTDIR` when it (or a
 * part of it) is a file, `EACCES` when it cannot be written or when it (or a sub-directory) belongs
 * to another user than `uid` (this process's) or root: that user could replace the pages it serves.
 */
export async function prepareCacheDir(dir: unknown, { uid = process.getuid?.() }: { uid?: number } = {}): Promise<CacheDirLayout> {
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
    throw new StrataError('EINVAL', 'disk cache dir must be a non-empty path string', { op: 'cache.disk' });
  }
  const layout = layoutOf(dir);
  const fail = (why: string, error: unknown): never => {
    throw unusableDir(codeOf(error), layout.root, why, error);
  };
  try {
    await mkdir(layout.root, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    fail(codeOf(error) === 'ENOTDIR' ? 'a part of the path is not a directory' : 'cannot create it', error);
  }
  const info = await stat(layout.root).catch((error: unknown) => fail('cannot read it', error));
  if (!info.isDirectory()) throw unusableDir('ENOTDIR', layout.root, 'not a directory');
  refuseForeignOwner(info.uid, uid, layout.root, 'it');
  await access(layout.root, constants.R_OK | constants.W_OK | constants.X_OK).catch((error: unknown) => fail('not readable and writable', error));
  for (const sub of [layout.pagesDir, layout.journalDir, layout.tmpDir]) {
    const name = `${sub.slice(layout.root.length + 1)}/`;
    await mkdir(sub, { recursive: true, mode: PRIVATE_DIR_MODE }).catch((error: unknown) => fail(`cannot create ${name}`, error));
    const made = await stat(sub).catch((error: unknown) => fail(`cannot read ${name}`, error));
    refuseForeignOwner(made.uid, uid, layout.root, name);
  }
  // access() says yes to root even on a read-only file system: prove it with a real write.
  const probe = join(layout.tmpDir, `${tempPrefix()}probe`);
  await writeFile(probe, '', { mode: PRIVATE_FILE_MODE }).catch((error: unknown) => fail('not writable', error));
  await unlink(probe).catch(() => undefined);
  return layout;
}

/**
 * `EACCES` when a part of the cache dir (`what`) belongs to a user (`owner`) other than `uid` or
 * root: as ssh does with its keys, a dir another user may change is not trusted (a page's checksum
 * finds damage, not a forged page). A process running as root (containers) or where the platform
 * has no user ids takes the dir as it is.
 */
function refuseForeignOwner(owner: number, uid: number | undefined, root: string, what: string): void {
  if (uid === undefined || uid === 0 || owner === uid || owner === 0) return;
  throw unusableDir('EACCES', root, `${what} belongs to another user (uid ${owner}), who could change the pages it serves`);
}

const processToken = randomBytes(4).toString('hex');
let tempCounter = 0;

function tempPrefix(): string {
  return `${process.pid}.${processToken}.`;
}

/** A fresh temp file path in the dir's `tmp/` (its name starts with this process's pid). */
export function tempFile(layout: CacheDirLayout): string {
  return join(layout.tmpDir, `${tempPrefix()}${(tempCounter++).toString(36)}`);
}

/** True when a process with this pid exists on this host (a zombie counts as alive). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** Temp files older than this are removed even when their pid is alive (it was reused). */
const TEMP_MAX_AGE_MS = 24 * 3600_000;

/** Removes temp files left by processes that are gone (killed mid-write). */
export async function removeDeadTempFiles(layout: CacheDirLayout): Promise<number> {
  let removed = 0;
  const names = await readdir(layout.tmpDir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(name.slice(0, name.indexOf('.')));
    if (name.indexOf('.') > 0 && isProcessAlive(pid)) {
      const info = await stat(join(layout.tmpDir, name)).catch(() => undefined);
      if (info === undefined || Date.now() - info.mtimeMs < TEMP_MAX_AGE_MS) continue;
    }
    await rm(join(layout.tmpDir, name), { force: true, recursive: true }).catch(() => undefined);
    removed++;
  }
  return removed;
}

/** fsyncs a directory so a rename into it survives a power loss (no-op where not supported). */
export async function fsyncDir(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}

/** Unlinks files, ignoring ones already gone or that cannot be removed (they are cleaned at the next open). */
export async function unlinkQuietly(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => unlink(p).catch(() => undefined)));
}

/** Bytes of pages evicted beyond a refused file's own size when the disk is full: room for the index to grow too. */
const FULL_DISK_MARGIN = 1024 * 1024;

/**
 * Writes a cache file of about `bytes` with `write`. When the disk under the dir is full below the
 * capacity (other files fill it, or the capacity is larger than the disk), removes what the write
 * left at `tmp`, lets `evict` drop unpinned pages of at least `bytes` and a margin, and writes
 * once more: pages the cache may drop never keep out a write it may not drop. `evict` resolves
 * `false` when it freed nothing; the disk's error stands then.
 */
export async function writeMakingRoom(tmp: string, bytes: number, write: () => Promise<void>, evict: (bytes: number) => Promise<boolean>): Promise<void> {
  try {
    await write();
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') throw error;
    await unlinkQuietly([tmp]);
    if (!(await evict(bytes + FULL_DISK_MARGIN))) throw error;
    await write();
  }
}

/**
 * Runs `fn` while holding the dir's lock file (an exclusively created file naming the holder's
 * pid). A lock whose holder is dead, or that is older than `staleMs`, is taken over.
 */
export async function withDirLock<T>(layout: CacheDirLayout, fn: () => Promise<T> | T, staleMs = 30_000, waitMs = 60_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await writeFile(layout.lockFile, `${process.pid}\n`, { flag: 'wx', mode: PRIVATE_FILE_MODE });
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw unusableDir(codeOf(error), layout.root, 'cannot create the index lock', error);
      if (await lockIsStale(layout.lockFile, staleMs)) {
        await unlink(layout.lockFile).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new StrataError('EBUSY', 'disk cache index is locked by another process', { path: layout.root, op: 'cache.disk' });
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(layout.lockFile).catch(() => undefined);
  }
}

async function lockIsStale(lockFile: string, staleMs: number): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
    const pid = Number(text.trim());
    if (text.endsWith('\n') && !isProcessAlive(pid)) return true;
    return Date.now() - info.mtimeMs > staleMs;
  } catch {
    return false;
  }
}
