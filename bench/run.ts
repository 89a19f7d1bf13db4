/**
 * `npm run bench`: every case of the performance table, side by side with its baseline measured
 * in the same run. Starts its own s3rver and Azurite on 127.0.0.1 and creates the data.
 *
 *   npm run bench                          all cases (about 5 minutes on 2 cores)
 *   npm run bench -- --only s3-cold,stat   only these cases (an exact id, or part of ids/titles)
 *   npm run bench -- --json results.json   also write the figures as JSON
 *   npm run bench -- --list                the case ids
 */
import { cacheGroup } from './cache-cases.js';
import { azureObjectRead, s3ObjectRead } from './object-read.js';
import { concurrentReadersGroup } from './concurrent-readers.js';
import { listingGroup } from './listing.js';
import { parquetGroup } from './parquet.js';
import { randomRangesGroup } from './random-ranges.js';
import { runGroups } from './runner.js';
import { smallObjectsGroup } from './small-objects.js';
import { streamRssGroup } from './stream-rss.js';

const groups = [
  cacheGroup,
  s3ObjectRead,
  azureObjectRead,
  randomRangesGroup,
  parquetGroup,
  smallObjectsGroup,
  listingGroup,
  concurrentReadersGroup,
  streamRssGroup,
];

if (process.argv.includes('--list')) {
  for (const g of groups) console.log(`${g.name}:\n  ${g.ids.join('\n  ')}`);
} else {
  await runGroups(groups);
}
