/**
 * Commands that change the namespace: `mv`, `rm`, `mkdir`.
 * @module
 */
import type { Command } from 'commander';
import { StrataError, invalid } from '../errors.js';
import type { StrataFS } from '../file-system.js';
import { basename, joinPath, normalizePath } from '../path.js';
import type { CliContext } from './context.js';
import { parseLocation } from './local-path.js';

/** Registers `mv`, `rm` and `mkdir` on `program`. */
export function registerWriteCommands(program: Command, ctx: CliContext): void {
  program
    .command('mv')
    .description('move a file or directory (into DST when DST is a directory; across mounts: copy, then remove)')
    .argument('<src>', 'logical path')
    .argument('<dst>', 'logical path')
    .action(async (src: string, dst: string) => {
      const from = logical(src);
      const fs = await ctx.fs();
      const target = await intoDirectory(fs, from, logical(dst), ctx.signal);
      try {
        await fs.rename(from, target, { signal: ctx.signal });
      } catch (error) {
        if (!(error instanceof StrataError && error.code === 'EXDEV')) throw error;
        await refuseNonEmptyTarget(fs, from, target, ctx.signal);
        await fs.copy(from, target, { recursive: true, signal: ctx.signal });
        await fs.rm(from, { recursive: true, signal: ctx.signal });
      }
    });

  program
    .command('rm')
    .description('remove files or directories')
    .argument('<paths...>', 'logical paths')
    .option('-r, --recursive', 'remove directories and everything below them')
    .option('-f, --force', 'no error for missing paths')
    .action(async (paths: string[], opts: { recursive?: boolean; force?: boolean }) => {
      const fs = await ctx.fs();
      for (const path of paths) await fs.rm(logical(path), { recursive: opts.recursive === true, force: opts.force === true, signal: ctx.signal });
    });

  program
    .command('mkdir')
    .description('create directories')
    .argument('<paths...>', 'logical paths')
    .option('-p, --parents', 'create missing parents; no error if it exists')
    .action(async (paths: string[], opts: { parents?: boolean }) => {
      const fs = await ctx.fs();
      for (const path of paths) await fs.mkdir(logical(path), { recursive: opts.parents === true, signal: ctx.signal });
    });
}

/**
 * `ENOTEMPTY` when `src` is a directory and `dst` a directory with entries: a move across mounts
 * (a copy, then a removal) does not merge into it, as a move within a mount and `mv(1)` do not.
 */
async function refuseNonEmptyTarget(fs: StrataFS, src: string, dst: string, signal: AbortSignal): Promise<void> {
  if ((await fs.stat(src, { signal })).type !== 'directory') return;
  const existing = await fs.stat(dst, { signal }).catch(() => undefined);
  if (existing?.type === 'directory' && (await fs.readdir(dst, { signal })).length > 0) {
    throw new StrataError('ENOTEMPTY', 'destination directory is not empty', { path: existing.path, op: 'rename' });
  }
}

/** A logical path argument; `file:` paths are refused (only `cp` reaches outside). */
function logical(spec: string): string {
  const location = parseLocation(spec);
  if (location.kind === 'local') throw invalid(`only cp takes local (file:) paths: ${JSON.stringify(spec)}`);
  return location.asDirectory && location.path !== '/' ? `${location.path}/` : location.path; // the slash still names a directory
}

/** `dst/basename(src)` when `dst` is an existing directory (as mv(1) and cp(1) do), else `dst`. */
export async function intoDirectory(fs: StrataFS, src: string, dst: string, signal: AbortSignal): Promise<string> {
  const existing = await fs.stat(dst, { signal }).catch(() => undefined);
  const name = basename(normalizePath(src));
  if (existing?.type !== 'directory' || name === '') return dst;
  return joinPath(normalizePath(dst), name);
}
