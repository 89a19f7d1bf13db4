/**
 * `npm run bench:shared`: eight processes read the same 256 MiB data set cold from S3 (s3rver),
 * without and then with the shared Redis tier: bytes the store served and wall time, side by
 * side. Starts its own s3rver and redis-server.
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3Server, S3RVER_CREDENTIALS } from '../test/support/s3-server.js';
import { startRedis } from '../test/support/redis-server.js';
import { childScript } from './child-script.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const run = promisify(execFile);
const PROCESSES = 8;
const OBJECTS = 16;
const OBJECT_SIZE = 16 * 1024 * 1024; // 16 x 16 MiB = 256 MiB
const bucket = 'fleet-bench';

const s3 = await startS3Server();
const redis = await startRedis();
try {
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const body = Buffer.allocUnsafe(OBJECT_SIZE);
  for (let i = 0; i < OBJECTS; i++) await client.send(new PutObjectCommand({ Bucket: bucket, Key: `data/part-${i}.bin`, Body: randomFillSync(body) }));
  client.destroy();
  const total = OBJECTS * OBJECT_SIZE;
  console.log(`data set: ${OBJECTS} objects x ${OBJECT_SIZE / 2 ** 20} MiB = ${total / 2 ** 20} MiB on s3rver; ${PROCESSES} processes read all of it, cold\n`);
  console.log('| shared tier | wall ms (slowest process) | bytes from store (all processes) | store bytes / data set |');
  console.log('|---|---:|---:|---:|');
  for (const [label, url] of [['off', '-'], ['on (Redis)', redis.url]] as const) {
    const prefix = 'data';
    const start = performance.now();
    const reports = await Promise.all(
      Array.from({ length: PROCESSES }, async () => {
        const { stdout } = await run(process.execPath, [...childScript('fleet/reader'), s3.endpoint, bucket, prefix, String(OBJECTS), url], { maxBuffer: 1 << 20 });
        return JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number; bytesFromStore: number };
      }),
    );
    const wall = performance.now() - start;
    const fromStore = reports.reduce((n, r) => n + r.bytesFromStore, 0);
    console.log(`| ${label} | ${wall.toFixed(0)} | ${fromStore.toLocaleString('en-US')} | ${(fromStore / total).toFixed(2)}x |`);
    if (process.argv.includes('--verbose')) for (const r of reports) console.error(JSON.stringify(r));
  }
} finally {
  await redis.stop();
  await s3.stop();
}
