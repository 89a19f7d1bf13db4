/**
 * What the benchmark cases share: the local emulators (s3rver, Azurite; started on first use,
 * stopped at the end), raw SDK clients on them, a temp dir, and the small helpers that move a
 * body into memory the same way on every side of a comparison.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ContainerClient } from '@azure/storage-blob';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from '../test/support/s3-server.js';
import { AZURITE_ACCOUNT, startAzurite, type AzuriteServer } from '../test/support/azurite-server.js';
import { CommandRunner } from './command-runner.js';

/** The S3 side: a bucket on a local s3rver and a raw SDK client on it. */
export interface S3Env {
  endpoint: string;
  bucket: string;
  /** The raw SDK client the baselines use. */
  client: S3Client;
  /** Settings for `S3Store` / a `s3://` mount on the same server. */
  settings: { endpoint: string; region: string; forcePathStyle: boolean; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Uploads one object (multipart above 16 MiB). */
  put(key: string, body: Buffer | Readable): Promise<void>;
}

/** The Azure side: a container on a local Azurite and a raw SDK client on it. */
export interface AzureEnv {
  blobEndpoint: string;
  connectionString: string;
  accountName: string;
  accountKey: string;
  container: string;
  /** The raw SDK client the baselines use. */
  containerClient: ContainerClient;
  /** Uploads one block blob. */
  put(key: string, body: Buffer): Promise<void>;
  /** A read/list SAS URL of the container (for tools that cannot take Azurite's endpoint otherwise). */
  sasUrl(): Promise<string>;
}

/** Emulators and scratch space for one benchmark run. */
export class BenchEnv {
  #s3: Promise<S3Env> | undefined;
  #azure: Promise<AzureEnv> | undefined;
  #servers: Array<S3Server | AzuriteServer> = [];
  #clients: Array<() => void> = [];
  #tmp: Promise<string> | undefined;
  #commands: Promise<CommandRunner> | undefined;

  /** A scratch dir, removed by {@link close}. */
  tmp(): Promise<string> {
    this.#tmp ??= mkdtemp(join(tmpdir(), 'stratafs-bench-'));
    return this.#tmp;
  }

  /** The helper process that runs the peers' commands (started on first call: call it while preparing, not while measuring). */
  commands(): Promise<CommandRunner> {
    this.#commands ??= CommandRunner.start();
    return this.#commands;
  }

  /** The S3 emulator with bucket `bench` (started on first call). */
  s3(): Promise<S3Env> {
    this.#s3 ??= this.#startS3();
    return this.#s3;
  }

  /** The Azure emulator with container `bench` (started on first call). */
  azure(): Promise<AzureEnv> {
    this.#azure ??= this.#startAzure();
    return this.#azure;
  }

  async #startS3(): Promise<S3Env> {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const [{ S3Client, CreateBucketCommand }, { Upload }] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
    const server = await startS3Server();
    this.#servers.push(server);
    const settings = { endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } };
    const client = new S3Client(settings);
    this.#clients.push(() => client.destroy());
    const bucket = 'bench';
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const put = async (key: string, body: Buffer | Readable): Promise<void> => {
      await new Upload({ client, params: { Bucket: bucket, Key: key, Body: body }, partSize: 16 * 1024 * 1024, queueSize: 4 }).done();
    };
    return { endpoint: server.endpoint, bucket, client, settings, put };
  }

  async #startAzure(): Promise<AzureEnv> {
    const { BlobServiceClient, ContainerSASPermissions } = await import('@azure/storage-blob');
    const server = await startAzurite();
    this.#servers.push(server);
    const container = 'bench';
    const containerClient = BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(container);
    await containerClient.createIfNotExists();
    const put = async (key: string, body: Buffer): Promise<void> => {
      await containerClient.getBlockBlobClient(key).uploadData(body, { blockSize: 8 * 1024 * 1024, concurrency: 4 });
    };
    return {
      blobEndpoint: server.blobEndpoint,
      connectionString: server.connectionString,
      accountName: AZURITE_ACCOUNT.name,
      accountKey: AZURITE_ACCOUNT.key,
      container,
      containerClient,
      put,
      sasUrl: () => containerClient.generateSasUrl({ permissions: ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 6 * 3600_000) }),
    };
  }

  /** Stops what was started and removes the scratch dir. */
  async close(): Promise<void> {
    for (const destroy of this.#clients) destroy();
    if (this.#commands) (await this.#commands.catch(() => undefined))?.close();
    await Promise.allSettled(this.#servers.map((s) => s.stop()));
    if (this.#tmp) await rm(await this.#tmp, { recursive: true, force: true });
  }
}

const MiB = 1024 * 1024;

/** `n` bytes of data no compressor or dedup shortcut can shrink (a 1 MiB random block, stamped per MiB). */
export function testData(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  const block = randomBlock(seed);
  for (let pos = 0, i = 0; pos < n; pos += MiB, i++) {
    block.copy(out, pos, 0, Math.min(MiB, n - pos));
    if (pos + 8 <= n) out.writeDoubleLE(i * 1e6 + seed, pos);
  }
  return out;
}

/** A stream of `n` bytes like {@link testData}, made as it is read (for objects larger than memory wants). */
export function testStream(n: number, seed = 1): Readable {
  const block = randomBlock(seed);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let pos = 0, i = 0; pos < n; pos += MiB, i++) {
      const chunk = Buffer.from(block.subarray(0, Math.min(MiB, n - pos)));
      if (chunk.length >= 8) chunk.writeDoubleLE(i * 1e6 + seed, 0);
      yield chunk;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

function randomBlock(seed: number): Buffer {
  const block = Buffer.allocUnsafe(MiB);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < MiB; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block.writeUInt32LE(x >>> 0, i);
  }
  return block;
}

/** A body as the SDKs return it (Node stream, web stream or async iterable). */
export type Body = Readable | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

/** Copies a body into `target` from `offset`; returns the bytes copied (throws past the end). */
export async function readInto(body: Body, target: Buffer, offset = 0): Promise<number> {
  let pos = offset;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    if (pos + chunk.byteLength > target.length) throw new Error(`body is longer than the ${target.length - offset} bytes expected`);
    target.set(chunk, pos);
    pos += chunk.byteLength;
  }
  return pos - offset;
}

/** A body of `size` bytes in one new Buffer (one allocation of `size`, as `fs.readFile` makes). */
export async function readNew(body: Body, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(size);
  const n = await readInto(body, out);
  if (n !== size) throw new Error(`read ${n} bytes, expected ${size}`);
  return out;
}

/** Reads a body to its end; returns its length. */
export async function drain(body: Body): Promise<number> {
  let n = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) n += chunk.byteLength;
  return n;
}

/** Throws unless `actual === expected` (a benchmark that read the wrong bytes measures nothing). */
export function expectBytes(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new Error(`${what}: got ${actual} bytes, expected ${expected}`);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Bytes as MiB with one decimal. */
export const mib = (n: number): string => (n / MiB).toFixed(1);

export { MiB };
