/**
 * `readdir` of a 10,000-entry directory on S3: served from the metadata cache against the same
 * `readdir` on a mount with `syncInterval: 0` (every call lists through the connector), and the
 * raw SDK listing as a peer.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { StrataFS } from '../src/index.js';
import { s3Backend } from './backends.js';
import { eachLimit, expectBytes } from './env.js';
import type { CaseGroup } from './group.js';

const COUNT = 10_000;
const DIR = 'dir10k';

/** The readdir case. */
export const listingGroup: CaseGroup = {
  name: `a directory of ${COUNT.toLocaleString('en-US')} objects on S3 (s3rver)`,
  ids: ['readdir'],
  async make(env) {
    const backend = await s3Backend(env);
    const s3 = await env.s3();
    const names = Array.from({ length: COUNT }, (_, i) => `e${String(i).padStart(5, '0')}`);
    const one = Buffer.from('x');
    await eachLimit(names, 32, (name) => backend.put(`${DIR}/${name}`, one));
    const fs = new StrataFS();
    await fs.mount('/cached', backend.uri, backend.mountOptions);
    await fs.mount('/uncached', backend.uri, { ...backend.mountOptions, syncInterval: 0 });
    const list = async (root: string): Promise<void> => expectBytes((await fs.readdir(`${root}/${DIR}`)).length, COUNT, 'readdir entries');
    return {
      cases: [
        {
          id: 'readdir',
          title: `cached readdir of a ${COUNT.toLocaleString('en-US')}-entry directory on S3`,
          runs: 3,
          baseline: { name: 'readdir through the connector (mount with syncInterval 0: ListObjectsV2 every call)', run: () => list('/uncached') },
          candidate: { name: 'readdir from the metadata cache', before: () => list('/cached'), run: () => list('/cached') },
          peers: [
            {
              name: 'raw SDK ListObjectsV2 pages (keys only, no sorting)',
              run: async () => {
                let n = 0;
                let token: string | undefined;
                do {
                  const page = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${DIR}/`, Delimiter: '/', ContinuationToken: token }));
                  n += page.Contents?.length ?? 0;
                  token = page.IsTruncated ? page.NextContinuationToken : undefined;
                } while (token);
                expectBytes(n, COUNT, 'listed keys');
              },
            },
          ],
          target: { ratio: 50, text: '>= 50x faster' },
        },
      ],
      close: () => fs.close(),
    };
  },
};
