/**
 * Starts and stops Azurite's blob service on loopback for tests and benches: a child process
 * running `node_modules/.bin/azurite-blob` in memory on 127.0.0.1, on a port the OS picks.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childServer } from './child-server.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
} as const;

/** A running Azurite blob service. */
export interface AzuriteServer {
  /** `http://127.0.0.1:PORT/devstoreaccount1`: the blob service URL of the development account. */
  blobEndpoint: string;
  /** A connection string for the development account on this server. */
  connectionString: string;
  /** Kills the server. */
  stop(): Promise<void>;
}

/** The connection string of Azurite's development account at `blobEndpoint`. */
export function azuriteConnectionString(blobEndpoint: string, accountKey: string = AZURITE_ACCOUNT.key): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT.name};AccountKey=${accountKey};BlobEndpoint=${blobEndpoint};`;
}

/**
 * Starts `azurite-blob --silent --inMemoryPersistence --blobHost 127.0.0.1 --blobPort 0
 * --skipApiVersionCheck --loose --disableTelemetry` (port 0: the OS picks a free port, which
 * Azurite prints even with `--silent`, so no other process can take it between picking and
 * listening) and waits for that line. The working directory is a fresh temp dir, so nothing
 * lands in the repository.
 */
export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<AzuriteServer> {
  const dir = await mkdtemp(join(tmpdir(), 'stratafs-azurite-'));
  const bin = resolve('node_modules/.bin/azurite-blob');
  const args = ['--silent', '--inMemoryPersistence', '--blobHost', '127.0.0.1', '--blobPort', '0', '--skipApiVersionCheck', '--loose', '--disableTelemetry'];
  const child: ChildProcess = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const { exit, stop } = childServer(child, dir);
  const port = await new Promise<number | undefined>((done) => {
    const timer = setTimeout(() => done(undefined), options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exit.then(() => {
      clearTimeout(timer);
      done(undefined);
    });
  });
  if (port === undefined) {
    await stop();
    throw new Error(`azurite-blob did not start on 127.0.0.1${output ? `: ${output.trim()}` : ''}`);
  }
  // Keep draining its output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT.name}`;
  return { blobEndpoint, connectionString: azuriteConnectionString(blobEndpoint), stop };
}

/** Stops a server started by {@link startAzurite}. */
export async function stopAzurite(server: AzuriteServer): Promise<void> {
  await server.stop();
}
