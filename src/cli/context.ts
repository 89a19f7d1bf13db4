/**
 * What every `stratafs` command shares: the global options, the file system opened from the
 * config (once, on first use, closed by the runner), output helpers and the abort signal.
 * @module
 */
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { StrataError } from '../errors.js';
import { StrataFS } from '../file-system.js';

/** The config file read when `--config` is not given, in the working directory. */
export const DEFAULT_CONFIG = 'stratafs.config.json';

/** Options every command accepts. */
export interface GlobalOptions {
  /** Path of the JSON config; default `./stratafs.config.json`. */
  config?: string;
  /** Machine-readable output. */
  json?: boolean;
  /** Print the stack of an error after its one line. */
  debug?: boolean;
}

/** The streams a command writes to (the process's own, or a test's). */
export interface CliStreams {
  /** What `cp - DST` reads; default `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

/** State shared by the commands of one invocation. */
export class CliContext {
  /** Set from the parsed command line before the command runs. */
  globals: GlobalOptions = {};
  /** Aborted on Ctrl-C or SIGTERM; commands pass it to every operation. */
  readonly controller = new AbortController();
  #fs: Promise<StrataFS> | undefined;

  constructor(readonly streams: CliStreams) {}

  /** The abort signal of this invocation. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True when `--json` was given. */
  get json(): boolean {
    return this.globals.json === true;
  }

  /** The file system of the config, opened on first use. */
  fs(): Promise<StrataFS> {
    this.#fs ??= openFromConfig(this.globals.config);
    return this.#fs;
  }

  /** Flushes and closes the file system if it was opened. */
  async close(): Promise<void> {
    const opened = this.#fs;
    this.#fs = undefined;
    if (!opened) return;
    const fs = await opened.catch(() => undefined);
    await fs?.close();
  }

  /** Writes lines to stdout. */
  print(...lines: string[]): void {
    if (lines.length > 0) this.streams.stdout.write(lines.join('\n') + '\n');
  }

  /** Writes a value to stdout as JSON. */
  printJson(value: unknown): void {
    this.streams.stdout.write(JSON.stringify(value, null, 2) + '\n');
  }

  /** Writes a note to stderr (not an error: the command goes on). */
  note(line: string): void {
    this.streams.stderr.write(`stratafs: ${line}\n`);
  }

  /** Copies a stream to stdout; a closed stdout (`| head`) ends it quietly. */
  async pipeToStdout(source: Readable): Promise<void> {
    try {
      await pipeline(source, this.streams.stdout, { end: false, signal: this.signal });
    } catch (error) {
      if ((error as { code?: string }).code === 'EPIPE') return;
      throw error;
    }
  }
}

/**
 * Opens the namespace of `--config FILE`, else of `./stratafs.config.json`. A bad option that
 * names no path (`unknown StrataFS option 'x'`) is reported with the config file's path.
 */
async function openFromConfig(config: string | undefined): Promise<StrataFS> {
  const path = config ?? join(process.cwd(), DEFAULT_CONFIG);
  try {
    return await StrataFS.fromConfig(path);
  } catch (error) {
    if (config === undefined && error instanceof StrataError && error.code === 'ENOENT' && error.path === path && error.op === 'loadConfig') {
      throw new StrataError('ENOENT', `no ${DEFAULT_CONFIG} in this directory; pass --config FILE`, { path, op: 'loadConfig' });
    }
    if (error instanceof StrataError && error.code === 'EINVAL' && error.path === undefined && path !== '') error.path = resolve(path);
    throw error;
  }
}
