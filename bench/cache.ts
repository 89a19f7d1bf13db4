/**
 * `npm run bench:cache`: the cache's hot paths against the plain memory and file-system work
 * they stand for, measured in the same run (`--only NAME`, `--json FILE` as for `npm run bench`).
 */
import { cacheGroup } from './cache-cases.js';
import { runGroups } from './runner.js';

await runGroups([cacheGroup]);
