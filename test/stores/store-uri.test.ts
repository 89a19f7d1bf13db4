/**
 * The URI a store reports (`store.uri`, `fs.mounts()`) names it the way a user writes it: every
 * connector `%`-encodes the prefix's segments alike, and mounting that URI again opens the same
 * prefix — whatever characters its names hold.
 */
import { describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';

const key = Buffer.from('not-a-real-key').toString('base64');

/** Each connector's URI (its bucket part) and settings that open it without any network call. */
const connectors: Array<[name: string, base: string, options: Record<string, unknown>]> = [
  ['s3', 's3://data', { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' } }],
  ['azure', 'azure://data', { connectionString: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${key};EndpointSuffix=core.windows.net` }],
  ['gcs', 'gs://data', { projectId: 'p', apiEndpoint: 'http://127.0.0.1:1' }],
  ['oss', 'oss://data', { region: 'oss-cn-hangzhou', accessKeyId: 'id', accessKeySecret: 'not-a-real-secret' }],
  ['cos', 'cos://data-1250000000', { region: 'ap-guangzhou', secretId: 'id', secretKey: 'not-a-real-secret' }],
  ['memory', 'memory://names', {}],
];

/** Prefixes as a user writes them in a URI, and the encoded path every connector reports for them. */
const prefixes: Array<[written: string, reported: string]> = [
  ['/100%25%20done', '/100%25%20done'],
  ['/caf%C3%A9/%E6%96%87', '/caf%C3%A9/%E6%96%87'],
  ['/a%23b/why%3F/k%3Dv%26x', '/a%23b/why%3F/k%3Dv%26x'],
  ['/x%2541', '/x%2541'],
  ['/plain/sub', '/plain/sub'],
];

describe('store URIs', () => {
  for (const [name, base, options] of connectors) {
    it(`${name}: the URI reported encodes the prefix and mounts the same prefix again`, async () => {
      const fs = new StrataFS({ cache: { memory: false } });
      try {
        for (const [i, [written, reported]] of prefixes.entries()) {
          await fs.mount(`/a${i}`, base + written, { options });
          const uri = fs.mounts().find((m) => m.path === `/a${i}`)!.uri;
          expect(uri).toBe(base + reported);
          await fs.mount(`/b${i}`, uri, { options });
          expect(fs.mounts().find((m) => m.path === `/b${i}`)!.uri).toBe(uri);
        }
      } finally {
        await fs.close();
      }
    });
  }

  it('a URI that URL parsing would turn into another store is refused: a relative path, "." or ".." segments (also %-encoded)', async () => {
    const fs = new StrataFS({ cache: { memory: false } });
    try {
      const uris = ['file:tmp', 'file:', 'memory:name', 'file:///tmp/../etc', 'file:///tmp/./x', 'file:///tmp/%2e%2e/etc', 'file:///tmp/%2E.', 'memory://n/../x', 's3://data/a/..'];
      for (const [i, uri] of uris.entries()) {
        await expect(fs.mount(`/m${i}`, uri, { options: uri.startsWith('s3') ? connectors[0]![2] : {} }), uri).rejects.toMatchObject({ code: 'EINVAL' });
      }
      expect(fs.mounts()).toEqual([]);
      // Names that only start with dots are names.
      await fs.mount('/dots', 'memory://n/..x/.y/...');
      expect(fs.mounts()[0]!.uri).toBe('memory://n/..x/.y/...');
    } finally {
      await fs.close();
    }
  });
});
