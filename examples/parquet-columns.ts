/**
 * Reading 3 columns of a Parquet file on S3 with hyparquet over `open()` — the random-access
 * handle reads only the footer and the column chunks, page-cached — cold, then warm.
 *
 *   npx tsx examples/run.ts parquet-columns    (starts a local S3 server for you)
 *
 * Settings from the environment: S3_ENDPOINT, S3_BUCKET, AWS_REGION.
 */
import { parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { StrataFS, type StrataFileHandle } from '../src/index.js';

const fs = new StrataFS({ cache: { pageSize: '64KiB' } });
await fs.mount('/lake', `s3://${process.env.S3_BUCKET ?? 'stratafs-examples'}/lake`, {
  options: { endpoint: process.env.S3_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true },
});

// A table of 200,000 rows and 7 columns of (pseudo-random) measurements, written once.
const rows = 200_000;
let seed = 42;
const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const column = (f: (i: number) => number): number[] => Array.from({ length: rows }, (_, i) => f(i));
const table = parquetWriteBuffer({
  columnData: [
    { name: 'trip_id', data: column((i) => i), type: 'INT32' },
    { name: 'distance', data: column(() => random() * 30), type: 'DOUBLE' },
    { name: 'fare', data: column(() => Math.round(random() * 8000) / 100), type: 'DOUBLE' },
    { name: 'tip', data: column(() => random() * 20), type: 'DOUBLE' },
    { name: 'duration', data: column(() => random() * 3600), type: 'DOUBLE' },
    { name: 'pickup_lat', data: column(() => 40 + random()), type: 'DOUBLE' },
    { name: 'pickup_lon', data: column(() => -74 + random()), type: 'DOUBLE' },
  ],
});
await fs.writeFile('/lake/trips.parquet', Buffer.from(table), { writeType: 'THROUGH' });

/** hyparquet's AsyncBuffer over a stratafs handle: each slice is a ranged, page-cached read. */
const asAsyncBuffer = (handle: StrataFileHandle): AsyncBuffer => ({
  byteLength: handle.size,
  slice: async (start, end) => {
    const bytes = await handle.readRange(start, (end ?? handle.size) - start);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  },
});

for (const label of ['cold', 'warm']) {
  const before = fs.stats();
  const start = performance.now();
  const handle = await fs.open('/lake/trips.parquet');
  const result = await parquetReadObjects({ file: asAsyncBuffer(handle), columns: ['distance', 'fare', 'tip'] });
  await handle.close();
  const after = fs.stats();
  const total = result.reduce((sum, row) => sum + Number(row.fare), 0).toFixed(2);
  console.log(
    `${label}: ${result.length} rows x 3 columns in ${(performance.now() - start).toFixed(0)} ms; ` +
      `${after.bytesFromStore - before.bytesFromStore} of ${handle.size} bytes from S3; fare total ${total}`,
  );
}
await fs.rm('/lake/trips.parquet');
await fs.close();
