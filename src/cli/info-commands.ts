/**
 * Commands about space and the namespace as a whole: `du`, `mount`, `stats`.
 * @module
 */
import type { Command } from 'commander';
import type { FileInfo, StrataStats } from '../options.js';
import { joinPath, relativeTo } from '../path.js';
import type { CliContext } from './context.js';
import { columns, formatBytes } from './format.js';

/** One line of `du`: bytes and cached bytes of the files at or below `path`. */
export interface DiskUsage {
  path: string;
  size: number;
  cached: number;
  files: number;
}

/** Registers `du`, `mount` and `stats` on `program`. */
export function registerInfoCommands(program: Command, ctx: CliContext): void {
  program
    .command('du')
    .description('bytes and cached bytes below a path, per entry (or in total with -s)')
    .argument('[path]', 'logical path', '/')
    .option('-s, --summarize', 'only the total')
    .action(async (path: string, opts: { summarize?: boolean }) => {
      const fs = await ctx.fs();
      const info = await fs.stat(path, { signal: ctx.signal });
      const all: FileInfo[] = info.type === 'file' ? [info] : await fs.readdir(info.path, { withInfo: true, recursive: true, signal: ctx.signal });
      const total: DiskUsage = { path: info.path, size: 0, cached: 0, files: 0 };
      const byEntry = new Map<string, DiskUsage>();
      for (const entry of all) {
        const first = info.type === 'file' ? '' : relativeTo(entry.path, info.path).split('/')[0]!;
        let row = byEntry.get(first);
        if (!row) byEntry.set(first, (row = { path: joinPath(info.path, first), size: 0, cached: 0, files: 0 }));
        if (entry.type !== 'file') continue;
        for (const usage of [row, total]) {
          usage.size += entry.size;
          usage.cached += entry.cached;
          usage.files += 1;
        }
      }
      const rows = opts.summarize || info.type === 'file' ? [total] : [...[...byEntry.values()].sort((a, b) => (a.path < b.path ? -1 : 1)), total];
      if (ctx.json) return ctx.printJson(rows);
      ctx.print(...columns([['SIZE', 'CACHED', 'FILES', 'PATH'], ...rows.map((r) => [String(r.size), String(r.cached), String(r.files), r.path])], [0, 1, 2]));
    });

  program
    .command('mount')
    .description('list the mounts of the config')
    .action(async () => {
      const mounts = (await ctx.fs()).mounts();
      if (ctx.json) return ctx.printJson(mounts);
      ctx.print(
        ...columns([
          ['PATH', 'URI', 'MODE', 'READ', 'WRITE', 'SYNC'],
          ...mounts.map((m) => [
            m.path,
            m.uri,
            m.readOnly ? 'ro' : 'rw',
            m.options.readType ?? '-',
            m.options.writeType ?? '-',
            m.options.syncInterval === undefined ? '-' : `${m.options.syncInterval}ms`,
          ]),
        ]),
      );
    });

  program
    .command('stats')
    .description('cache and store figures of this run, and the shared disk cache')
    .action(async () => {
      const stats = (await ctx.fs()).stats();
      if (ctx.json) return ctx.printJson(stats);
      ctx.print(...statsLines(stats));
    });
}

/** `stats` for humans. */
function statsLines(s: StrataStats): string[] {
  const tier = (t: { used: number; capacity: number; pages: number } | undefined): string =>
    t === undefined ? 'off' : `${formatBytes(t.used)} of ${formatBytes(t.capacity)} in ${t.pages} page${t.pages === 1 ? '' : 's'}`;
  const requests = Object.entries(s.storeRequests)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
  return columns([
    ['memory cache:', tier(s.memory)],
    ['disk cache:', tier(s.disk)],
    ['page hits/misses:', `${s.hits}/${s.misses}`],
    ['bytes from cache:', formatBytes(s.bytesFromCache)],
    ['bytes from stores:', formatBytes(s.bytesFromStore)],
    ['bytes to stores:', formatBytes(s.bytesToStore)],
    ['store requests:', requests === '' ? '0' : requests],
    ['metadata hits/misses:', `${s.metadata.hits}/${s.metadata.misses}`],
    ['pending writes:', String(s.pendingWrites)],
  ]);
}
