/**
 * Validation of the `mounts` section of a config.
 * @module
 */
import { invalid } from '../errors.js';
import { READ_TYPES, WRITE_TYPES, type MountOptions } from '../options.js';
import { normalizePath } from '../path.js';
import { memberPath } from './env.js';

/** The keys a mount object may have. */
export const MOUNT_KEYS = ['uri', 'readOnly', 'readType', 'writeType', 'syncInterval', 'options'] as const;

/** One validated mount: its normalised mount point, its URI and its mount options. */
export type ValidatedMount = [path: string, mount: { uri: string; options: MountOptions }];

/**
 * Checks `mounts` (mount point -> URI or `{ uri, readOnly?, readType?, writeType?,
 * syncInterval?, options? }`) and returns the mounts parents first: by depth, then by path.
 * `EINVAL` names the mount point and the key that is wrong; values are never quoted.
 */
export function validateMounts(mounts: unknown): ValidatedMount[] {
  if (mounts === undefined) return [];
  if (!isPlainObject(mounts)) throw invalid('mounts must be an object: mount point -> store URI or { uri, ... }');
  const seen = new Map<string, string>();
  const out: ValidatedMount[] = [];
  for (const [point, entry] of Object.entries(mounts)) {
    const where = memberPath('mounts', point);
    let path: string;
    try {
      path = normalizePath(point);
    } catch (error) {
      throw invalid(`${where}: a mount point must be an absolute path (${(error as { detail?: string }).detail ?? 'bad path'})`);
    }
    const earlier = seen.get(path);
    if (earlier !== undefined) throw invalid(`${where}: mount point ${path} is given twice (also as ${JSON.stringify(earlier)})`);
    seen.set(path, point);
    out.push([path, validateMount(entry, where)]);
  }
  return out.sort(([a], [b]) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function validateMount(entry: unknown, where: string): { uri: string; options: MountOptions } {
  if (typeof entry === 'string') return { uri: checkUri(entry, where), options: {} };
  if (!isPlainObject(entry)) throw invalid(`${where} must be a store URI string or { uri, readOnly?, readType?, writeType?, syncInterval?, options? }`);
  for (const key of Object.keys(entry)) {
    if (!(MOUNT_KEYS as readonly string[]).includes(key)) throw invalid(`${where}: unknown key '${key}' (known: ${MOUNT_KEYS.join(', ')})`);
  }
  if (entry.uri === undefined) throw invalid(`${where}: uri is missing`);
  const uri = checkUri(entry.uri, where);
  const options: MountOptions = {};
  if (entry.readOnly !== undefined) {
    if (typeof entry.readOnly !== 'boolean') throw invalid(`${where}.readOnly must be true or false`);
    options.readOnly = entry.readOnly;
  }
  if (entry.readType !== undefined) {
    if (!(READ_TYPES as readonly unknown[]).includes(entry.readType)) throw invalid(`${where}.readType must be one of ${READ_TYPES.join(', ')}`);
    options.readType = entry.readType as MountOptions['readType'];
  }
  if (entry.writeType !== undefined) {
    if (!(WRITE_TYPES as readonly unknown[]).includes(entry.writeType)) throw invalid(`${where}.writeType must be one of ${WRITE_TYPES.join(', ')}`);
    options.writeType = entry.writeType as MountOptions['writeType'];
  }
  if (entry.syncInterval !== undefined) {
    const ms = entry.syncInterval;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < -1 || ms > 2 ** 31 - 1) throw invalid(`${where}.syncInterval must be an integer number of ms, -1 or more`);
    options.syncInterval = ms;
  }
  if (entry.options !== undefined) {
    if (!isPlainObject(entry.options)) throw invalid(`${where}.options must be an object of connector settings`);
    options.options = entry.options;
  }
  return { uri, options };
}

function checkUri(uri: unknown, where: string): string {
  if (typeof uri !== 'string' || uri.trim() === '') throw invalid(`${where}: the store URI must be a non-empty string such as "s3://bucket/prefix"`);
  return uri;
}

/** Number of components of a normalised path (`/` is 0). */
function depth(path: string): number {
  return path === '/' ? 0 : path.split('/').length - 1;
}

/** True for `{...}` (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
