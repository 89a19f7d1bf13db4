/**
 * `LocalStore`: a directory of the local file system as an {@link UnderStore}. Real directories,
 * atomic writes (temp file next to the target, then rename), and a root that no key, encoded
 * form or symbolic link can leave.
 * @module
 */
import { realpathSync, statSync, constants, type BigIntStats, type Dirent } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { StrataError, invalid, throwIfAborted } from '../../errors.js';
import { assertSafeKey } from '../../path.js';
import type {
  ByteRange,
  ObjectInfo,
  StoreCallOptions,
  StoreCapabilities,
  StoreListOptions,
  StoreReadOptions,
  StoreWriteOptions,
  UnderStore,
} from '../under-store.js';
import { rootFromFileUri } from './file-uri.js';
import { codeOf, mapLocalError } from './local-errors.js';
import { modeToKeep } from './file-mode.js';
import { openedPath, reopenPath } from './opened-path.js';
import { SafePaths } from './safe-path.js';
import { removeDirectory } from './remove-dir.js';
import { tempPathFor } from './temp-name.js';
import { TempSweeper } from './temp-sweep.js';
import { visibleEntry } from './visible-entry.js';
import { sizedBody } from '../stream-utils.js';
import { eachLimit } from '../each-limit.js';

/** Options of the {@link LocalStore} constructor. */
export interface LocalStoreOptions {
  /** Absolute path of an existing directory: the store's root. */
  root: string;
}

/** Codes that mean "not there" for a lookup. */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/** `O_NOFOLLOW`/`O_NONBLOCK` where the platform has them (a FIFO must not block a read). */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * An {@link UnderStore} over a local directory. Keys are paths below the root. Every path is
 * resolved with `realpath` and refused with `EACCES` when it would leave the root (through `..`,
 * an encoded form or a symbolic link); listings skip links that lead outside. Writes and copies
 * go to a hidden temp file in the target's directory and are renamed into place, so a failed or
 * aborted write leaves the previous file and no temp file (a file written over keeps its
 * permission bits); the temp file of a writer killed
 * mid-write is removed by a later write to that directory once it is an hour old. Removing a
 * directory (`delete('dir/')`) that lists as empty also removes what listings hide in it (links
 * themselves, never their targets; see `removeDirectory`). The etag is `inode-size-mtimeNs-ctimeNs`
 * (hex): the change time tells a file rewritten in place apart even when its size and mtime were
 * kept (`touch -r`, `cp -p`, `rsync -t` onto a reused inode).
 */
export class LocalStore implements UnderStore {
  /** `file:///abs/dir`. */
  readonly uri: string;
  /** Ranged reads, listing, copy, rename, and real directories. */
  readonly capabilities: StoreCapabilities = { rangeRead: true, list: true, copy: true, rename: true, directories: true };
  /** The root directory as given (resolved to an absolute path). */
  readonly root: string;
  private readonly paths: SafePaths;
  /** Removes temp files that killed writers left in the directories this store writes to. */
  readonly #sweeper = new TempSweeper();

  /**
   * @throws `EINVAL` when `root` is not an absolute path, `ENOENT` when it does not exist,
   * `ENOTDIR` when it is not a directory.
   */
  constructor(options: LocalStoreOptions) {
    const root = (options as LocalStoreOptions | undefined)?.root;
    if (typeof root !== 'string' || root === '') throw invalid('LocalStore needs a root directory (an absolute path)');
    if (root.includes('\0')) throw invalid('LocalStore root must not contain NUL');
    if (!isAbsolute(root)) throw invalid(`LocalStore root must be an absolute path: ${JSON.stringify(root)}`);
    let real: string;
    try {
      if (!statSync(root).isDirectory()) throw new StrataError('ENOTDIR', `local store root is not a directory: ${root}`, { op: 'mount' });
      real = realpathSync(root);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') throw new StrataError('ENOENT', `local store root does not exist: ${root}`, { op: 'mount', cause: mapLocalError(error) });
      throw mapLocalError(error, 'mount');
    }
    this.root = resolve(root);
    this.paths = new SafePaths(real);
    this.uri = pathToFileURL(this.root).href;
  }

