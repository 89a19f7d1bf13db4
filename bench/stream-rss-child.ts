/**
 * Child process of the 2 GiB streaming case: streams one object to its end, either through
 * stratafs (`createReadStream` over a disk-only cache) or with the raw SDK, and prints one JSON
 * line with its peak RSS. Run by `bench/stream-rss.ts`, so no other case's memory counts.
 *
 * Input (environment): STREAM_RSS_JOB = JSON `{ mode, endpoint, bucket, key, size, cacheDir, cacheCapacity }`.
 */
import { readFileSync } from 'node:fs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { StrataFS } from '../src/index.js';
import { S3RVER_CREDENTIALS } from '../test/support/s3-server.js';

interface Job {
  mode: 'stratafs' | 'sdk';
  endpoint: string;
  bucket: string;
  key: string;
  size: number;
  cacheDir: string;
  cacheCapacity: string;
}

const job = JSON.parse(process.env.STREAM_RSS_JOB ?? '{}') as Job;
const settings = { endpoint: job.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } };
const MiB = 1024 * 1024;

let sampledPeak = 0;
const sample = (): void => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
};
const timer = setInterval(sample, 20);

/**
 * Linux: VmHWM, the peak RSS of this process's own memory (reset at exec). Not
 * `process.resourceUsage().maxRSS`: for a spawned child it can carry the parent's RSS at fork
 * time. Elsewhere: the peak of the samples.
 */
function peakRssMiB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // not Linux
  }
  return sampledPeak / MiB;
}

let stream: Readable;
let close: () => Promise<void>;
if (job.mode === 'stratafs') {
  const fs = new StrataFS({ cache: { memory: false, disk: { dir: job.cacheDir, capacity: job.cacheCapacity } } });
  await fs.mount('/store', `s3://${job.bucket}`, { options: settings });
  await fs.stat(`/store/${job.key}`);
  stream = fs.createReadStream(`/store/${job.key}`);
  close = () => fs.close();
} else {
  const client = new S3Client(settings);
  const out = await client.send(new GetObjectCommand({ Bucket: job.bucket, Key: job.key }));
  stream = out.Body as Readable;
  close = async () => client.destroy();
}
sample();
const rssBefore = process.memoryUsage.rss();
const start = performance.now();
let bytes = 0;
for await (const chunk of stream as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
const ms = performance.now() - start;
sample();
clearInterval(timer);
await close();
if (bytes !== job.size) throw new Error(`streamed ${bytes} bytes, expected ${job.size}`);
const maxRssMiB = peakRssMiB();
console.log(JSON.stringify({ mode: job.mode, bytes, ms, maxRssMiB, sampledPeakMiB: sampledPeak / MiB, rssBeforeMiB: rssBefore / MiB }));
