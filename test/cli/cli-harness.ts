/**
 * Runs the `stratafs` command as a child process (`node --import tsx src/cli/main.ts ...`) in a
 * temp workspace whose `stratafs.config.json` mounts two temp directories: `/a` and `/b`, with
 * a disk cache in the workspace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** What one run printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes (for binary output). */
  bytes: Buffer;
}

/** Runs `stratafs ...args` in `cwd`; `env` is added to the parent's environment (undefined removes a variable). */
export function runCli(args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return startCli(args, cwd, env, 'ignore').result;
}

/** A running `stratafs` child process and how it ends. */
export interface RunningCli {
  child: ChildProcess;
  /** Settles when the process has exited; `code` is 128 + the signal number when a signal ended it. */
  result: Promise<CliResult>;
}

/** Starts `stratafs ...args` in `cwd` with a writable stdin (`child.stdin`) unless `stdin` is 'ignore'. */
export function startCli(args: string[], cwd: string, env: Record<string, string | undefined> = {}, stdin: 'pipe' | 'ignore' = 'pipe'): RunningCli {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env: merged as NodeJS.ProcessEnv, stdio: [stdin, 'pipe', 'pipe'] });
  const result = new Promise<CliResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const bytes = Buffer.concat(out);
      const exit = code ?? (signal ? 128 + constants.signals[signal] : -1);
      resolve({ code: exit, stdout: bytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), bytes });
    });
  });
  return { child, result };
}

/** A temp workspace: `a/` and `b/` mounted at `/a` and `/b`, a disk cache in `cache/`. */
export interface Workspace {
  dir: string;
  a: string;
  b: string;
  /** Runs the CLI in the workspace. */
  run(...args: string[]): Promise<CliResult>;
  /** Runs the CLI with `--json`, expects exit 0 and parses stdout. */
  json<T = unknown>(...args: string[]): Promise<T>;
  cleanup(): Promise<void>;
}

/** Makes a {@link Workspace}; `config` replaces the default config object. */
export async function workspace(config?: (ws: { dir: string; a: string; b: string }) => unknown): Promise<Workspace> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'stratafs-cli-')));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await mkdir(a);
  await mkdir(b);
  const body = config
    ? config({ dir, a, b })
    : {
        cache: { pageSize: '64KiB', disk: { dir: 'cache', capacity: '64MiB' } },
        mounts: { '/a': pathToFileURL(a).href, '/b': { uri: pathToFileURL(b).href } },
      };
  await writeFile(join(dir, 'stratafs.config.json'), JSON.stringify(body, null, 2));
  const ws: Workspace = {
    dir,
    a,
    b,
    run: (...args) => runCli(args, dir),
    async json<T>(...args: string[]): Promise<T> {
      const result = await runCli([...args, '--json'], dir);
      if (result.code !== 0) throw new Error(`stratafs ${args.join(' ')} --json failed (${result.code}): ${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  return ws;
}

/** The one-line error format: `stratafs: CODE: message (path)`. */
export function errorLine(code: string, path?: string): RegExp {
  const escaped = path?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^stratafs: ${code}: [^\\n]+${escaped === undefined ? '' : ` \\(${escaped}\\)`}\\n$`);
}
