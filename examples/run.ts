/**
 * Runs one example with the local emulators it needs, started for the run and stopped after:
 *
 *   npx tsx examples/run.ts s3-acceleration | one-namespace | parquet-columns | demo | custom-connector | load-progress
 */
import { spawn } from 'node:child_process';
import { startAzurite } from '../test/support/azurite-server.js';
import { startS3Server } from '../test/support/s3-server.js';
import { exampleEnvironment } from './environment.js';

const needs: Record<string, { s3?: boolean; azure?: boolean }> = {
  demo: {},
  'custom-connector': {},
  'load-progress': {},
  's3-acceleration': { s3: true },
  'parquet-columns': { s3: true },
  'one-namespace': { s3: true, azure: true },
};
const name = process.argv[2] ?? '';
if (!(name in needs)) {
  console.error(`usage: npx tsx examples/run.ts ${Object.keys(needs).join('|')}`);
  process.exit(2);
}
const s3 = needs[name]!.s3 ? await startS3Server() : undefined;
const azure = needs[name]!.azure ? await startAzurite() : undefined;
let code = 1;
try {
  const env = await exampleEnvironment({ s3: s3?.endpoint, azureConnectionString: azure?.connectionString });
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], { stdio: 'inherit', env: { ...process.env, ...env } });
  code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
} finally {
  await s3?.stop();
  await azure?.stop();
}
process.exit(code);
