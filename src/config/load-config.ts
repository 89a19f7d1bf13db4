/**
 * `StrataFS.fromConfig`: a config object or a JSON file -> validated options and mounts.
 * @module
 */
import type { MountOptions, StrataOptions } from '../options.js';

/** A mount in a config: a URI, or a URI with mount options. */
export type MountConfig = string | ({ uri: string } & MountOptions);

/** `StrataOptions` plus `mounts`: mount point -> URI or `{ uri, ...MountOptions }`. */
export interface StrataConfig extends StrataOptions {
  /** Mount point -> store URI (or URI + mount options). */
  mounts?: Record<string, MountConfig>;
}

/** Validated config: the StrataFS options and the mounts in order. */
export interface LoadedConfig {
  options: StrataOptions;
  mounts: [string, { uri: string; options: MountOptions }][];
}

/** Loads and validates a config (object or JSON file path). Throws `EINVAL` naming what is wrong. */
export async function loadConfig(config: StrataConfig | string): Promise<LoadedConfig> {
  void config;
  throw new Error('not implemented');
}
