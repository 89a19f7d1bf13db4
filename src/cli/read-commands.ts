/**
 * Commands that look at files: `ls`, `stat`, `cat`, `head`, `tail`.
 * @module
 */
import type { Command } from 'commander';
import { StrataError } from '../errors.js';
import type { StrataFS } from '../file-system.js';
import type { FileInfo } from '../options.js';
import { relativeTo } from '../path.js';
import { parseSize } from '../size.js';
import type { CliContext } from './context.js';
import { columns, formatBytes, formatCached, formatDate } from './format.js';

/** Registers the read commands on `program`. */
export function registerReadCommands(program: Command, ctx: CliContext): void {
  program
    .command('ls')
    .description('list a directory (or show a file)')
    .argument('[path]', 'logical path', '/')
    .option('-l, --long', 'type, size, cached share, modification time')
    .option('-R, --recursive', 'list everything below')
    .action(async (path: string, opts: { long?: boolean; recursive?: boolean }) => {
      const fs = await ctx.fs();
      const info = await fs.stat(path, { signal: ctx.signal });
      const entries = info.type === 'file' ? [info] : await fs.readdir(info.path, { withInfo: true, recursive: opts.recursive === true, signal: ctx.signal });
      if (ctx.json) return ctx.printJson(entries);
      const name = (e: FileInfo): string => (info.type === 'file' ? e.name : relativeTo(e.path, info.path)) + (e.type === 'directory' ? '/' : '');
      if (!opts.long) return ctx.print(...entries.map(name));
      ctx.print(...columns(entries.map((e) => [e.type === 'directory' ? 'd' : '-', e.type === 'directory' ? '-' : String(e.size), formatCached(e.cached, e.size, e.type === 'file'), formatDate(e.mtime), name(e)]), [1, 2]));
    });

  program
    .command('stat')
    .description('show the metadata of a file or directory')
    .argument('<path>', 'logical path')
    .action(async (path: string) => {
      const info = await (await ctx.fs()).stat(path, { signal: ctx.signal });
      if (ctx.json) return ctx.printJson(info);
      ctx.print(
        ...columns([
          ['path:', info.path],
          ['type:', info.type],
          ['size:', info.type === 'file' ? `${info.size} (${formatBytes(info.size)})` : '-'],
          ['cached:', info.type === 'file' ? `${info.cached} (${formatCached(info.cached, info.size, true)})` : '-'],
          ['modified:', info.mtime ? info.mtime.toISOString() : '-'],
          ['etag:', info.etag ?? '-'],
          ['mount:', info.mount],
        ]),
      );
    });

  program
    .command('cat')
    .description('write files to stdout')
    .argument('<paths...>', 'logical paths')
    .action(async (paths: string[]) => {
      const fs = await ctx.fs();
      for (const path of paths) await ctx.pipeToStdout(fs.createReadStream(path, { signal: ctx.signal }));
    });

  program
    .command('head')
    .description('write the first bytes of a file to stdout')
    .argument('<path>', 'logical path')
    .option('-c, --bytes <n>', "how many bytes (a number or a size such as '4KiB')", '1024')
    .action(async (path: string, opts: { bytes: string }) => {
      const count = byteCount(opts.bytes);
      const fs = await ctx.fs();
      await statFile(fs, path, ctx.signal);
      if (count > 0) await ctx.pipeToStdout(fs.createReadStream(path, { start: 0, end: count - 1, signal: ctx.signal }));
    });

  program
    .command('tail')
    .description('write the last bytes of a file to stdout')
    .argument('<path>', 'logical path')
    .option('-c, --bytes <n>', "how many bytes (a number or a size such as '4KiB')", '1024')
    .action(async (path: string, opts: { bytes: string }) => {
      const count = byteCount(opts.bytes);
      const fs = await ctx.fs();
      const info = await statFile(fs, path, ctx.signal);
      if (count > 0 && info.size > 0) await ctx.pipeToStdout(fs.createReadStream(path, { start: Math.max(0, info.size - count), signal: ctx.signal }));
    });
}

/** The info of a file; `EISDIR` for a directory. */
async function statFile(fs: StrataFS, path: string, signal: AbortSignal): Promise<FileInfo> {
  const info = await fs.stat(path, { signal });
  if (info.type === 'directory') throw new StrataError('EISDIR', undefined, { path: info.path, op: 'read' });
  return info;
}

/** The `-c` argument of head/tail: bytes or a size string. */
function byteCount(text: string): number {
  return parseSize(/^\d+$/.test(text) ? Number(text) : text, '-c');
}
