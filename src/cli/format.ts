/**
 * Human-readable output of the `stratafs` command: sizes, dates, aligned columns.
 * @module
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `1536` -> `'1.5 KiB'`; below 1 KiB, exact bytes (`'512 B'`). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** A date as `YYYY-MM-DD HH:MM:SS` in UTC, `-` when unknown. */
export function formatDate(date: Date | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return '-';
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Seconds as `1h02m`, `3m05s`, `12s`; `?` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** How much of a file is cached, as a percentage (`'-'` for directories and empty files). */
export function formatCached(cached: number, size: number, isFile: boolean): string {
  if (!isFile || size === 0) return '-';
  return `${Math.floor((cached / size) * 100)}%`;
}

/**
 * Rows as aligned columns separated by two spaces. `right` lists the columns to right-align
 * (numbers); the last column is never padded.
 */
export function columns(rows: string[][], right: readonly number[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : right.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
