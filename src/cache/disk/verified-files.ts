/**
 * What a process remembers of the cache files whose checksum it has checked: each file with the
 * signature of the state it was checked in (inode, size, times, link count). A file rewritten,
 * truncated, replaced or removed since has another signature, and is checked again.
 * @module
 */
import type { Stats } from 'node:fs';

/** What identifies one state of a file: changes when it is rewritten, truncated, replaced or removed. */
export function signatureOf(info: Stats): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.nlink}`;
}

/** The files checked by this process (bounded: the oldest is forgotten first). */
export class VerifiedFiles {
  readonly #signatures = new Map<string, string>();

  constructor(private readonly limit = 65_536) {}

  /** True when `file` was checked in the state `signature` names. */
  has(file: string, signature: string): boolean {
    return this.#signatures.get(file) === signature;
  }

  /** Remembers that `file` was checked in the state `signature` names. */
  remember(file: string, signature: string): void {
    this.#signatures.delete(file);
    this.#signatures.set(file, signature);
    if (this.#signatures.size > this.limit) {
      const oldest = this.#signatures.keys().next().value;
      if (oldest !== undefined) this.#signatures.delete(oldest);
    }
  }

  /** Forgets `file` (removed or found damaged). */
  forget(file: string): void {
    this.#signatures.delete(file);
  }
}
