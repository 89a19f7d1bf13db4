/**
 * One namespace over S3, Azure Blob and a local directory, with a copy across mounts.
 *
 *   npx tsx examples/run.ts one-namespace      (starts local S3 and Azure emulators for you)
 *
 * Settings from the environment: S3_ENDPOINT, S3_BUCKET, AZURE_STORAGE_CONNECTION_STRING,
 * AZURE_CONTAINER.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrataFS } from '../src/index.js';

const scratch = await mkdtemp(join(tmpdir(), 'stratafs-namespace-'));
const fs = new StrataFS();
await fs.mount('/s3', `s3://${process.env.S3_BUCKET ?? 'stratafs-examples'}/namespace`, {
  options: { endpoint: process.env.S3_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true },
});
await fs.mount('/azure', `azure://${process.env.AZURE_CONTAINER ?? 'stratafs-examples'}/namespace`, {
  options: { connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING },
});
await fs.mount('/local', `file://${scratch}`);

for (const m of fs.mounts()) console.log(`${m.path.padEnd(7)} -> ${m.uri}`);
console.log('root:', await fs.readdir('/'));

await fs.writeFile('/s3/raw/events-1.json', JSON.stringify([{ id: 1, kind: 'click' }]));
await fs.writeFile('/s3/raw/events-2.json', JSON.stringify([{ id: 2, kind: 'view' }]));
await fs.copy('/s3/raw', '/azure/raw', { recursive: true });
await fs.copy('/azure/raw', '/local/raw', { recursive: true });
console.log('copied s3 -> azure -> local:', await fs.readdir('/local/raw'));
console.log('azure copy:', (await fs.readFile('/azure/raw/events-2.json')).toString());

try {
  await fs.rename('/s3/raw/events-1.json', '/azure/events-1.json');
} catch (error) {
  console.log('rename across mounts:', (error as { code: string }).code);
}
await fs.rm('/s3/raw', { recursive: true });
await fs.rm('/azure/raw', { recursive: true });
await fs.close();
await rm(scratch, { recursive: true, force: true });
