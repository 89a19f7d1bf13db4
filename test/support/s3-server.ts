/**
 * Starts and stops a real S3 server (s3rver) on loopback for tests and benches: a free port on
 * 127.0.0.1, a fresh temp directory, a child process; stopped by killing it and removing the dir.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childServer } from './child-server.js';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Credentials s3rver accepts by default. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A running s3rver. */
export interface S3Server {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** The directory it stores buckets in. */
  dir: string;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1 (a listener on port 0, closed again). */
export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** True once something answers HTTP on `port`. */
function answers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      done(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => done(false));
    req.end();
  });
}

/**
 * Starts s3rver as
 * `NODE_OPTIONS=--openssl-legacy-provider node test/support/s3rver.child.cjs -d DIR -a 127.0.0.1 -p PORT --silent`
 * (s3rver's command line, with whole PUTs: see that file; the flag: s3rver builds continuation
 * tokens with a cipher OpenSSL 3 refuses otherwise) and waits until it answers.
 */
export async function startS3Server(options: { timeoutMs?: number } = {}): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'stratafs-s3rver-'));
  const port = await freePort();
  const bin = resolve('test/support/s3rver.child.cjs');
  const child: ChildProcess = spawn(process.execPath, [bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent'], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const { exited, stop } = childServer(child, dir);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await answers(port))) {
    if (exited() || Date.now() > deadline) {
      await stop();
      throw new Error(`s3rver did not start on 127.0.0.1:${port}${stderr ? `: ${stderr.trim()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint: `http://127.0.0.1:${port}`, dir, stop };
}
