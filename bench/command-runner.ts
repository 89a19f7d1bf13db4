/**
 * Runs the peers' commands (`rclone cat`) from one helper process started before the measures, so
 * that the bench process never forks while it measures. After a fork, each page of memory the
 * forking process had mapped takes a fault on its next write (here a 64 MiB copy into a mapped
 * buffer took 8 ms, and 33 ms right after a spawn): the measure after a peer's run would pay for
 * that peer's process start, and a cache that refills memory it already mapped pays the most.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childScript } from './child-script.js';

/** One command for the helper. */
export interface CommandRequest {
  id: number;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** How it ended: exit code (`null` when it could not start), bytes written to stdout, end of stderr. */
export interface CommandResult {
  id: number;
  code: number | null;
  bytes: number;
  stderr: string;
}

/** The helper process (see the module comment). */
export class CommandRunner {
  #next = 0;
  readonly #waiting = new Map<number, (result: CommandResult) => void>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (result: CommandResult) => this.#settle(result));
    // A helper that dies answers every command still waiting, instead of leaving it hanging.
    child.on('exit', (code) => {
      for (const id of [...this.#waiting.keys()]) this.#settle({ id, code: null, bytes: 0, stderr: `the command helper exited with ${code}` });
    });
  }

  #settle(result: CommandResult): void {
    this.#waiting.get(result.id)?.(result);
    this.#waiting.delete(result.id);
  }

  /** Starts the helper; resolves once it is ready. */
  static async start(): Promise<CommandRunner> {
    const child = spawn(process.execPath, childScript('command-runner-child'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the command helper exited with ${code} before it was ready`)));
    });
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
    return new CommandRunner(child);
  }

  /** Runs `command args` in the helper, with exactly `env` as its environment. */
  run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.child.send({ id, command, args, env } satisfies CommandRequest);
    });
  }

  /** Stops the helper. */
  close(): void {
    this.child.kill();
  }
}
