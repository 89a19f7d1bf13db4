/**
 * Cold full read of a 64 MiB object from a local S3 server (s3rver on loopback): `S3Store.read`
 * against the raw SDK's `GetObject` on the same server, in the same run. Prints the median of 5
 * reads of each and their ratio (SDK time / store time: 1.0x means "as fast as the SDK").
 *
 * Run from the repository root: `npx tsx bench/s3-cold-read.ts`
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Store } from '../src/store/s3/index.js';
import { S3RVER_CREDENTIALS, startS3Server } from '../test/support/s3-server.js';

const SIZE = 64 * 1024 * 1024;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BUCKET = 'bench';
const KEY = 'cold/64MiB.bin';

async function drain(stream: Readable | AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  return bytes;
}

async function timed(fn: () => Promise<number>): Promise<number> {
  const start = process.hrtime.bigint();
  const bytes = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (bytes !== SIZE) throw new Error(`read ${bytes} bytes, expected ${SIZE}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // the SDK's Node 22 notice
  const server = await startS3Server();
  const settings = { endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } };
  const sdk = new S3Client(settings);
  const store = new S3Store({ bucket: BUCKET, ...settings });
  try {
    await sdk.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: randomBytes(SIZE) }));

    const viaStore = (): Promise<number> => timed(async () => drain(await store.read(KEY)));
    const viaSdk = (): Promise<number> =>
      timed(async () => {
        const out = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
        return drain(out.Body as Readable);
      });

    // One untimed read each: both clients open their connection and load their code the same way.
    await viaStore();
    await viaSdk();
    const storeMs: number[] = [];
    const sdkMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither side always reads right after the other.
      if (round % 2 === 0) {
        storeMs.push(await viaStore());
        sdkMs.push(await viaSdk());
      } else {
        sdkMs.push(await viaSdk());
        storeMs.push(await viaStore());
      }
    }
    const mibps = (ms: number): string => ((SIZE / 1024 / 1024) / (ms / 1000)).toFixed(1);
    const s = median(storeMs);
    const r = median(sdkMs);
    console.log(`cold full read of 64 MiB from s3rver on 127.0.0.1, median of ${ROUNDS}`);
    console.log(`  S3Store.read      ${s.toFixed(1)} ms  (${mibps(s)} MiB/s)  runs: ${storeMs.map((v) => v.toFixed(0)).join(', ')}`);
    console.log(`  SDK GetObject     ${r.toFixed(1)} ms  (${mibps(r)} MiB/s)  runs: ${sdkMs.map((v) => v.toFixed(0)).join(', ')}`);
    console.log(`  ratio (SDK time / store time): ${(r / s).toFixed(2)}x`);
  } finally {
    await store.close();
    sdk.destroy();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
