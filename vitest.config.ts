import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Every emulator a test needs is started once per run by a file named
// test/support/*.global-setup.ts and shut down at the end.
// STRATAFS_SETUP=s3,azure limits the run to those setups (e.g. while working on one connector).
const only = process.env.STRATAFS_SETUP?.split(',').filter(Boolean);
const globalSetup = readdirSync('test/support')
  .filter((f) => f.endsWith('.global-setup.ts'))
  .filter((f) => !only || only.includes(f.replace('.global-setup.ts', '')))
  .map((f) => `test/support/${f}`);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
