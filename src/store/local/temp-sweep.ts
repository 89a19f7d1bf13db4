/**
 * Temp files a writer left behind when it was killed mid-write (SIGKILL, a power cut) are removed
 * in the background: once per directory and store, the first time the store writes there, those
 * not modified for an hour. A live writer keeps its temp file fresh, so it is never touched.
 * @module
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isTempName } from './temp-name.js';

/** Temp files older than this (by mtime) are taken as left behind. */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/** Directories remembered as swept before the memory is reset (then a directory may be swept again). */
const MAX_REMEMBERED = 10_000;

/** Sweeps each directory once (see the module comment). */
export class TempSweeper {
  readonly #swept = new Set<string>();
  readonly #running = new Set<Promise<void>>();

  constructor(private readonly staleAfterMs = STALE_TEMP_MS) {}

  /** Starts the sweep of `dir` in the background, unless it was swept already. */
  sweep(dir: string): void {
    if (this.#swept.has(dir)) return;
    if (this.#swept.size >= MAX_REMEMBERED) this.#swept.clear();
    this.#swept.add(dir);
    const run = removeStaleTemps(dir, Date.now() - this.staleAfterMs).catch(() => undefined);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  /** Waits for the sweeps in progress. */
  async settle(): Promise<void> {
    await Promise.all([...this.#running]);
  }
}

async function removeStaleTemps(dir: string, modifiedBefore: number): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!isTempName(name)) continue;
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (info?.isFile() && info.mtimeMs < modifiedBefore) await unlink(path).catch(() => undefined);
  }
}
