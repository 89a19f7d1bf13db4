/**
 * 100 concurrent readers of one cold 64 MiB object on S3 (each a `createReadStream` read to its
 * end): the bytes fetched from the store over the object's size must be 1.0 — concurrent
 * misses of a page share one request.
 */
import { StrataFS } from '../src/index.js';
import { s3Backend } from './backends.js';
import { drain, expectBytes, MiB, testData } from './env.js';
import type { CaseGroup } from './group.js';

const SIZE = 64 * MiB;
const READERS = 100;
const KEY = 'readers/64MiB.bin';

/** The concurrent-readers case. */
export const concurrentReadersGroup: CaseGroup = {
  name: 'a 64 MiB object on S3 read by 100 streams at once',
  ids: ['concurrent-readers'],
  async make(env) {
    const backend = await s3Backend(env);
    await backend.put(KEY, testData(SIZE, 100));
    const fs = new StrataFS();
    await fs.mount('/store', backend.uri, backend.mountOptions);
    const path = `/store/${KEY}`;
    return {
      cases: [
        {
          id: 'concurrent-readers',
          title: `${READERS} concurrent readers of one cold 64 MiB object on S3`,
          candidate: { name: 'createReadStream x 100', run: () => undefined },
          figureRuns: 3,
          figure: async () => {
            await fs.free(path);
            const before = fs.stats();
            const start = performance.now();
            const sizes = await Promise.all(Array.from({ length: READERS }, () => drain(fs.createReadStream(path))));
            const ms = performance.now() - start;
            for (const n of sizes) expectBytes(n, SIZE, 'stream');
            const after = fs.stats();
            const reads = (after.storeRequests.read ?? 0) - (before.storeRequests.read ?? 0);
            const stats = (after.storeRequests.stat ?? 0) - (before.storeRequests.stat ?? 0);
            return {
              value: (after.bytesFromStore - before.bytesFromStore) / SIZE,
              unit: 'x the object size fetched from the store',
              target: 1,
              higherIsBetter: false,
              detail: `last run: ${READERS} x 64 MiB streamed in ${ms.toFixed(0)} ms with ${reads} ranged reads and ${stats} stat calls to the store`,
            };
          },
          target: { ratio: 1, text: 'bytes from store / size = 1.0' },
        },
      ],
      close: () => fs.close(),
    };
  },
};
