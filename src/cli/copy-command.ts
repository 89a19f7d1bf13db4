/**
 * `cp`: copies between logical paths (also across mounts) and local files (`file:` paths),
 * one file or, with `-r`, a whole tree with progress.
 * @module
 */
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename as localBasename, dirname as localDirname, join as localJoin } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { StrataError, invalid, toStrataError } from '../errors.js';
import type { StrataFS } from '../file-system.js';
import { basename, isSameOrBelow, joinPath, relativeTo } from '../path.js';
import type { CliContext } from './context.js';
import { modeToKeep } from '../store/local/file-mode.js';
import { formatBytes } from './format.js';
import { parseLocation, showLocation, type Location } from './local-path.js';
import { openLocalInPlace, openLocalSource } from './local-streams.js';
import { createProgress } from './progress.js';

/** A file or directory of a copy's source, relative to the source root. */
interface Entry {
  rel: string;
  type: 'file' | 'directory';
  size: number;
}

/** Files copied at once in a recursive copy. */
const PARALLEL = 4;

/** Registers `cp` on `program`. */
export function registerCopyCommand(program: Command, ctx: CliContext): void {
  program
    .command('cp')
    .description("copy files; SRC and DST are logical paths (/x) or local files (file:/abs/path); '-' is stdin or stdout")
    .argument('<src>', "logical path, file:/local/path, or '-' (stdin)")
    .argument('<dst>', "logical path or file:/local/path (into it when it is a directory), or '-' (stdout)")
    .option('-r, --recursive', 'copy directories and everything below them')
    .action(async (srcSpec: string, dstSpec: string, opts: { recursive?: boolean }) => {
      if (srcSpec === STDIO || dstSpec === STDIO) return copyStdio(ctx, srcSpec, dstSpec, opts.recursive === true);
      const src = parseLocation(srcSpec);
      const dst = parseLocation(dstSpec);
      if (src.kind === 'local' && dst.kind === 'local') throw invalid('both paths are local files: at least one must be a logical path (starting with /)');
      const fs = await ctx.fs();
      const copier = new Copier(fs, ctx.signal);
      const info = await copier.stat(src);
      if (!info) throw new StrataError('ENOENT', undefined, { path: showLocation(src), op: 'copy' });
      if (info.type === 'directory' && opts.recursive !== true) throw new StrataError('EISDIR', 'is a directory (use cp -r)', { path: showLocation(src), op: 'copy' });
      const target = await copier.into(src, dst, info.type === 'file');
      if (info.type === 'file') return copier.copyFile(src, target);
      const copied = await copier.copyTree(src, target, ctx);
      if (ctx.json) ctx.printJson({ from: showLocation(src), to: showLocation(target), ...copied });
      else ctx.print(`copied ${copied.files} file${copied.files === 1 ? '' : 's'}, ${formatBytes(copied.bytes)}`);
    });
}

/** The `cp` argument that means stdin (as SRC) or stdout (as DST), as with `aws s3 cp`. */
const STDIO = '-';

/** `cp - DST` (stdin to a logical file) and `cp SRC -` (a logical file to stdout). */
async function copyStdio(ctx: CliContext, srcSpec: string, dstSpec: string, recursive: boolean): Promise<void> {
  if (srcSpec === STDIO && dstSpec === STDIO) throw invalid("'-' may be SRC (stdin) or DST (stdout), not both");
  if (recursive) throw invalid("cp -r does not take '-' (stdin or stdout)");
  const other = parseLocation(srcSpec === STDIO ? dstSpec : srcSpec);
  if (other.kind === 'local') throw invalid(`with '-' the other path is a logical path (starting with /): ${JSON.stringify(showLocation(other))}`);
  if (srcSpec === STDIO && other.asDirectory) throw new StrataError('EISDIR', "cp - writes one file: give its path, not a directory's", { path: other.path, op: 'copy' });
  const fs = await ctx.fs();
  if (srcSpec === STDIO) {
    await fs.writeFile(other.path, Readable.from(ctx.streams.stdin ?? process.stdin), { signal: ctx.signal });
    return;
  }
  const info = await fs.stat(other.path, { signal: ctx.signal });
  if (info.type === 'directory') throw new StrataError('EISDIR', 'is a directory', { path: info.path, op: 'copy' });
  await ctx.pipeToStdout(fs.createReadStream(info.path, { signal: ctx.signal }));
}

