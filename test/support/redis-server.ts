/**
 * Starts and stops real `redis-server` processes on 127.0.0.1 for the shared-cache tests: one
 * standalone server, or a 3-node Redis Cluster (`--cluster-enabled yes` + `redis-cli --cluster
 * create`). No persistence. A missing `redis-server` binary is an error that says how to install it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Throws (loudly) when `redis-server` or `redis-cli` is not installed. */
export async function assertRedisInstalled(): Promise<void> {
  for (const bin of ['redis-server', 'redis-cli']) {
    try {
      await run(bin, ['--version']);
    } catch (error) {
      throw new Error(`the shared-cache tests need '${bin}' (Debian: apt-get install -y redis-server): ${(error as Error).message}`);
    }
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port on 127.0.0.1 whose cluster bus port (+10000) is free too. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if ((await portFree(port)) && (await portFree(port + 10000))) return port;
  }
  throw new Error('no free port pair found');
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One running redis-server. */
export interface RedisProcess {
  port: number;
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Stops it (SIGTERM, then SIGKILL) and waits until it is gone. */
  stop(): Promise<void>;
  /** SIGKILLs it (a crash) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts a new (empty) server on the same port. */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
}

async function spawnServer(port: number, dir: string, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const deadline = Date.now() + 10_000;
  while (!(await accepting(port))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server on port ${port} exited: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return child;
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGCONT');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts a standalone redis-server on a free (or the given) port. */
export async function startRedis(options: { port?: number } = {}): Promise<RedisProcess> {
  await assertRedisInstalled();
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'stratafs-redis-'));
  let child = await spawnServer(port, dir);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await terminate(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    kill: () => terminate(child, 'SIGKILL'),
    restart: async () => {
      await terminate(child, 'SIGKILL');
      child = await spawnServer(port, dir);
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}

/** A running 3-node Redis Cluster. */
export interface RedisClusterProcess {
  ports: number[];
  /** `redis://127.0.0.1:P1,redis://127.0.0.1:P2,redis://127.0.0.1:P3`. */
  url: string;
  stop(): Promise<void>;
}

/** Starts three cluster-enabled servers and joins them into one cluster (no replicas). */
export async function startRedisCluster(): Promise<RedisClusterProcess> {
  await assertRedisInstalled();
  const dir = await mkdtemp(join(tmpdir(), 'stratafs-redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      let port = await freePort();
      while (ports.includes(port)) port = await freePort();
      ports.push(port);
      children.push(
        await spawnServer(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000']),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    // Wait until every node reports the cluster as ok.
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`redis cluster did not become ok: ${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await Promise.all(children.map((c) => terminate(c, 'SIGKILL')));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ports,
    url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','),
    stop: async () => {
      await Promise.all(children.map((c) => terminate(c, 'SIGTERM')));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
