/**
 * Hostile input: property-based tests of path normalisation and key mapping, odd keys in a
 * store's listing, traversal attempts against a local mount, and secrets that must never show.
 */
import fc from 'fast-check';
import { readdir, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore, MemoryStore, StrataError, StrataFS, type ObjectInfo, type UnderStore } from '../../src/index.js';
import { normalizePath, relativeTo, isSameOrBelow } from '../../src/path.js';
import { tempDir } from '../support/helpers.js';

const segment = fc.oneof(
  fc.constantFrom('.', '..', '', '...', '%2e%2e', '%2f', '..%2f', '\\', '\0', '\u202e', 'a', 'é', 'e\u0301', ' ', '~', 'CON', '\n'),
  fc.string({ maxLength: 8 }),
);
const pathLike = fc.array(segment, { maxLength: 8 }).map((parts) => parts.join('/'));

describe('path normalisation and key mapping (properties)', () => {
  it('normalises to an absolute path with no empty, . or .. segment, idempotently, or refuses with EINVAL', () => {
    fc.assert(
      fc.property(fc.oneof(pathLike, pathLike.map((p) => '/' + p), fc.string()), (raw) => {
        let normal: string;
        try {
          normal = normalizePath(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(StrataError);
          expect((error as StrataError).code).toBe('EINVAL');
          return;
        }
        expect(normal.startsWith('/')).toBe(true);
        if (normal !== '/') expect(normal.split('/').slice(1).every((s) => s !== '' && s !== '.' && s !== '..')).toBe(true);
        expect(normalizePath(normal)).toBe(normal);
      }),
      { numRuns: 3000 },
    );
  });

  it('a key below a mount point is never empty (except the mount itself), absolute, or climbing', () => {
    fc.assert(
      fc.property(pathLike, fc.constantFrom('/', '/m', '/m/n'), (raw, mountPoint) => {
        let normal: string;
        try {
          normal = normalizePath(mountPoint + '/' + raw);
        } catch {
          return;
        }
        if (!isSameOrBelow(normal, mountPoint)) return; // resolves to another mount, or none
        const key = relativeTo(normal, mountPoint);
        if (normal !== mountPoint) expect(key).not.toBe('');
        expect(key.startsWith('/')).toBe(false);
        expect(key.split('/')).not.toContain('..');
        // Round trip: the key maps back to the same logical path.
        expect(normalizePath(mountPoint === '/' ? `/${key}` : `${mountPoint}/${key}`)).toBe(normal);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('hostile paths against a local mount never leave its root', () => {
  let parent: Awaited<ReturnType<typeof tempDir>>;
  let fs: StrataFS;
  beforeAll(async () => {
    parent = await tempDir('stratafs-hostile-');
    await mkdir(join(parent.dir, 'root'));
    fs = new StrataFS();
    await fs.mount('/m', new LocalStore({ root: join(parent.dir, 'root') }));
  });
  afterAll(async () => {
    await fs.close();
    await parent.cleanup();
  });

  it('writes, mkdirs, copies and renames of random paths stay inside', async () => {
    await fc.assert(
      fc.asyncProperty(pathLike, async (raw) => {
        const ops = [
          () => fs.writeFile(`/m/${raw}`, 'x'),
          () => fs.mkdir(`/m/${raw}/d`, { recursive: true }),
          () => fs.copy('/m', `/m/${raw}/c`, { recursive: true }),
          () => fs.rm(`/m/${raw}`, { recursive: true, force: true }),
        ];
        for (const op of ops) await op().catch((error: unknown) => expect(error).toBeInstanceOf(StrataError));
        expect(await readdir(parent.dir)).toEqual(['root']);
      }),
      { numRuns: 150 },
    );
  });
});

describe('odd keys in a listing are handled, never followed', () => {
  it('drops keys a logical path cannot name', async () => {
    const odd = ['../escape', 'a//b', 'ok.txt', 'dir/', 'ctl\u0001x', 'e\u0301', '\u00e9', './dot', 'trailing/'];
    const inner = new MemoryStore();
    const store: UnderStore = {
      uri: 'odd://listing',
      capabilities: { rangeRead: true, list: true, copy: false, rename: false, directories: false },
      stat: async (key) => (key === '' ? { key: '', size: 0, isDirectory: true } : inner.stat(key)),
      list: async function* (): AsyncIterable<ObjectInfo> {
        for (const key of odd) yield { key, size: 1, isDirectory: key.endsWith('/') };
      },
      read: async () => Readable.from([Buffer.from('x')]),
      write: (k, b) => inner.write(k, b),
      delete: async () => undefined,
    };
    const fs = new StrataFS();
    await fs.mount('/odd', store);
    const names = await fs.readdir('/odd');
    // A directory listed with its trailing '/' ('dir/', 'trailing/') is that directory; the rest is dropped.
    expect(names).toEqual(['dir', 'e\u0301', 'ok.txt', 'trailing', '\u00e9'].sort());
    const all = await fs.readdir('/odd', { recursive: true });
    expect(all.every((n) => !n.split('/').includes('..') && !n.includes('//'))).toBe(true);
    await fs.close();
  });
});

describe('a tree of odd keys copied into a local mount', () => {
  it('copies what a path can name, inside the target, and lists the directory of `a//b` as `a`', async () => {
    const odd = ['../x', '/abs', 'a/../../b', '.', '..', 'a//b', 'a/./b', 'd/../../../../y', 'ok/f', 'e/..', './z', 'sub/.', 't//'];
    const store: UnderStore = {
      uri: 'odd://tree',
      capabilities: { rangeRead: true, list: true, copy: false, rename: false, directories: false },
      stat: async (key) => (key === '' ? { key: '', size: 0, isDirectory: true } : odd.includes(key) ? { key, size: 1, isDirectory: false, etag: 'e' } : undefined),
      list: async function* (): AsyncIterable<ObjectInfo> {
        for (const key of odd) yield { key, size: 1, isDirectory: false, etag: 'e' };
      },
      read: async () => Readable.from([Buffer.from('x')]),
      write: async () => {
        throw new Error('read-only');
      },
      delete: async () => undefined,
    };
    const parent = await tempDir('stratafs-odd-copy-');
    await mkdir(join(parent.dir, 'root'));
    const fs = new StrataFS();
    try {
      await fs.mount('/odd', store);
      await fs.mount('/m', new LocalStore({ root: join(parent.dir, 'root') }));
      const all = await fs.readdir('/odd', { recursive: true });
      expect(all.filter((name) => name.endsWith('/'))).toEqual([]);
      expect(all).toContain('a');
      await fs.copy('/odd', '/m/copy', { recursive: true });
      expect(await readdir(parent.dir)).toEqual(['root']);
      expect((await readdir(join(parent.dir, 'root', 'copy'), { recursive: true })).map(String).sort()).toEqual(['a', 'd', 'e', 'ok', 'ok/f', 'sub', 't']);
    } finally {
      await fs.close();
      await parent.cleanup();
    }
  });
});

describe('secrets never show', () => {
  it('not in errors, mounts(), stats(), util.inspect of a store or of the file system', async () => {
    const secret = 'sEcReT-Value-0123456789abcdef';
    const fs = new StrataFS();
    await fs.mount('/s3', 's3://no-such-bucket-here/x', { options: { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret, sessionToken: secret } } });
    await fs.mount('/az', 'azure://container/x', { options: { connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from(secret).toString('base64')};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;` } });
    const texts: string[] = [];
    for (const path of ['/s3/a', '/az/a']) {
      const error = await fs.stat(path).catch((e: unknown) => e as StrataError);
      expect(error).toBeInstanceOf(StrataError);
      texts.push(String((error as StrataError).message), inspect(error, { depth: 10 }), JSON.stringify(error));
    }
    texts.push(JSON.stringify(fs.mounts()), JSON.stringify(fs.stats()), inspect(fs, { depth: 10 }));
    for (const text of texts) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString('base64'));
    }
    await fs.close();
  });

  it('not in the errors of store URIs that carry them or are them', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYsEcReT';
    const fs = new StrataFS();
    const uris = [
      `s3://AKIAEXAMPLE:${secret}@bucket/x`,
      `s3://bucket:${secret}/x`,
      `s3://K:ab?${secret}@b`,
      `azure://c[/x?sig=${secret}`,
      `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${secret};EndpointSuffix=core.windows.net`,
      `AKIAEXAMPLE${secret.slice(0, 8)}:${secret}@bucket`,
    ];
    for (const uri of uris) {
      const error = await fs.mount('/m', uri).then(() => undefined, (e: unknown) => e as StrataError);
      expect(error, uri).toBeInstanceOf(StrataError);
      expect(error!.code, uri).toBe('EINVAL');
      for (const text of [error!.message, inspect(error, { depth: 10 }), JSON.stringify(error)]) {
        expect(text, uri).not.toContain(secret.slice(0, 12));
        expect(text, uri).not.toContain(secret.slice(-12));
      }
    }
    await fs.close();
  });
});