/** Copy operations between the namespace and the local file system. */
class Copier {
  constructor(
    private readonly fs: StrataFS,
    private readonly signal: AbortSignal,
  ) {}

  /** Type and size of a location; `undefined` when it does not exist. */
  async stat(location: Location): Promise<{ type: 'file' | 'directory'; size: number } | undefined> {
    if (location.kind === 'logical') {
      if (!(await this.fs.exists(location.path, { signal: this.signal }))) return undefined;
      const info = await this.fs.stat(location.path, { signal: this.signal });
      return { type: info.type, size: info.size };
    }
    try {
      const info = await stat(location.path);
      return { type: info.isDirectory() ? 'directory' : 'file', size: info.size };
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw localError(error, location.path, 'stat');
    }
  }

  /**
   * `dst/basename(src)` when `dst` is an existing directory (as cp(1) does), else `dst`; `ENOTDIR`
   * when a file is copied to a `dst/` that is not an existing directory.
   */
  async into(src: Location, dst: Location, srcIsFile: boolean): Promise<Location> {
    const existing = await this.stat(dst);
    if (srcIsFile && dst.asDirectory && existing?.type !== 'directory') {
      throw new StrataError('ENOTDIR', existing ? 'not a directory' : 'no such directory', { path: showLocation(dst), op: 'copy' });
    }
    const name = src.kind === 'logical' ? basename(src.path) : localBasename(src.path);
    if (existing?.type !== 'directory' || name === '') return dst;
    return dst.kind === 'logical' ? { kind: 'logical', path: joinPath(dst.path, name) } : { kind: 'local', path: localJoin(dst.path, name) };
  }

  /** Copies one file. */
  async copyFile(src: Location, dst: Location): Promise<void> {
    const signal = this.signal;
    if (src.kind === 'logical' && dst.kind === 'logical') return this.fs.copy(src.path, dst.path, { signal });
    if (src.kind === 'local' && dst.kind === 'logical') {
      let source: Readable;
      try {
        source = await openLocalSource(src.path);
      } catch (error) {
        throw localError(error, src.path, 'open');
      }
      try {
        await this.fs.writeFile(dst.path, source, { signal });
      } finally {
        source.destroy();
      }
      return;
    }
    if (src.kind === 'logical' && dst.kind === 'local') {
      const target = await localTarget(dst.path);
      if (target.inPlace) {
        try {
          return await pipeline(this.fs.createReadStream(src.path, { signal }), await openLocalInPlace(target.path), { signal });
        } catch (error) {
          // A pipe whose reader has gone (`cp SRC file:/dev/stdout | head`) ends the copy quietly, as `cp SRC -` does.
          if ((error as { code?: string }).code === 'EPIPE') return;
          if (error instanceof StrataError || (error as { name?: string }).name === 'AbortError') throw error;
          throw localError(error, dst.path, 'write');
        }
      }
      // Written to a temporary file beside the target and renamed into place: never a partial file.
      const temp = localJoin(localDirname(target.path), `.${localBasename(target.path)}.stratafs-${process.pid}-${Math.random().toString(36).slice(2)}`);
      try {
        const mode = await modeToKeep(target.path);
        await pipeline(this.fs.createReadStream(src.path, { signal }), createWriteStream(temp, { flags: 'wx', mode: mode ?? 0o666 }), { signal });
        // A file copied over keeps its permissions, as with cp(1): a private file stays private.
        if (mode !== undefined) await chmod(temp, mode);
        await rename(temp, target.path);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        if (error instanceof StrataError || (error as { name?: string }).name === 'AbortError') throw error;
        throw localError(error, dst.path, 'write');
      }
      return;
    }
    throw invalid('both paths are local files');
  }

