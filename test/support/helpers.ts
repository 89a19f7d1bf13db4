/** Small helpers the tests share. */
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { expect } from 'vitest';

/** `n` random bytes. */
export function randomBytes(n: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(n));
}

/** Asserts that `promise` rejects with a StrataError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string; path?: string }> {
  try {
    await promise;
  } catch (error) {
    expect((error as { name?: string }).name).toBe('StrataError');
    expect((error as { code?: string }).code).toBe(code);
    return error as Error & { code: string };
  }
  throw new Error(`expected a StrataError ${code}, but the call succeeded`);
}

/** Reads a whole stream. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A new temp dir and its cleanup. */
export async function tempDir(prefix = 'stratafs-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
