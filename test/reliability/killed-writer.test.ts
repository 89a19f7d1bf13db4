/**
 * A process killed in the middle of a write leaves the old object, never a partial one: on a
 * local directory (temp file + rename) and on S3 (a multipart upload that never completes).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { TEST_BUCKET, ensureBucket, freshPrefix, s3ClientConfig } from '../support/s3.js';
import { tempDir } from '../support/helpers.js';

/** Runs the writer child until it is streaming, then SIGKILLs it. */
async function killMidWrite(uri: string, options: Record<string, unknown>, path: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/fixtures/killed-writer.ts', uri, JSON.stringify(options), path], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('writing') && resolve());
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) before it was killed`)));
  });
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}

describe('a writer killed mid-upload', () => {
  it('leaves the old local file, and no visible temp file', async () => {
    const dir = await tempDir('stratafs-killed-');
    try {
      await writeFile(join(dir.dir, 'obj.bin'), 'old content');
      await killMidWrite(`file://${dir.dir}`, {}, '/x/obj.bin');
      expect(await readFile(join(dir.dir, 'obj.bin'), 'utf8')).toBe('old content');
      const fs = new StrataFS();
      await fs.mount('/x', `file://${dir.dir}`);
      expect(await fs.readdir('/x')).toEqual(['obj.bin']);
      expect((await fs.readFile('/x/obj.bin')).toString()).toBe('old content');
      await fs.close();
      expect((await readdir(dir.dir)).filter((n) => n !== 'obj.bin').every((n) => n.endsWith('.stratafs-tmp'))).toBe(true);
    } finally {
      await dir.cleanup();
    }
  });

  it('leaves the old S3 object (the multipart upload never completes)', async () => {
    await ensureBucket();
    const prefix = freshPrefix();
    const { endpoint, region, forcePathStyle, credentials } = s3ClientConfig();
    const options = { endpoint, region, forcePathStyle, credentials };
    const fs = new StrataFS();
    await fs.mount('/x', `s3://${TEST_BUCKET}/${prefix}`, { options });
    await fs.writeFile('/x/obj.bin', 'old content');
    await killMidWrite(`s3://${TEST_BUCKET}/${prefix}`, options, '/x/obj.bin');
    await fs.free('/x/obj.bin');
    expect((await fs.readFile('/x/obj.bin')).toString()).toBe('old content');
    await fs.close();
  });
});