  /** The store of a `file:///abs/dir` URI (see `rootFromFileUri` for what is refused). */
  static fromUri(uri: URL): LocalStore {
    return new LocalStore({ root: rootFromFileUri(uri) });
  }

  async stat(key: string, opts: StoreCallOptions = {}): Promise<ObjectInfo | undefined> {
    throwIfAborted(opts.signal);
    const dirOnly = key.endsWith('/');
    const name = dirOnly ? key.slice(0, -1) : key;
    try {
      const real = await this.paths.follow(key, 'stat');
      const info = await stat(real, { bigint: true });
      if (dirOnly && !info.isDirectory()) return undefined;
      return infoOf(name, info);
    } catch (error) {
      if (MISSING.has(codeOf(error) ?? '')) return undefined;
      throw mapLocalError(error, 'stat');
    }
  }

  async *list(prefix: string, opts: StoreListOptions = {}): AsyncIterable<ObjectInfo> {
    const dirKey = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    let top: string;
    try {
      top = await this.paths.follow(dirKey, 'list');
    } catch (error) {
      if (MISSING.has(codeOf(error) ?? '')) return;
      throw mapLocalError(error, 'list');
    }
    const stack: Array<[real: string, keyPrefix: string]> = [[top, dirKey]];
    while (stack.length > 0) {
      const [dir, keyPrefix] = stack.pop() as [string, string];
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (MISSING.has(codeOf(error) ?? '')) continue;
        throw mapLocalError(error, 'list');
      }
      // The entries are looked at LIST_BATCH at a time: a large directory lists in a fraction of the time.
      for (let first = 0; first < entries.length; first += LIST_BATCH) {
        throwIfAborted(opts.signal);
        const batch = entries.slice(first, first + LIST_BATCH);
        const infos = await Promise.all(batch.map((entry) => visibleEntry(this.paths, dir, entry)));
        for (const [k, entry] of batch.entries()) {
          const info = infos[k];
          if (info === undefined) continue;
          const key = keyPrefix === '' ? entry.name : `${keyPrefix}/${entry.name}`;
          yield infoOf(key, info);
          // Recursion does not follow links (no loops, no file listed twice); listing the link itself does.
          if (info.isDirectory() && opts.recursive && !entry.isSymbolicLink()) stack.push([join(dir, entry.name), key]);
        }
      }
    }
  }

  async read(key: string, range?: ByteRange, opts: StoreReadOptions = {}): Promise<Readable> {
    try {
      throwIfAborted(opts.signal);
      const real = await this.paths.follow(key, 'read');
      const handle = await open(real, READ_FLAGS);
      try {
        await this.paths.openedInside(handle, 'read');
        const info = await handle.stat();
        if (info.isDirectory()) throw new StrataError('EISDIR', undefined, { op: 'read' });
        if (!info.isFile()) throw invalid('not a regular file', { op: 'read' });
        const start = Math.min(range?.offset ?? 0, info.size);
        const end = range?.length === undefined ? info.size : Math.min(start + range.length, info.size);
        if (end <= start) {
          await handle.close();
          return emptyStream();
        }
        return handle.createReadStream({ start, end: end - 1, signal: opts.signal });
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
    } catch (error) {
      throw mapLocalError(error, 'read');
    }
  }

  async write(key: string, body: Readable | Buffer, opts: StoreWriteOptions = {}): Promise<ObjectInfo> {
    try {
      throwIfAborted(opts.signal);
      if (key === '' || key.endsWith('/')) return await this.makeDirectory(key, body);
      return await this.replaceFile(key, 'write', opts.signal, async (created) => {
        const sized = sizedBody(body, opts.size);
        const source = Buffer.isBuffer(sized) ? Readable.from([sized]) : sized;
        // The stream closes the handle when it finishes or is destroyed; pipeline waits for that.
        await pipeline(source, created.createWriteStream(), { signal: opts.signal });
      });
    } catch (error) {
      throw mapLocalError(error, 'write');
    }
  }

  /** Waits for the background removal of temp files left by killed writers. */
  async close(): Promise<void> {
    await this.#sweeper.settle();
  }

  async delete(key: string, opts: StoreCallOptions = {}): Promise<void> {
    try {
      throwIfAborted(opts.signal);
      const entry = await this.paths.entry(key, 'delete');
      if (entry === this.paths.realRoot) throw invalid('cannot delete the store root', { op: 'delete' });
      const info = await lstat(entry);
      if (info.isSymbolicLink()) {
        await this.paths.follow(key, 'delete'); // refuses links that lead outside the root
        await this.paths.inEntryDir(entry, 'delete', (pinned) => unlink(pinned));
      } else if (key.endsWith('/')) {
        if (info.isDirectory()) await removeDirectory(this.paths, entry);
      } else {
        if (info.isDirectory()) throw new StrataError('EISDIR', undefined, { op: 'delete' });
        await this.paths.inEntryDir(entry, 'delete', (pinned) => unlink(pinned));
      }
    } catch (error) {
      if (MISSING.has(codeOf(error) ?? '')) return;
      throw mapLocalError(error, 'delete');
    }
  }

  /** Deletes files 16 at a time (the file system's calls wait on the disk, not on each other). */
  async deleteMany(keys: string[], opts: StoreCallOptions = {}): Promise<void> {
    await eachLimit(keys, DELETE_CONCURRENCY, (key) => this.delete(key, opts));
  }

  async copy(from: string, to: string, opts: StoreCallOptions = {}): Promise<ObjectInfo> {
    try {
      throwIfAborted(opts.signal);
      const sourcePath = await this.paths.follow(from, 'copy');
      const source = await open(sourcePath, READ_FLAGS);
      try {
        await this.paths.openedInside(source, 'copy');
        const info = await source.stat();
        if (info.isDirectory()) throw new StrataError('EISDIR', undefined, { op: 'copy' });
        if (!info.isFile()) throw invalid('not a regular file', { op: 'copy' });
        return await this.copyOpened(source, sourcePath, to, opts);
      } finally {
        await source.close().catch(() => undefined);
      }
    } catch (error) {
      throw mapLocalError(error, 'copy');
    }
  }

  /** {@link copy} from the open file `source` (at `sourcePath`, checked to be inside the root) to the key `to`. */
  private async copyOpened(source: FileHandle, sourcePath: string, to: string, opts: StoreCallOptions): Promise<ObjectInfo> {
    return this.replaceFile(to, 'copy', opts.signal, async (created, temp, mode) => {
      // Through the open files where the platform can name them: exactly the files checked to be inside.
      await copyFile((await reopenPath(source)) ?? sourcePath, (await reopenPath(created)) ?? temp);
      // copyFile gives the copy the source's permissions: a file copied over keeps its own.
      if (mode !== undefined) await created.chmod(mode);
    });
  }

  /**
   * Replaces the file of `key` whole or not at all: `fill` writes a new temp file beside it
   * (created inside the root, with the permission bits of the file it replaces), which is then
   * renamed over it. A failed or aborted fill leaves the previous file and no temp file.
   */
  private async replaceFile(key: string, op: string, signal: AbortSignal | undefined, fill: (created: FileHandle, temp: string, mode: number | undefined) => Promise<void>): Promise<ObjectInfo> {
    const target = await this.writeTarget(key, op);
    this.#sweeper.sweep(dirname(target));
    const temp = tempPathFor(target);
    try {
      const mode = await modeToKeep(target);
      const created = await this.createInside(temp, op, mode);
      try {
        await fill(created, temp, mode);
      } finally {
        await created.close().catch(() => undefined);
      }
      throwIfAborted(signal);
      const info = await stat(temp, { bigint: true });
      await this.renameIntoPlace(temp, target, op);
      return infoOf(key, await renamedInfo(target, info));
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  /** Renames the temp file `temp` onto `target`, its neighbour, through their directory held open (see `inEntryDir`). */
  private async renameIntoPlace(temp: string, target: string, op: string): Promise<void> {
    await this.paths.inEntryDir(target, op, (pinned) => rename(join(dirname(pinned), basename(temp)), pinned));
  }

  /**
   * Creates the temp file `temp` (it must not exist) and checks it was made inside the root: one
   * made outside (a directory on its path swapped for a link since it was resolved) is removed
   * before anything is written to it, and refused with `EACCES`. With `mode` (the permission
   * bits of the file it replaces), it gets them, whatever the umask.
   */
  private async createInside(temp: string, op: string, mode?: number): Promise<FileHandle> {
    const handle = await open(temp, 'wx', mode ?? 0o666);
    try {
      await this.paths.openedInside(handle, op);
      if (mode !== undefined) await handle.chmod(mode);
      return handle;
    } catch (error) {
      const real = await openedPath(handle);
      await handle.close().catch(() => undefined);
      if (real !== undefined) await unlink(real).catch(() => undefined);
      throw error;
    }
  }

  /** `fs.rename` of a file or a directory (a link is moved, not its target); creates the target's parents. */
  async rename(from: string, to: string, opts: StoreCallOptions = {}): Promise<void> {
    try {
      throwIfAborted(opts.signal);
      await this.paths.follow(from, 'rename'); // ENOENT when missing, EACCES when it leads outside
      const source = await this.paths.entry(from, 'rename');
      if (source === this.paths.realRoot) throw invalid('cannot rename the store root', { op: 'rename' });
      const target = await this.paths.entry(to, 'rename', true);
      if (target === this.paths.realRoot) throw invalid('cannot rename onto the store root', { op: 'rename' });
      await this.paths.inEntryDir(source, 'rename', (from) => this.paths.inEntryDir(target, 'rename', (to) => rename(from, to)));
    } catch (error) {
      throw mapLocalError(error, 'rename');
    }
  }

  /** `mkdir -p` for `write('dir/')`; an existing directory is fine. */
  private async makeDirectory(key: string, body: Readable | Buffer): Promise<ObjectInfo> {
    if (!Buffer.isBuffer(body)) body.resume();
    const name = key.endsWith('/') ? key.slice(0, -1) : key;
    const entry = await this.paths.entry(key, 'mkdir', true);
    try {
      await this.paths.inEntryDir(entry, 'mkdir', (pinned) => mkdir(pinned));
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
    }
    const info = await stat(await this.paths.follow(key, 'mkdir'), { bigint: true });
    if (!info.isDirectory()) throw new StrataError('EEXIST', 'a file is in the way', { op: 'mkdir' });
    return infoOf(name, info);
  }

  /** Where a write of `key` lands: its entry (parents created), or the target of a link inside the root. */
  private async writeTarget(key: string, op: string): Promise<string> {
    assertSafeKey(key);
    const entry = await this.paths.entry(key, op, true);
    let target = entry;
    try {
      if ((await lstat(entry)).isSymbolicLink()) target = await this.paths.follow(key, op);
      if ((await stat(target)).isDirectory()) throw new StrataError('EISDIR', undefined, { op });
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error;
    }
    return target;
  }
}

/** How many entries of a directory a listing stats at once. */
const LIST_BATCH = 64;

/** How many files `deleteMany` removes at once. */
const DELETE_CONCURRENCY = 16;

/**
 * The stat of a file just renamed into place at `target`, `written` being its stat before the
 * rename: the rename changed its ctime (part of the etag), so the etag is taken after it. When the
 * file found there is not the one renamed, untouched (another writer came in between), the stat
 * before the rename is kept: its etag then matches no later stat, so the next one sees a change.
 */
async function renamedInfo(target: string, written: BigIntStats): Promise<BigIntStats> {
  const now = await stat(target, { bigint: true }).catch(() => undefined);
  const same = now !== undefined && now.ino === written.ino && now.size === written.size && now.mtimeNs === written.mtimeNs;
  return same ? now : written;
}

/** An {@link ObjectInfo} from a `bigint` stat. */
function infoOf(key: string, info: BigIntStats): ObjectInfo {
  const mtime = new Date(Number(info.mtimeNs / 1_000_000n));
  if (info.isDirectory()) return { key, size: 0, mtime, isDirectory: true };
  const etag = `${info.ino.toString(16)}-${info.size.toString(16)}-${info.mtimeNs.toString(16)}-${info.ctimeNs.toString(16)}`;
  return { key, size: Number(info.size), mtime, etag, isDirectory: false };
}

function emptyStream(): Readable {
  return new Readable({
    read() {
      this.push(null);
    },
  });
}
