/**
 * One object store as the cases see it: where to mount it, how the raw SDK reads an object (the
 * baseline), the connector alone, and how each peer reaches the same server.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { AzureBlobStore, S3Store, type MountOptions, type UnderStore } from '../src/index.js';
import type { AzureEnv, BenchEnv, Body, S3Env } from './env.js';
import { opendalAzure, opendalS3, rcloneEnv, type Opendal, type OpendalOperator } from './peers.js';

/** An object store under benchmark (see the module comment). */
export interface Backend {
  /** `S3` or `Azure`. */
  label: string;
  /** Case id prefix: `s3` or `azure`. */
  id: string;
  /** What the raw SDK call is called in the tables. */
  sdkName: string;
  /** The URI to mount the whole bucket/container with, and its settings. */
  uri: string;
  mountOptions: MountOptions;
  /** Uploads an object. */
  put(key: string, data: Buffer): Promise<void>;
  /** The raw SDK read of an object or a range of it (`end` exclusive). */
  sdkGet(key: string, range?: { start: number; end: number }): Promise<{ body: Body; size: number }>;
  /** A fresh connector on the same bucket/container (no facade, no cache). */
  connector(): UnderStore;
  /** An OpenDAL operator on the same bucket/container. */
  opendal(lib: Opendal): OpendalOperator;
  /** `rclone cat` target and environment for `key`. */
  rclone(key: string): { remote: string; env: NodeJS.ProcessEnv };
}

/** The S3 backend on the local s3rver. */
export async function s3Backend(env: BenchEnv): Promise<Backend> {
  const s3: S3Env = await env.s3();
  return {
    label: 'S3',
    id: 's3',
    sdkName: 'raw SDK GetObject',
    uri: `s3://${s3.bucket}`,
    mountOptions: { options: { ...s3.settings } },
    put: (key, data) => s3.put(key, data),
    sdkGet: async (key, range) => {
      const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}) }));
      return { body: out.Body as Readable, size: out.ContentLength ?? 0 };
    },
    connector: () => new S3Store({ bucket: s3.bucket, ...s3.settings }),
    opendal: (lib) => opendalS3(lib, s3),
    rclone: (key) => ({ remote: `benchs3:${s3.bucket}/${key}`, env: rcloneEnv(s3) }),
  };
}

/** The Azure Blob backend on the local Azurite. */
export async function azureBackend(env: BenchEnv): Promise<Backend> {
  const az: AzureEnv = await env.azure();
  const sasUrl = await az.sasUrl();
  return {
    label: 'Azure',
    id: 'azure',
    sdkName: 'raw SDK download',
    uri: `azure://${az.container}`,
    mountOptions: { options: { connectionString: az.connectionString } },
    put: (key, data) => az.put(key, data),
    sdkGet: async (key, range) => {
      const out = await az.containerClient.getBlobClient(key).download(range?.start ?? 0, range ? range.end - range.start : undefined);
      if (!out.readableStreamBody) throw new Error('download returned no body');
      return { body: out.readableStreamBody, size: out.contentLength ?? 0 };
    },
    connector: () => new AzureBlobStore({ container: az.container, connectionString: az.connectionString }),
    opendal: (lib) => opendalAzure(lib, az),
    rclone: (key) => ({ remote: `benchaz:${az.container}/${key}`, env: rcloneEnv(undefined, { sasUrl }) }),
  };
}
