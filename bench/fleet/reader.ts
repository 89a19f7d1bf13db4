/**
 * One process of the fleet benchmark: reads every object of the data set on S3 once, cold, with
 * or without the shared tier, and prints its figures as JSON.
 * argv: s3Endpoint bucket prefix objectCount redisUrl|-
 */
import { StrataFS } from '../../src/index.js';

const [endpoint, bucket, prefix, count, redisUrl] = process.argv.slice(2) as [string, string, string, string, string];
const fs = new StrataFS({
  cache: { memory: { capacity: '512MiB' }, ...(redisUrl !== '-' ? { shared: { url: redisUrl, keyPrefix: `bench-${prefix}:` } } : {}) },
});
await fs.mount('/data', `s3://${bucket}/${prefix}`, {
  options: { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
});
const start = performance.now();
await Promise.all(Array.from({ length: Number(count) }, (_, i) => fs.readFile(`/data/part-${i}.bin`)));
const ms = performance.now() - start;
const stats = fs.stats();
await fs.close();
process.stdout.write(JSON.stringify({ ms, bytesFromStore: stats.bytesFromStore, shared: stats.shared }) + "\n");
