/**
 * Streaming a 2 GiB object on S3 through a 256 MiB disk cache (memory tier off): the peak RSS of
 * a child process that does only that must stay under 300 MiB. The raw SDK streaming the same
 * object in another child is shown for reference (its RSS and time).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { s3Backend } from './backends.js';
import { MiB, testStream } from './env.js';
import type { CaseGroup } from './group.js';
import { childScript } from './child-script.js';

const SIZE = 2048 * MiB;
const KEY = 'big/2GiB.bin';

interface ChildResult {
  mode: string;
  bytes: number;
  ms: number;
  maxRssMiB: number;
  sampledPeakMiB: number;
  rssBeforeMiB: number;
}

/** Runs `stream-rss-child.ts` in a fresh Node process; resolves its report. */
function runChild(job: Record<string, unknown>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, childScript('stream-rss-child'), {
      env: { ...process.env, STREAM_RSS_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as ChildResult);
      else reject(new Error(`stream child exited with ${code}: ${err.trim() || out.trim()}`));
    });
  });
}

/** The 2 GiB streaming case. */
export const streamRssGroup: CaseGroup = {
  name: 'a 2 GiB object on S3 streamed by a child process',
  ids: ['stream-2gib'],
  async make(env) {
    const backend = await s3Backend(env);
    const s3 = await env.s3();
    await s3.put(KEY, testStream(SIZE, 2048));
    const cacheDir = join(await env.tmp(), 'stream-cache');
    await mkdir(cacheDir, { recursive: true });
    const job = { endpoint: s3.endpoint, bucket: s3.bucket, key: KEY, size: SIZE, cacheDir, cacheCapacity: '256MiB' };
    void backend;
    return {
      cases: [
        {
          id: 'stream-2gib',
          title: 'stream a 2 GiB object on S3 through a 256 MiB disk cache (memory tier off), peak RSS',
          candidate: { name: 'createReadStream in a child process', run: () => undefined },
          figure: async () => {
            const sdk = await runChild({ ...job, mode: 'sdk' });
            const ours = await runChild({ ...job, mode: 'stratafs' });
            const mibps = (r: ChildResult): string => (SIZE / MiB / (r.ms / 1000)).toFixed(0);
            return {
              value: Math.round(ours.maxRssMiB),
              unit: 'MiB peak RSS (VmHWM of the whole child process)',
              target: 300,
              higherIsBetter: false,
              detail:
                `stratafs: ${(ours.ms / 1000).toFixed(1)} s (${mibps(ours)} MiB/s), RSS ${ours.rssBeforeMiB.toFixed(0)} MiB before streaming, peak ${ours.maxRssMiB.toFixed(0)} MiB (sampled every 20 ms: ${ours.sampledPeakMiB.toFixed(0)} MiB)\n` +
                `raw SDK GetObject stream, for reference: ${(sdk.ms / 1000).toFixed(1)} s (${mibps(sdk)} MiB/s), RSS ${sdk.rssBeforeMiB.toFixed(0)} MiB before, peak ${sdk.maxRssMiB.toFixed(0)} MiB`,
            };
          },
          target: { ratio: 300, text: '< 300 MiB' },
        },
      ],
    };
  },
};
