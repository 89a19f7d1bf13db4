/**
 * The optional peers the benchmark compares with: Apache OpenDAL's Node binding (`opendal`, not a
 * dependency of stratafs) and the `rclone` command. Each loader answers either the peer or the
 * reason it is not here, which the tables print as "skipped: why" — never a made-up figure.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CommandRunner } from './command-runner.js';
import type { AzureEnv, S3Env } from './env.js';


/** The part of OpenDAL's `Reader` the cases use. */
export interface OpendalReader {
  /** Reads into `buf`; resolves the number of bytes read (0n at the end). */
  read(buf: Buffer): Promise<bigint>;
}

/** The part of OpenDAL's `Operator` the cases use. */
export interface OpendalOperator {
  read(path: string): Promise<Buffer>;
  reader(path: string): Promise<OpendalReader>;
}

/** The loaded binding. */
export interface Opendal {
  version: string;
  Operator: new (scheme: string, options: Record<string, string>) => OpendalOperator;
}

/** The OpenDAL version the issue measures (newer ones need a newer glibc than this machine has). */
export const OPENDAL_VERSION = '0.47.11';

let opendal: Promise<Opendal | string> | undefined;

/**
 * `opendal` from the project's own modules, else from the directory named by
 * `STRATAFS_BENCH_OPENDAL_DIR` (a folder whose `node_modules` holds it, e.g. after
 * `npm install --prefix DIR opendal@0.47.11`); the reason as a string when it cannot load.
 */
export function loadOpendal(): Promise<Opendal | string> {
  opendal ??= (async () => {
    const places = [process.cwd(), process.env.STRATAFS_BENCH_OPENDAL_DIR].filter((p): p is string => typeof p === 'string' && p !== '');
    const reasons: string[] = [];
    for (const dir of places) {
      const require = createRequire(join(dir, 'noop.js'));
      try {
        const mod = require('opendal') as { Operator?: Opendal['Operator'] };
        const version = (require('opendal/package.json') as { version: string }).version;
        if (typeof mod.Operator !== 'function') throw new Error('it exports no Operator');
        return { version, Operator: mod.Operator };
      } catch (error) {
        reasons.push(`${(error as Error).message.split('\n')[0]}`);
      }
    }
    return `opendal is not installed (not a dependency of stratafs: npm install --prefix DIR opendal@${OPENDAL_VERSION}, then STRATAFS_BENCH_OPENDAL_DIR=DIR) [${reasons[0] ?? ''}]`;
  })();
  return opendal;
}

/** An OpenDAL operator on the S3 emulator's bucket. */
export function opendalS3(lib: Opendal, s3: S3Env): OpendalOperator {
  return new lib.Operator('s3', {
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: s3.settings.region,
    access_key_id: s3.settings.credentials.accessKeyId,
    secret_access_key: s3.settings.credentials.secretAccessKey,
    enable_virtual_host_style: 'false',
  });
}

/** An OpenDAL operator on the Azure emulator's container. */
export function opendalAzure(lib: Opendal, az: AzureEnv): OpendalOperator {
  return new lib.Operator('azblob', { container: az.container, endpoint: az.blobEndpoint, account_name: az.accountName, account_key: az.accountKey });
}

/** Reads a whole object through an OpenDAL reader into `target`; returns the bytes read. */
export async function opendalReadInto(op: OpendalOperator, path: string, target: Buffer): Promise<number> {
  const reader = await op.reader(path);
  let pos = 0;
  while (pos < target.length) {
    const n = Number(await reader.read(target.subarray(pos)));
    if (n === 0) break;
    pos += n;
  }
  return pos;
}

let rclone: string | undefined | null = null;

/** The `rclone version` line, or `undefined` when rclone is not on PATH. */
export function rcloneVersion(): string | undefined {
  if (rclone === null) {
    const out = spawnSync('rclone', ['version'], { encoding: 'utf8', timeout: 10_000 });
    rclone = out.status === 0 ? out.stdout.split('\n')[0]!.trim() : undefined;
  }
  return rclone;
}

/** Why rclone cannot be measured, or undefined when it can. */
export function rcloneMissing(): string | undefined {
  return rcloneVersion() ? undefined : 'rclone is not on PATH (e.g. apt-get install rclone)';
}

/**
 * Environment defining the rclone remotes `benchs3:` and `benchaz:` on the emulators (no config
 * file). rclone 1.60 builds Azure URLs as `https://ACCOUNT.ENDPOINT`, which cannot name Azurite's
 * `http://127.0.0.1:PORT/ACCOUNT`; a container SAS URL can.
 */
export function rcloneEnv(s3?: S3Env, az?: { sasUrl: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RCLONE_CONFIG: '/dev/null' };
  delete env.AWS_CA_BUNDLE;
  if (s3) {
    Object.assign(env, {
      RCLONE_CONFIG_BENCHS3_TYPE: 's3',
      RCLONE_CONFIG_BENCHS3_PROVIDER: 'Other',
      RCLONE_CONFIG_BENCHS3_ENDPOINT: s3.endpoint,
      RCLONE_CONFIG_BENCHS3_REGION: s3.settings.region,
      RCLONE_CONFIG_BENCHS3_ACCESS_KEY_ID: s3.settings.credentials.accessKeyId,
      RCLONE_CONFIG_BENCHS3_SECRET_ACCESS_KEY: s3.settings.credentials.secretAccessKey,
      RCLONE_CONFIG_BENCHS3_FORCE_PATH_STYLE: 'true',
    });
  }
  if (az) {
    Object.assign(env, { RCLONE_CONFIG_BENCHAZ_TYPE: 'azureblob', RCLONE_CONFIG_BENCHAZ_SAS_URL: az.sasUrl });
  }
  return env;
}

/**
 * Runs `rclone cat REMOTE:PATH` as a whole process, from the helper process of `runner` (the bench
 * process itself does not fork while it measures); resolves the bytes it wrote to stdout.
 */
export async function rcloneCat(runner: CommandRunner, remote: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { code, bytes, stderr } = await runner.run('rclone', ['cat', remote], env);
  if (code !== 0) throw new Error(`rclone cat exited with ${code}: ${stderr.trim().replace(/sig=[^&\s"]+/g, 'sig=***')}`);
  return bytes;
}
