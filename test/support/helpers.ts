/** Small helpers the tests share. */
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { StrataError } from '../../src/errors.js';

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

/** A stream of `data` in uneven chunks, of unknown length to its reader. */
export function unknownSizeStream(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      const sizes = [65_536, 1_000_003, 7, 300_000];
      for (let at = 0, i = 0; at < data.length; i++) {
        const n = sizes[i % sizes.length]!;
        yield data.subarray(at, at + n);
        at += n;
      }
    })(),
  );
}

/** Everything an error would show a user or a log: message, cause, `util.inspect`, JSON. */
export function everythingShown(error: unknown): string {
  const e = error as Error & { cause?: unknown };
  return [e.message, String(e.cause), inspect(e, { depth: 10, showHidden: true }), JSON.stringify(e)].join('\n');
}

/** The StrataError `promise` rejects with (fails the test when it resolves). */
export async function catchError(promise: Promise<unknown>): Promise<StrataError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StrataError);
    return error as StrataError;
  }
  throw new Error('expected a rejection');
}
