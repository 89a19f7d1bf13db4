/**
 * A server started as a child process for tests and benches: knows when it exited and stops it
 * (SIGTERM, then SIGKILL after 5 s), removing its working dir when it has one.
 */
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';

/** A child process with its exit state and a `stop()`. */
export interface ChildServer {
  readonly child: ChildProcess;
  /** True once the process exited. */
  exited(): boolean;
  /** Resolves when the process exits. */
  readonly exit: Promise<void>;
  /** Stops the process (if still running) and removes `dir` (if given). */
  stop(): Promise<void>;
}

/** Wraps a spawned server process (see the module comment). */
export function childServer(child: ChildProcess, dir?: string): ChildServer {
  let exited = false;
  const exit = new Promise<void>((done) =>
    child.once('exit', () => {
      exited = true;
      done();
    }),
  );
  return {
    child,
    exited: () => exited,
    exit,
    stop: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(timer);
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
