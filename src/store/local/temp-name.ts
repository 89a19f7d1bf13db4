/**
 * Names of the temporary files the local connector writes before renaming them into place.
 * They live next to their target and are never listed.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

const SUFFIX = '.stratafs-tmp';
const TEMP_NAME = /^\..*\.[0-9a-f]{16}\.stratafs-tmp$/s;

/** Longest part of the target's name kept in a temp name, in bytes (names stop at 255 bytes). */
const MAX_BASE_BYTES = 120;

/** A fresh temp path in the same directory as `target`: `.<base>.<random>.stratafs-tmp`. */
export function tempPathFor(target: string): string {
  let base = basename(target);
  while (Buffer.byteLength(base) > MAX_BASE_BYTES) base = [...base].slice(0, -1).join('');
  return join(dirname(target), `.${base}.${randomBytes(8).toString('hex')}${SUFFIX}`);
}

/** True for a name made by {@link tempPathFor}: hidden from listings, refused as a key. */
export function isTempName(name: string): boolean {
  return name.endsWith(SUFFIX) && TEMP_NAME.test(name);
}
