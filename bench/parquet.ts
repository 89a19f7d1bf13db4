/**
 * A columnar query on S3: 3 of the 12 columns of a ~200 MiB Parquet file, read with hyparquet
 * over `fs.open()` (footer, then the column chunks by range), cold then warm, against the same
 * reads made with raw SDK ranged `GetObject` calls (after a `HeadObject` for the size, as
 * `open()` makes a stat).
 *
 * Two figures per state: the reads of the query alone (hyparquet parses the footer; the column
 * chunks it would fetch are fetched, all at once as hyparquet does) and the whole query with
 * hyparquet decoding the columns, whose decoding time is the same on both sides.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { StrataFS } from '../src/index.js';
import { s3Backend } from './backends.js';
import { expectBytes, mib, readNew } from './env.js';
import type { CaseGroup } from './group.js';
import type { BenchCase, Measure } from './harness.js';

const KEY = 'lake/trips.parquet';
const COLUMNS = 12;
const ROWS = 2_200_000;
const ROW_GROUP = 512 * 1024;
const QUERY = ['c1', 'c5', 'c9'];
const PAGE_SIZE = '256KiB';

/** A Parquet file of random doubles, PLAIN and uncompressed, so its size is what it holds (~200 MiB). */
function makeTable(): Uint8Array {
  return new Uint8Array(writeTable());
}

function writeTable(): ArrayBuffer {
  let x = 0x2545f491;
  const columnData = Array.from({ length: COLUMNS }, (_, c) => {
    const data = new Float64Array(ROWS);
    for (let i = 0; i < ROWS; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      data[i] = (x >>> 0) / 4096 + c;
    }
    return { name: `c${c}`, data, type: 'DOUBLE' as const, encoding: 'PLAIN' as const, statistics: false };
  });
  return parquetWriteBuffer({ columnData, rowGroupSize: ROW_GROUP, codec: 'UNCOMPRESSED', statistics: false });
}

/** The byte ranges of the query's column chunks, as hyparquet plans them (one fetch per chunk). */
function chunkRanges(metadata: FileMetaData, columns: string[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta || !columns.includes(meta.path_in_schema[0]!)) continue;
      const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
      ranges.push([start, start + Number(meta.total_compressed_size)]);
    }
  }
  return ranges;
}

/** An ArrayBuffer holding exactly `bytes` (no copy when the Buffer owns its whole ArrayBuffer). */
function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The reads of the query: footer through hyparquet, then every column chunk at once. Resolves the bytes of the chunks. */
async function queryReads(file: AsyncBuffer): Promise<number> {
  const metadata = await parquetMetadataAsync(file);
  const chunks = await Promise.all(chunkRanges(metadata, QUERY).map(([start, end]) => file.slice(start, end)));
  return chunks.reduce((n, c) => n + c.byteLength, 0);
}

/** The whole query: hyparquet reads and decodes the 3 columns; resolves the sum of one of them. */
async function query(file: AsyncBuffer): Promise<number> {
  let rows = 0;
  await parquetRead({
    file,
    columns: QUERY,
    onChunk: (chunk) => {
      if (chunk.columnName === QUERY[0]) rows += chunk.columnData.length;
    },
  });
  expectBytes(rows, ROWS, 'rows of the query');
  return rows;
}

