/**
 * Object storage acceleration: a 64 MiB object on S3 read cold (from the store) and warm (from
 * the cache), with the figures from `stats()`.
 *
 *   npx tsx examples/run.ts s3-acceleration     (starts a local S3 server for you)
 *
 * Settings come from the environment: S3_ENDPOINT (e.g. http://127.0.0.1:4568), S3_BUCKET,
 * AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
 */
import { randomFillSync } from 'node:crypto';
import { StrataFS } from '../src/index.js';

const bucket = process.env.S3_BUCKET ?? 'stratafs-examples';
const fs = new StrataFS({ cache: { memory: { capacity: '256MiB' } } });
await fs.mount('/data', `s3://${bucket}/acceleration`, {
  options: { endpoint: process.env.S3_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true },
});

const size = 64 * 1024 * 1024;
await fs.writeFile('/data/big.bin', randomFillSync(Buffer.alloc(size)), { writeType: 'THROUGH' });
console.log(`wrote /data/big.bin (${size / 1024 / 1024} MiB) straight to S3`);

const time = async (label: string): Promise<void> => {
  const before = fs.stats();
  const start = performance.now();
  const data = await fs.readFile('/data/big.bin');
  const ms = performance.now() - start;
  const after = fs.stats();
  console.log(`${label}: ${data.length} bytes in ${ms.toFixed(0)} ms, ${after.bytesFromStore - before.bytesFromStore} bytes from S3, ${after.bytesFromCache - before.bytesFromCache} from cache`);
};
await time('cold read');
await time('warm read');

const stats = fs.stats();
console.log(`page hits ${stats.hits}, misses ${stats.misses}, store requests ${JSON.stringify(stats.storeRequests)}`);
await fs.rm('/data/big.bin');
await fs.close();
