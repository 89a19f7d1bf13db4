/**
 * Cache control: `load`, `free`, `pin`, `unpin`, `persist`.
 * @module
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { formatBytes, formatDuration } from './format.js';
import { createProgress, type ProgressFigures } from './progress.js';

/** Registers the cache commands on `program`. */
export function registerCacheCommands(program: Command, ctx: CliContext): void {
  program
    .command('load')
    .description('read a file (or a directory\'s files, with -r) into the cache, with progress on stderr')
    .argument('<path>', 'logical path')
    .option('-r, --recursive', 'every file below a directory')
    .action(async (path: string, opts: { recursive?: boolean }) => {
      const fs = await ctx.fs();
      if (fs.stats().disk === undefined) ctx.note('note: the config has no cache.disk, so loaded pages are gone when this command exits');
      const started = Date.now();
      const progress = createProgress(`load ${path}`);
      let last: ProgressFigures = { bytes: 0, totalBytes: 0, files: 0, totalFiles: 0 };
      try {
        await fs.load(path, {
          recursive: opts.recursive === true,
          signal: ctx.signal,
          onProgress: (p) => {
            last = p;
            progress.update(p);
          },
        });
      } finally {
        progress.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      if (ctx.json) return ctx.printJson({ path, files: last.files, bytes: last.bytes, seconds });
      ctx.print(`loaded ${last.files} file${last.files === 1 ? '' : 's'}, ${formatBytes(last.bytes)} in ${formatDuration(seconds)}`);
    });

  program
    .command('free')
    .description('drop cached pages and metadata (pinned pages stay)')
    .argument('<path>', 'logical path')
    .option('-r, --recursive', 'also below sub-directories')
    .action(async (path: string, opts: { recursive?: boolean }) => {
      await (await ctx.fs()).free(path, { recursive: opts.recursive === true, signal: ctx.signal });
    });

  program
    .command('pin')
    .description('load a file or directory and keep its pages from eviction (kept in the disk cache across runs)')
    .argument('<path>', 'logical path')
    .action(async (path: string) => {
      await (await ctx.fs()).pin(path, { signal: ctx.signal });
    });

  program
    .command('unpin')
    .description('let the pages of a file or directory be evicted again')
    .argument('<path>', 'logical path')
    .action(async (path: string) => {
      await (await ctx.fs()).unpin(path, { signal: ctx.signal });
    });

  program
    .command('persist')
    .description('upload MUST_CACHE / ASYNC_THROUGH data at or below a path to its store now')
    .argument('<path>', 'logical path')
    .action(async (path: string) => {
      await (await ctx.fs()).persist(path, { signal: ctx.signal });
    });
}
