/**
 * The location of a store (part of its cache id, and of how overlapping mounts are told apart)
 * is one string for one server or account, however its settings name it, and never holds a secret.
 */
import { describe, expect, it } from 'vitest';
import { S3Store } from '../../src/index.js';
import { accountLocation } from '../../src/store/azure/azure-options.js';

const key = Buffer.from('not-a-real-key').toString('base64');

describe('accountLocation', () => {
  it('is the same for one account named by a connection string, an account name or an endpoint', () => {
    const forms = [
      accountLocation({ kind: 'connectionString', connectionString: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${key};EndpointSuffix=core.windows.net` }),
      accountLocation({ kind: 'connectionString', connectionString: `AccountName=acct;AccountKey=${key};BlobEndpoint=https://ACCT.blob.core.windows.net/;` }),
      accountLocation({ kind: 'sharedKey', url: 'https://acct.blob.core.windows.net', accountName: 'acct', accountKey: key }),
      accountLocation({ kind: 'sharedKey', url: 'https://Acct.Blob.Core.Windows.Net:443', accountName: 'acct', accountKey: key }),
    ];
    expect(new Set(forms)).toEqual(new Set(['https://acct.blob.core.windows.net']));
  });

  it('names the local emulator the same for UseDevelopmentStorage=true and its explicit endpoint', () => {
    const shorthand = accountLocation({ kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' });
    const explicit = accountLocation({ kind: 'sharedKey', url: 'http://127.0.0.1:10000/devstoreaccount1', accountName: 'devstoreaccount1', accountKey: key });
    expect(shorthand).toBe('http://127.0.0.1:10000/devstoreaccount1');
    expect(shorthand).toBe(explicit);
  });
});

describe('S3Store.location', () => {
  it('is one string for one endpoint however it is written', () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' };
    const locations = ['http://minio.local:9000', 'HTTP://MINIO.local:9000/', 'http://Minio.Local:9000//'].map(
      (endpoint) => new S3Store({ bucket: 'data', endpoint, region: 'us-east-1', credentials }).location,
    );
    expect(new Set(locations)).toEqual(new Set(['http://minio.local:9000']));
    expect(new S3Store({ bucket: 'data', region: 'us-east-1', credentials }).location).toBeUndefined();
  });
});
