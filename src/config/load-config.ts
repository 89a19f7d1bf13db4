/**
 * `StrataFS.fromConfig`: a config object or a JSON file -> validated options and mounts.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { StrataError, invalid, toStrataError } from '../errors.js';
import type { MountOptions, StrataOptions } from '../options.js';
import { substituteEnv } from './env.js';
import { findJsonSyntaxError } from './json-error.js';
import { isPlainObject, validateMounts } from './mount-config.js';

/** A mount in a config: a URI, or a URI with mount options. */
export type MountConfig =
  | string
  | ({
      /** The store URI (`s3://bucket/prefix`, `file:///abs/dir`…). Required. */
      uri: string;
    } & MountOptions);

/** `StrataOptions` plus `mounts`: mount point -> URI or `{ uri, ...MountOptions }`. */
export interface StrataConfig extends StrataOptions {
  /** Mount point -> store URI (or URI + mount options). Parents are mounted before children. */
  mounts?: Record<string, MountConfig>;
}

/** Validated config: the StrataFS options and the mounts in order. */
export interface LoadedConfig {
  /** Everything but `mounts`, as given (the `StrataFS` constructor validates it). */
  options: StrataOptions;
  /** `[mount point, { uri, options }]`, normalised, parents before children. */
  mounts: [string, { uri: string; options: MountOptions }][];
}

/**
 * Loads and validates a config: an object, or the path of a JSON file (relative paths resolve
 * against the working directory).
 *
 * In a file (not in an object), every `${NAME}` inside a string value is replaced by the
 * environment variable `NAME`, and `$${` stands for a literal `${`. A variable that is unset or
 * empty is an `EINVAL` naming it and where it is used; its value never appears in a message.
 * A relative `cache.disk.dir` in a file resolves against the file's directory.
 *
 * Errors: `ENOENT`/`EACCES`/`EISDIR` with the file's path when it cannot be read, `EINVAL`
 * with line and column for bad JSON, `EINVAL` naming the mount point and key for a bad mount.
 *
 * @param config a config object, or the path of a JSON config file
 * @param env where `${NAME}` values come from; default `process.env`
 */
export async function loadConfig(config: StrataConfig | string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  if (typeof config === 'string') return fromObject(await readConfigFile(config, env), config);
  if (!isPlainObject(config)) throw invalid('config must be an object or the path of a JSON file', { op: 'loadConfig' });
  return fromObject(config, undefined);
}

/** Reads, parses and substitutes a config file. */
async function readConfigFile(file: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  if (file === '' || file.includes('\0')) throw invalid('config path must be a non-empty file path', { op: 'loadConfig' });
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const e = toStrataError(error, { op: 'loadConfig', path });
    throw new StrataError(e.code, e.code === 'ENOENT' ? 'config file not found' : e.code === 'EISDIR' ? 'config path is a directory' : `cannot read the config file (${e.detail})`, {
      op: 'loadConfig',
      path,
    });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be a secret: point at it instead.
    let spot: ReturnType<typeof findJsonSyntaxError>;
    try {
      spot = findJsonSyntaxError(text);
    } catch {
      spot = undefined;
    }
    const at = spot ? ` at line ${spot.line}, column ${spot.column} (position ${spot.offset}): expected ${spot.expected}` : '';
    throw invalid(`config file is not valid JSON${at}`, { op: 'loadConfig', path });
  }
  if (!isPlainObject(parsed)) throw invalid('config file must hold a JSON object', { op: 'loadConfig', path });
  let substituted: Record<string, unknown>;
  try {
    substituted = substituteEnv(parsed, env) as Record<string, unknown>;
  } catch (error) {
    throw toStrataError(error, { op: 'loadConfig', path });
  }
  return resolveDiskDir(substituted, dirname(path));
}

/** A relative `cache.disk.dir` of a file resolves against the file's directory. */
function resolveDiskDir(config: Record<string, unknown>, base: string): Record<string, unknown> {
  const cache = config.cache;
  if (!isPlainObject(cache) || !isPlainObject(cache.disk)) return config;
  const dir = cache.disk.dir;
  if (typeof dir !== 'string' || dir === '' || isAbsolute(dir)) return config;
  return { ...config, cache: { ...cache, disk: { ...cache.disk, dir: resolve(base, dir) } } };
}

/** Splits a config object into options and validated mounts. */
function fromObject(config: Record<string, unknown>, file: string | undefined): LoadedConfig {
  const { mounts, ...options } = config;
  try {
    return { options: options as StrataOptions, mounts: validateMounts(mounts) };
  } catch (error) {
    throw toStrataError(error, { op: 'loadConfig', path: file === undefined ? undefined : resolve(file) });
  }
}