  /** Copies a directory tree file by file, with progress; returns what it copied. */
  async copyTree(src: Location, dst: Location, ctx: CliContext): Promise<{ files: number; bytes: number }> {
    if (src.kind === 'logical' && dst.kind === 'logical' && isSameOrBelow(dst.path, src.path)) {
      throw invalid('cannot copy a directory into itself', { path: dst.path, op: 'copy' });
    }
    const existing = await this.stat(dst);
    if (existing?.type === 'file') throw new StrataError('ENOTDIR', 'destination is a file', { path: showLocation(dst), op: 'copy' });
    const entries = await this.list(src, ctx);
    const dirs = entries.filter((e) => e.type === 'directory').sort((a, b) => a.rel.split('/').length - b.rel.split('/').length);
    const files = entries.filter((e) => e.type === 'file');
    await this.makeDir(dst);
    for (const dir of dirs) await this.makeDir(child(dst, dir.rel));
    const figures = { bytes: 0, totalBytes: files.reduce((n, f) => n + f.size, 0), files: 0, totalFiles: files.length };
    const progress = createProgress(`cp ${showLocation(src)}`);
    progress.update(figures);
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < files.length) {
          const file = files[next++]!;
          await this.copyFile(child(src, file.rel), child(dst, file.rel));
          figures.bytes += file.size;
          figures.files += 1;
          progress.update(figures);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, worker));
    } finally {
      progress.stop();
    }
    return { files: figures.files, bytes: figures.bytes };
  }

  /** Every file and directory below a directory, relative to it. */
  private async list(root: Location, ctx: CliContext): Promise<Entry[]> {
    if (root.kind === 'logical') {
      const infos = await this.fs.readdir(root.path, { recursive: true, withInfo: true, signal: this.signal });
      return infos.map((i) => ({ rel: relativeTo(i.path, root.path), type: i.type, size: i.size }));
    }
    const out: Entry[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let names: string[];
      try {
        names = (await readdir(dir)).sort();
      } catch (error) {
        throw localError(error, dir, 'readdir');
      }
      for (const name of names) {
        const path = localJoin(dir, name);
        const childRel = rel === '' ? name : `${rel}/${name}`;
        let info = await lstat(path);
        if (info.isSymbolicLink()) {
          info = await stat(path).catch(() => info);
          if (info.isDirectory() || info.isSymbolicLink()) {
            ctx.note(`skipped symbolic link ${path}`);
            continue;
          }
        }
        if (info.isDirectory()) {
          out.push({ rel: childRel, type: 'directory', size: 0 });
          await walk(path, childRel);
        } else if (info.isFile()) out.push({ rel: childRel, type: 'file', size: info.size });
        else ctx.note(`skipped ${path} (not a regular file)`);
      }
    };
    await walk(root.path, '');
    return out;
  }

  private async makeDir(location: Location): Promise<void> {
    if (location.kind === 'logical') return this.fs.mkdir(location.path, { recursive: true, signal: this.signal });
    try {
      await mkdir(location.path, { recursive: true });
    } catch (error) {
      throw localError(error, location.path, 'mkdir');
    }
  }
}

/** The location of `rel` below a directory location. */
function child(location: Location, rel: string): Location {
  return location.kind === 'logical' ? { kind: 'logical', path: joinPath(location.path, rel) } : { kind: 'local', path: localJoin(location.path, ...rel.split('/')) };
}

/**
 * Where a copy to the local `path` writes: through a symbolic link, the file it points to (as
 * cp(1) does); `inPlace` when that is not a regular file — a device such as `/dev/null` or
 * `/dev/stdout`, a named pipe — which is written as it is instead of being replaced.
 */
async function localTarget(path: string): Promise<{ path: string; inPlace: boolean }> {
  try {
    if (!(await stat(path)).isFile()) return { path, inPlace: true };
    return { path: await realpath(path), inPlace: false };
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { path, inPlace: false };
    throw localError(error, path, 'stat');
  }
}

/** A local file system error as a StrataError about `file:<path>`. */
function localError(error: unknown, path: string, op: string): StrataError {
  const e = toStrataError(error, { path: `file:${path}`, op });
  e.path = `file:${path}`;
  return e;
}