/** The Parquet cases. */
export const parquetGroup: CaseGroup = {
  name: `a ~200 MiB Parquet file on S3 (${COLUMNS} DOUBLE columns, ${ROWS.toLocaleString('en-US')} rows, row groups of ${ROW_GROUP.toLocaleString('en-US')})`,
  ids: ['parquet-cold', 'parquet-warm', 'parquet-query-cold', 'parquet-query-warm'],
  async make(env, wanted) {
    const backend = await s3Backend(env);
    const s3 = await env.s3();
    const table = makeTable();
    const size = table.byteLength;
    await backend.put(KEY, Buffer.from(table.buffer, table.byteOffset, table.byteLength));
    const fs = new StrataFS({ cache: { pageSize: PAGE_SIZE, memory: { capacity: '512MiB' } } });
    await fs.mount('/store', backend.uri, backend.mountOptions);
    const path = `/store/${KEY}`;

    const metadata = await parquetMetadataAsync({ byteLength: size, slice: async (s, e) => table.slice(s, e).buffer });
    const ranges = chunkRanges(metadata, QUERY);
    const queryBytes = ranges.reduce((n, [s, e]) => n + e - s, 0);
    const expectRead = (n: number): void => expectBytes(n, queryBytes, 'bytes of the column chunks');

    /** Raw SDK: HeadObject for the size, then ranged GetObject per slice. */
    const sdkFile = async (): Promise<AsyncBuffer> => {
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: KEY }));
      const byteLength = head.ContentLength ?? 0;
      return {
        byteLength,
        slice: async (start, end = byteLength) => {
          const { body } = await backend.sdkGet(KEY, { start, end });
          return arrayBufferOf(await readNew(body, end - start));
        },
      };
    };
    /** stratafs: `open()`, each slice a `readRange` (page-cached). */
    const withHandle = async <T>(fn: (file: AsyncBuffer) => Promise<T>): Promise<T> => {
      const handle = await fs.open(path);
      try {
        return await fn({ byteLength: handle.size, slice: async (start, end = handle.size) => arrayBufferOf(await handle.readRange(start, end - start)) });
      } finally {
        await handle.close();
      }
    };
    const sdkReads: Measure = { name: 'raw SDK: HeadObject + ranged GetObject per slice', run: async () => expectRead(await queryReads(await sdkFile())) };
    const sdkQuery: Measure = { name: 'raw SDK: HeadObject + ranged GetObject per slice, hyparquet decoding', run: async () => query(await sdkFile()) };
    const inMemory: Measure = {
      name: 'floor: hyparquet decoding over the bytes already in memory (no I/O)',
      run: () => query({ byteLength: size, slice: async (s, e) => table.slice(s, e).buffer }),
    };
    const readsFloor: Measure = {
      name: 'floor: the same slices copied into new ArrayBuffers from memory (no I/O)',
      run: async () => expectRead(await queryReads({ byteLength: size, slice: async (s, e) => table.slice(s, e).buffer })),
    };
    const free = (): Promise<void> => fs.free(path);
    const warm = async (): Promise<void> => void (await withHandle(queryReads));
    const spec = `${QUERY.length} of ${COLUMNS} columns: ${ranges.length} column chunks, ${mib(queryBytes)} MiB of ${mib(size)} MiB; page size ${PAGE_SIZE}`;

    const cases: BenchCase[] = [
      {
        id: 'parquet-cold',
        title: 'columnar query on S3, cold: the reads (footer + column chunks by range, hyparquet over open())',
        runs: 15, // each run takes a fraction of a second: the median of 5 moved by 10% from run to run
        baseline: sdkReads,
        candidate: { name: 'stratafs open() + readRange per slice, empty cache', beforeEach: free, run: async () => expectRead(await withHandle(queryReads)) },
        target: { ratio: 0.9, text: '>= 0.9x' },
        note: spec,
      },
      {
        id: 'parquet-warm',
        title: 'columnar query on S3, warm: the reads',
        runs: 15, // each run takes a fraction of a second: the median of 5 moved by 10% from run to run
        baseline: sdkReads,
        candidate: { name: 'stratafs open() + readRange per slice, memory tier', before: warm, run: async () => expectRead(await withHandle(queryReads)) },
        peers: [readsFloor],
        target: { ratio: 20, text: '>= 20x faster' },
        note: `${spec}; every side allocates the slices anew (hyparquet keeps them): the floor row bounds this ratio`,
      },
      {
        id: 'parquet-query-cold',
        title: 'columnar query on S3, cold: the whole query (reads + hyparquet decoding the 3 columns)',
        runs: 5,
        baseline: sdkQuery,
        candidate: { name: 'stratafs open() + readRange per slice, hyparquet decoding, empty cache', beforeEach: free, run: () => withHandle(query) },
        peers: [inMemory],
        target: { ratio: 0.9, text: '>= 0.9x' },
        note: 'decoding takes the same time on both sides',
      },
      {
        id: 'parquet-query-warm',
        title: 'columnar query on S3, warm: the whole query (reads + hyparquet decoding the 3 columns)',
        runs: 5,
        baseline: sdkQuery,
        candidate: { name: 'stratafs open() + readRange per slice, hyparquet decoding, memory tier', before: warm, run: () => withHandle(query) },
        peers: [inMemory],
        target: { ratio: 20, text: '>= 20x faster' },
        note: 'decoding takes the same time on both sides and bounds this ratio: see the floor row',
      },
    ];
    return { cases: cases.filter((c) => wanted(c.id!)), close: () => fs.close() };
  },
};
