/**
 * Starts and stops the Cloud Storage emulator of firebase-tools (pinned at 15.34.2) on loopback
 * for tests and benches, with no Java and no network.
 *
 * It relies on the emulator's internals at firebase-tools 15.34.2 (see gcs-emulator.child.cjs):
 * the CLI would need Java 21 and the network for its rules runtime, so the `StorageEmulator`
 * class is started directly with the rules runtime and manager replaced by no-ops, through
 * `EmulatorRegistry.start`.
 *
 * It runs in a child node process rather than in the process that calls {@link startGcsEmulator}:
 * the emulator wants `HOME` (and `TMPDIR`, where it keeps blobs and which it empties on stop)
 * pointed at a temp dir, keeps process-wide singletons (the emulator registry, loggers), and
 * loads a large dependency tree — none of which should leak into the vitest process or into
 * the other emulators and tests of the run.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childServer } from './child-server.js';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The project id the emulator serves (any id works; `demo-` ids never reach Google). */
export const GCS_EMULATOR_PROJECT = 'demo-stratafs';

/** A running Cloud Storage emulator. */
export interface GcsEmulator {
  /** `http://127.0.0.1:PORT`: pass as `apiEndpoint`. */
  endpoint: string;
  /** The project id to pass as `projectId`. */
  projectId: string;
  /** Stops the emulator and removes its temp dir. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1 (a listener on port 0, closed again). */
async function freePort(): Promise<number> {
  return await new Promise((done, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** One attempt on one port: resolves once the child printed `READY`, rejects when it died first. */
async function startOn(port: number, dir: string, timeoutMs: number): Promise<GcsEmulator> {
  const script = resolve('test/support/gcs-emulator.child.cjs');
  const env = { ...process.env, HOME: join(dir, 'home'), TMPDIR: join(dir, 'tmp') };
  const child: ChildProcess = spawn(process.execPath, [script, String(port), GCS_EMULATOR_PROJECT], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const { exit, stop } = childServer(child);
  const ready = await new Promise<boolean>((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
      if (output.includes(`READY ${port}`)) {
        clearTimeout(timer);
        done(true);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exit.then(() => {
      clearTimeout(timer);
      done(false);
    });
  });
  if (!ready) {
    await stop();
    throw new Error(`the GCS emulator did not start on 127.0.0.1:${port}${output ? `: ${output.trim()}` : ''}`);
  }
  // Keep draining its output so a chatty emulator never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return { endpoint: `http://127.0.0.1:${port}`, projectId: GCS_EMULATOR_PROJECT, stop };
}

/**
 * Starts the emulator on a free port of 127.0.0.1 in a child process (a few attempts, in case
 * another process takes the port between picking and listening) and waits until it listens.
 */
export async function startGcsEmulator(options: { timeoutMs?: number } = {}): Promise<GcsEmulator> {
  const dir = await mkdtemp(join(tmpdir(), 'stratafs-gcs-'));
  await mkdir(join(dir, 'home'));
  await mkdir(join(dir, 'tmp'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const emulator = await startOn(await freePort(), dir, options.timeoutMs ?? 60_000);
      return {
        ...emulator,
        stop: async () => {
          await emulator.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

/** Stops an emulator started by {@link startGcsEmulator}. */
export async function stopGcsEmulator(emulator: GcsEmulator): Promise<void> {
  await emulator.stop();
}
