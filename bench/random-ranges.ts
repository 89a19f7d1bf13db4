/**
 * 1,000 random 64 KiB ranges of a 256 MiB object on S3, warm (every page in the memory tier),
 * read through an open handle into one reused buffer, against the same ranges fetched with
 * ranged `GetObject` calls into the same kind of buffer.
 */
import { StrataFS } from '../src/index.js';
import { s3Backend } from './backends.js';
import { expectBytes, MiB, readInto, testData } from './env.js';
import type { CaseGroup } from './group.js';
import type { StrataFileHandle } from '../src/index.js';

const SIZE = 256 * MiB;
const RANGE = 64 * 1024;
const COUNT = 1000;
const KEY = 'ranges/256MiB.bin';

/** Deterministic random offsets (xorshift), the same for every side and every run. */
function offsets(count: number, max: number): number[] {
  let x = 0x9e3779b9;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % max;
  });
}

/** The random-ranges case. */
export const randomRangesGroup: CaseGroup = {
  name: 'a 256 MiB object on S3 (s3rver)',
  ids: ['random-ranges'],
  async make(env) {
    const backend = await s3Backend(env);
    await backend.put(KEY, testData(SIZE, 256));
    const fs = new StrataFS({ cache: { memory: { capacity: '512MiB' } } });
    await fs.mount('/store', backend.uri, backend.mountOptions);
    const positions = offsets(COUNT, SIZE - RANGE);
    const buffer = Buffer.alloc(RANGE);
    let handle: StrataFileHandle | undefined;
    return {
      cases: [
        {
          id: 'random-ranges',
          title: '1,000 random 64 KiB ranges in a 256 MiB object on S3, warm',
          runs: 5,
          baseline: {
            name: `${COUNT} ranged ${backend.sdkName} calls, one after another, into a reused buffer`,
            run: async () => {
              for (const p of positions) expectBytes(await readInto((await backend.sdkGet(KEY, { start: p, end: p + RANGE })).body, buffer), RANGE, 'ranged get');
            },
          },
          candidate: {
            name: `${COUNT} handle.read calls, one after another, into a reused buffer (memory tier)`,
            before: async () => {
              await fs.readFile(`/store/${KEY}`);
              handle = await fs.open(`/store/${KEY}`);
            },
            run: async () => {
              for (const p of positions) expectBytes((await handle!.read(buffer, 0, RANGE, p)).bytesRead, RANGE, 'handle.read');
            },
          },
          target: { ratio: 50, text: '>= 50x faster' },
        },
      ],
      close: async () => {
        await handle?.close();
        await fs.close();
      },
    };
  },
};
