/**
 * Test code: starts the OSS/COS wire-protocol test server (see `wire-server/server.ts`) once
 * per run on 127.0.0.1 and a free port, provides its address, buckets and test credentials
 * as `inject('wireServer')`, and stops it at teardown.
 * @module
 */
import type { TestProject } from 'vitest/node';
import { startWireServer } from './wire-server/server.js';

/** What tests get from `inject('wireServer')`. */
export interface WireServerInfo {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** `127.0.0.1:<port>`. */
  host: string;
  /** The largest source the server copies in one request (the services allow 1 GiB or 5 GiB). */
  copyLimit: number;
  oss: { bucket: string; accessKeyId: string; accessKeySecret: string; stsAccessKeyId: string; stsAccessKeySecret: string; stsToken: string };
  cos: { bucket: string; region: string; secretId: string; secretKey: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    wireServer: WireServerInfo;
  }
}

/** Starts the server; the returned function stops it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const oss = {
    bucket: 'strata-oss',
    accessKeyId: 'LTAItestkeyid0001',
    accessKeySecret: 'oss-test-secret-9f8e7d6c5b4a',
    stsAccessKeyId: 'STS.testkeyid0002',
    stsAccessKeySecret: 'oss-sts-secret-1a2b3c4d5e6f',
    stsToken: 'CAIS-test-security-token-0123456789',
  };
  const copyLimit = 2 * 1024 * 1024;
  const cos = { bucket: 'strata-1250000000', region: 'ap-guangzhou', secretId: 'AKIDtestsecretid0001', secretKey: 'cos-test-secret-0a1b2c3d4e5f' };
  const server = await startWireServer({
    buckets: [oss.bucket, cos.bucket],
    copyLimit, // so that copies in parts can be tested with small objects
    credentials: [
      { accessKeyId: oss.accessKeyId, secret: oss.accessKeySecret },
      { accessKeyId: oss.stsAccessKeyId, secret: oss.stsAccessKeySecret, securityToken: oss.stsToken },
      { accessKeyId: cos.secretId, secret: cos.secretKey },
    ],
  });
  project.provide('wireServer', { endpoint: server.endpoint, host: server.host, copyLimit, oss, cos });
  return () => server.close();
}
