/**
 * Cold reads of 2,000 small (16 KiB) objects on S3 with 32 in flight, through stratafs with an
 * empty cache (data and metadata) against the raw SDK with the same concurrency; once with the
 * names known up front, once listing the directory first on both sides.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { StrataFS } from '../src/index.js';
import { s3Backend } from './backends.js';
import { eachLimit, expectBytes, readNew, testData } from './env.js';
import type { CaseGroup } from './group.js';
import type { BenchCase } from './harness.js';

const COUNT = 2000;
const SIZE = 16 * 1024;
const IN_FLIGHT = 32;
const DIR = 'small';

/** The small-object cases. */
export const smallObjectsGroup: CaseGroup = {
  name: `${COUNT.toLocaleString('en-US')} objects of 16 KiB on S3 (s3rver)`,
  ids: ['small-objects', 'small-objects-listed'],
  async make(env, wanted) {
    const backend = await s3Backend(env);
    const s3 = await env.s3();
    const names = Array.from({ length: COUNT }, (_, i) => `f${String(i).padStart(5, '0')}.bin`);
    const data = testData(SIZE * 8, 16);
    await eachLimit(names, IN_FLIGHT, (name, i) => backend.put(`${DIR}/${name}`, data.subarray((i % 8) * SIZE, (i % 8 + 1) * SIZE)));
    const fs = new StrataFS();
    await fs.mount('/store', backend.uri, backend.mountOptions);
    const free = (): Promise<void> => fs.free(`/store/${DIR}`, { recursive: true });
    const readAll = (list: string[]): Promise<void> =>
      eachLimit(list, IN_FLIGHT, async (name) => expectBytes((await fs.readFile(`/store/${DIR}/${name}`)).length, SIZE, 'readFile'));
    const sdkAll = (list: string[]): Promise<void> =>
      eachLimit(list, IN_FLIGHT, async (name) => {
        const { body, size } = await backend.sdkGet(`${DIR}/${name}`);
        expectBytes((await readNew(body, size)).length, SIZE, 'GetObject');
      });
    const sdkList = async (): Promise<string[]> => {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${DIR}/`, Delimiter: '/', ContinuationToken: token }));
        for (const o of page.Contents ?? []) out.push(o.Key!.slice(DIR.length + 1));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      expectBytes(out.length, COUNT, 'listed objects');
      return out;
    };
    const cases: BenchCase[] = [
      {
        id: 'small-objects',
        title: `cold read of ${COUNT.toLocaleString('en-US')} small (16 KiB) objects on S3, ${IN_FLIGHT} in flight, names known`,
        runs: 5,
        baseline: { name: `${backend.sdkName} x ${COUNT}, ${IN_FLIGHT} in flight, each into a new Buffer`, run: () => sdkAll(names) },
        candidate: { name: `stratafs readFile x ${COUNT}, ${IN_FLIGHT} in flight, empty cache`, beforeEach: free, run: () => readAll(names) },
        target: { ratio: 0.9, text: '>= 0.9x' },
        note: 'each stratafs run starts with fs.free(recursive): a cold readFile is one GetObject, whose answer is also the file\'s stat',
      },
      {
        id: 'small-objects-listed',
        title: `cold read of ${COUNT.toLocaleString('en-US')} small (16 KiB) objects on S3, ${IN_FLIGHT} in flight, listing the directory first`,
        runs: 5,
        baseline: { name: `ListObjectsV2, then ${backend.sdkName} x ${COUNT}, ${IN_FLIGHT} in flight`, run: async () => sdkAll(await sdkList()) },
        candidate: {
          name: `stratafs readdir, then readFile x ${COUNT}, ${IN_FLIGHT} in flight, empty cache`,
          beforeEach: free,
          run: async () => {
            const list = await fs.readdir(`/store/${DIR}`);
            expectBytes(list.length, COUNT, 'readdir entries');
            await readAll(list);
          },
        },
        target: { ratio: 0.9, text: '>= 0.9x' },
        note: 'the listing gives stratafs each file\'s size and etag, so no stat is needed before each read',
      },
    ];
    return { cases: cases.filter((c) => wanted(c.id!)), close: () => fs.close() };
  },
};
