/**
 * Every example runs, against the embedded defaults or the emulators the tests started, so the
 * examples cannot rot.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { exampleEnvironment } from '../examples/environment.js';

const run = promisify(execFile);
let env: Record<string, string>;

describe('examples', () => {
  beforeAll(async () => {
    env = await exampleEnvironment({ s3: inject('s3Endpoint'), azureConnectionString: inject('azuriteConnectionString') });
  });

  const example = async (name: string): Promise<string> => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], { env: { ...process.env, ...env }, timeout: 120_000 });
    return stdout;
  };

  it('demo', async () => {
    const out = await example('demo');
    expect(out).toContain('mounted memory:// at / and a temp directory at /local');
    expect(out).toMatch(/day-2\.csv twice \(cold, then warm\): \d+ bytes each, identical: true/);
    expect(out).toContain('a rename across mounts is refused: EXDEV');
  });

  it('custom connector', async () => {
    const out = await example('custom-connector');
    expect(out).toContain("'reports/archive/q2.txt'");
    expect(out).toContain("'reports/drafts'");
    expect(out).toContain('57');
  });

  it('load with progress', async () => {
    const out = await example('load-progress');
    expect(out).toContain('loaded 20/20 files');
    expect(out).toContain('read after load: 0 bytes from the store');
  });

  it('S3 acceleration', async () => {
    const out = await example('s3-acceleration');
    expect(out).toMatch(/cold read: 67108864 bytes in \d+ ms, 67108864 bytes from S3/);
    expect(out).toMatch(/warm read: 67108864 bytes in \d+ ms, 0 bytes from S3, 67108864 from cache/);
  });

  it('one namespace over S3, Azure and local', async () => {
    const out = await example('one-namespace');
    expect(out).toContain("copied s3 -> azure -> local: [ 'events-1.json', 'events-2.json' ]");
    expect(out).toContain('rename across mounts: EXDEV');
  });

  it('Parquet columns over open()', async () => {
    const out = await example('parquet-columns');
    const cold = /cold: 200000 rows x 3 columns in \d+ ms; (\d+) of (\d+) bytes from S3/.exec(out);
    const warm = /warm: 200000 rows x 3 columns in \d+ ms; (\d+) of \d+ bytes from S3/.exec(out);
    expect(cold).not.toBeNull();
    expect(Number(cold![1])).toBeLessThan(Number(cold![2])); // only the footer and 3 of 6 column chunks
    expect(warm?.[1]).toBe('0');
  });
});
