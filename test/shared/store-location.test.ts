/**
 * Two stores with one URI on different servers (the bucket `data` of two S3 endpoints) under one
 * Redis and key prefix: neither fleet takes the other's pages, `stat` answers or listings.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { accountLocation } from '../../src/store/azure/azure-options.js';
import { startS3Server, S3RVER_CREDENTIALS, type S3Server } from '../support/s3-server.js';

const url = inject('redisUrl');
const servers: S3Server[] = [];

function settings(server: S3Server): Record<string, unknown> {
  return { endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS };
}

beforeAll(async () => {
  servers.push(await startS3Server(), await startS3Server());
  for (const [n, server] of servers.entries()) {
    const client = new S3Client(settings(server));
    await client.send(new CreateBucketCommand({ Bucket: 'data' }));
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'f', Body: Buffer.alloc(10_000, n + 1) }));
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: `only-${n}`, Body: 'x' }));
    client.destroy();
  }
});
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('stores of one URI on different endpoints', () => {
  it('share nothing through the shared tier: each reads and lists its own server', async () => {
    const keyPrefix = `loc${randomUUID().slice(0, 8)}:`;
    const fleet = servers.map(() => new StrataFS({ cache: { pageSize: 4096, shared: { url, keyPrefix } }, metadata: { syncInterval: 60_000 } }));
    try {
      await Promise.all(fleet.map((fs, n) => fs.mount('/d', 's3://data', { options: settings(servers[n]!) })));
      expect(await fleet[0]!.readFile('/d/f')).toEqual(Buffer.alloc(10_000, 1));
      expect(await fleet[0]!.readdir('/d')).toEqual(['f', 'only-0']);
      await fleet[0]!.close(); // its pages and answers are in Redis
      // What the first fleet shared in Redis is not the second one's bucket.
      expect(await fleet[1]!.readFile('/d/f')).toEqual(Buffer.alloc(10_000, 2));
      expect(await fleet[1]!.readdir('/d')).toEqual(['f', 'only-1']);
      expect((await fleet[1]!.stat('/d/only-1')).size).toBe(1);
    } finally {
      await Promise.all(fleet.map((fs) => fs.close()));
    }
  });

  it('name an Azure account by its blob endpoint, never with a secret', () => {
    expect(accountLocation({ kind: 'sas', url: 'https://acct.blob.core.windows.net', sasToken: 'sig=secret' })).toBe('https://acct.blob.core.windows.net');
    const conn = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net';
    expect(accountLocation({ kind: 'connectionString', connectionString: conn })).toBe('https://acct.blob.core.windows.net');
    const azurite = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;';
    expect(accountLocation({ kind: 'connectionString', connectionString: azurite })).toBe('http://127.0.0.1:10000/devstoreaccount1');
  });
});
