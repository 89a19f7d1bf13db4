/**
 * The Azure Blob connector against Azurite on loopback (started by
 * test/support/azurite.global-setup.ts): the shared conformance suites, plus what is Azure's
 * own — the ways to sign in, URI and settings validation, error mapping, streamed uploads,
 * conditional reads, batch deletes and their fallback, no secret anywhere a user could see.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, BlobServiceClient, StorageSharedKeyCredential, generateAccountSASQueryParameters } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StrataFS } from '../../src/file-system.js';
import { AzureBlobStore, type AzureBlobStoreOptions } from '../../src/store/azure/index.js';
import { describeFacadeConformance } from '../conformance/facade-suite.js';
import { describeStoreConformance, listAll, readAll } from '../conformance/store-suite.js';
import { AZURITE_ACCOUNT, azuriteConnectionString } from '../support/azurite-server.js';
import { unknownSizeStream, everythingShown, catchError } from '../support/helpers.js';

const MiB = 1024 * 1024;
const CONTAINER = 'stratafs-test';
const connectionString = inject('azuriteConnectionString');
const blobEndpoint = inject('azuriteBlobEndpoint');
let ready: Promise<unknown> | undefined;

/** A new, empty store: the shared test container under a fresh random prefix. */
async function makeAzureStore(extra: Partial<AzureBlobStoreOptions> = {}): Promise<AzureBlobStore> {
  ready ??= BlobServiceClient.fromConnectionString(connectionString).getContainerClient(CONTAINER).createIfNotExists();
  await ready;
  return new AzureBlobStore({ container: CONTAINER, prefix: `t-${randomUUID()}`, connectionString, ...extra });
}

describeStoreConformance('azure', () => makeAzureStore());
describeFacadeConformance('azure', () => makeAzureStore());




/** An account SAS for Azurite's development account (read, write, delete, list, create). */
function accountSas(): string {
  return generateAccountSASQueryParameters(
    {
      permissions: AccountSASPermissions.parse('rwdlac'),
      services: AccountSASServices.parse('b').toString(),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      expiresOn: new Date(Date.now() + 3_600_000),
    },
    new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key),
  ).toString();
}

describe('AzureBlobStore: URI and settings', () => {
  it('reads azure:// and az:// URIs into container and prefix', () => {
    const a = AzureBlobStore.fromUri(new URL('azure://my-container/data/2024/'), { connectionString });
    expect(a.container).toBe('my-container');
    expect(a.uri).toBe('azure://my-container/data/2024');
    const b = AzureBlobStore.fromUri(new URL('az://other'), { connectionString });
    expect(b.uri).toBe('azure://other');
    expect(AzureBlobStore.fromUri(new URL('azure://c1c/a%20b'), { connectionString }).uri).toBe('azure://c1c/a%20b');
  });

  it('rejects bad URIs with EINVAL', () => {
    const bad = ['azure://Upper/x', 'azure://a/x', 'azure://bad--name', 'azure://c1c:10000/x', 'azure://c1c/x?sig=abc', 'azure://c1c/a//b', 's3://c1c/x', 'azure:///x'];
    for (const uri of bad) expect(() => AzureBlobStore.fromUri(new URL(uri), { connectionString }), uri).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('rejects unknown settings by name, never echoing a value', () => {
    let error: unknown;
    try {
      AzureBlobStore.fromUri(new URL('azure://c1c'), { connectionString, acountKey: 'TOP-SECRET-VALUE' });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'EINVAL' });
    expect((error as Error).message).toContain('acountKey');
    expect(everythingShown(error)).not.toContain('TOP-SECRET-VALUE');
    // container and prefix come from the URI, not from the settings
    expect(() => AzureBlobStore.fromUri(new URL('azure://c1c'), { connectionString, container: 'other' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('rejects bad values and contradictory ways to sign in with EINVAL', () => {
    const cases: Array<Partial<AzureBlobStoreOptions> & Record<string, unknown>> = [
      {},
      { accountKey: 'k' },
      { connectionString, accountKey: AZURITE_ACCOUNT.key, accountName: AZURITE_ACCOUNT.name },
      { connectionString, endpoint: blobEndpoint },
      { accountName: AZURITE_ACCOUNT.name, accountKey: AZURITE_ACCOUNT.key, sasToken: 'sv=x&sig=y' },
      { endpoint: 'ftp://example.com' },
      { endpoint: `${blobEndpoint}?sig=abc` },
      { endpoint: blobEndpoint, credential: 'not a credential' as never },
      { endpoint: blobEndpoint, credential: { getToken: async () => null } },
      { endpoint: blobEndpoint },
      { connectionString, blockSize: 'huge' },
      { connectionString, blockSize: 1024 },
      { connectionString, uploadConcurrency: 0 },
      { connectionString, createContainer: 'yes' as never },
      { connectionString: 42 as never },
    ];
    for (const settings of cases) {
      expect(() => new AzureBlobStore({ container: CONTAINER, ...settings }), JSON.stringify(Object.keys(settings))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
  });

  it('mounts azure:// and az:// URIs, without secrets in mounts()', async () => {
    await makeAzureStore(); // the container exists
    const fs = new StrataFS();
    try {
      const prefix = `t-${randomUUID()}`;
      await fs.mount('/az', `azure://${CONTAINER}/${prefix}`, { options: { connectionString } });
      await fs.mount('/az2', `az://${CONTAINER}/${prefix}`, { options: { connectionString } });
      await fs.writeFile('/az/dir/hello.txt', 'hello azure');
      expect((await fs.readFile('/az2/dir/hello.txt')).toString()).toBe('hello azure');
      expect(await fs.readdir('/az2')).toEqual(['dir']);
      const shown = JSON.stringify(fs.mounts()) + inspect(fs.mounts(), { depth: 10 });
      expect(shown).toContain(`azure://${CONTAINER}/${prefix}`);
      expect(shown).not.toContain(AZURITE_ACCOUNT.key);
    } finally {
      await fs.close();
    }
  });
});

describe('AzureBlobStore: ways to sign in', () => {
  /** Write, read, list, copy, delete: the operations every way of signing in must carry. */
  async function exercise(store: AzureBlobStore): Promise<void> {
    await store.write('a/one.txt', Buffer.from('one'));
    expect((await readAll(store.read('a/one.txt'))).toString()).toBe('one');
    await store.copy('a/one.txt', 'b/two.txt');
    expect((await readAll(store.read('b/two.txt'))).toString()).toBe('one');
    expect((await listAll(store, '')).map((i) => i.key).sort()).toEqual(['a', 'b']);
    await store.deleteMany(['a/one.txt', 'b/two.txt']);
    expect(await listAll(store, '', true)).toEqual([]);
  }

  it('account name + key + endpoint (copies read the source through a generated SAS)', async () => {
    await exercise(await makeAzureStore({ connectionString: undefined, accountName: AZURITE_ACCOUNT.name, accountKey: AZURITE_ACCOUNT.key, endpoint: blobEndpoint }));
  });

  it('endpoint + SAS token, which never shows in uri, inspect or errors', async () => {
    const sasToken = accountSas();
    const signature = new URLSearchParams(sasToken).get('sig') as string;
    const store = await makeAzureStore({ connectionString: undefined, endpoint: blobEndpoint, sasToken: `?${sasToken}` });
    await exercise(store);
    const missing = new AzureBlobStore({ container: 'no-such-container', endpoint: blobEndpoint, sasToken });
    const error = await catchError(missing.write('x.txt', Buffer.from('x')));
    expect(error.code).toBe('ENOENT');
    for (const shown of [everythingShown(error), store.uri, inspect(store, { depth: 10, showHidden: true }), inspect(missing, { depth: 10, showHidden: true })]) {
      expect(shown).not.toContain(signature);
      expect(shown).not.toContain(encodeURIComponent(signature));
    }
  });

  it('an injected ContainerClient wins, and names the container', async () => {
    await makeAzureStore();
    const containerClient = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(CONTAINER);
    const store = new AzureBlobStore({ containerClient, prefix: `t-${randomUUID()}` });
    expect(store.container).toBe(CONTAINER);
    await exercise(store);
    expect(() => new AzureBlobStore({ containerClient, container: 'another-one' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('createContainer makes a missing container on first use', async () => {
    const container = `new-${randomUUID().slice(0, 12)}`;
    const store = new AzureBlobStore({ container, connectionString, createContainer: true });
    await store.write('x.txt', Buffer.from('x'));
    expect(await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container).exists()).toBe(true);
    await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container).delete();
  });
});

describe('AzureBlobStore: errors', () => {
  it('a missing container is ENOENT naming it, for every operation', async () => {
    const store = new AzureBlobStore({ container: 'no-such-container', connectionString });
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['stat', () => store.stat('a/b.txt')],
      ['list', () => listAll(store, '')],
      ['read', () => store.read('a/b.txt')],
      ['write', () => store.write('a/b.txt', Buffer.from('x'))],
      ['write stream', () => store.write('a/c.txt', Readable.from([Buffer.from('x')]))],
      ['copy', () => store.copy('a/b.txt', 'a/d.txt')],
    ];
    for (const [op, attempt] of attempts) {
      const error = await catchError(attempt());
      expect(error.code, op).toBe('ENOENT');
      expect(error.message, op).toContain("container 'no-such-container' does not exist");
    }
  });

  it('a wrong account key is EACCES, and the key shows nowhere', async () => {
    await makeAzureStore();
    const wrongKey = Buffer.from('this is not the key of the account, not at all!!').toString('base64');
    const viaString = new AzureBlobStore({ container: CONTAINER, connectionString: azuriteConnectionString(blobEndpoint, wrongKey) });
    const viaKey = new AzureBlobStore({ container: CONTAINER, accountName: AZURITE_ACCOUNT.name, accountKey: wrongKey, endpoint: blobEndpoint });
    for (const store of [viaString, viaKey]) {
      for (const attempt of [() => store.stat('x.txt'), () => listAll(store, ''), () => store.write('x.txt', Buffer.from('x')), () => store.read('x.txt')]) {
        const error = await catchError(attempt());
        expect(error.code).toBe('EACCES');
        expect(everythingShown(error)).not.toContain(wrongKey);
      }
      const shown = inspect(store, { depth: 10, showHidden: true }) + JSON.stringify(store) + store.uri;
      expect(shown).not.toContain(wrongKey);
      expect(shown).not.toContain(AZURITE_ACCOUNT.key);
    }
  });

  it('a read conditional on a changed etag is ESTALE; on the current one it reads', async () => {
    const store = await makeAzureStore();
    const first = await store.write('v.txt', Buffer.from('first'));
    const second = await store.write('v.txt', Buffer.from('second'));
    expect(second.etag).not.toBe(first.etag);
    await expect(store.read('v.txt', undefined, { ifMatch: first.etag })).rejects.toMatchObject({ code: 'ESTALE' });
    expect((await readAll(store.read('v.txt', { offset: 1, length: 3 }, { ifMatch: second.etag }))).toString()).toBe('eco');
  });

  it('an unreachable endpoint is a temporary EIO', async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((done) => server.close(() => done()));
    const store = new AzureBlobStore({ container: CONTAINER, connectionString: azuriteConnectionString(`http://127.0.0.1:${port}/${AZURITE_ACCOUNT.name}`) });
    // The SDK retries a refused connection a few times on its own first.
    const error = await catchError(store.stat('x.txt'));
    expect(error.code).toBe('EIO');
    expect(error.temporary).toBe(true);
  }, 60_000);
});

describe('AzureBlobStore: streamed uploads', () => {
  it('round-trips a stream of unknown size much larger than a block', { timeout: 120_000 }, async () => {
    const store = await makeAzureStore({ blockSize: '1MiB', uploadConcurrency: 2 });
    const data = randomBytes(24 * MiB + 12_345);
    const info = await store.write('big/stream.bin', unknownSizeStream(data));
    expect(info).toMatchObject({ key: 'big/stream.bin', size: data.length, isDirectory: false });
    const stat = await store.stat('big/stream.bin');
    expect(stat).toMatchObject({ size: data.length, etag: info.etag });
    expect((await readAll(store.read('big/stream.bin'))).equals(data)).toBe(true);
    const tail = await readAll(store.read('big/stream.bin', { offset: data.length - 100_000, length: 200_000 }));
    expect(tail.equals(data.subarray(data.length - 100_000))).toBe(true);
  });

  it('a stream failing after several blocks leaves the previous object', { timeout: 60_000 }, async () => {
    const store = await makeAzureStore({ blockSize: '256KiB' });
    await store.write('keep.bin', Buffer.from('previous'));
    const failing = Readable.from(
      (async function* () {
        for (let i = 0; i < 8; i++) yield randomBytes(200_000);
        throw new Error('source broke');
      })(),
    );
    await expect(store.write('keep.bin', failing)).rejects.toBeTruthy();
    expect((await readAll(store.read('keep.bin'))).toString()).toBe('previous');
    const failingNew = Readable.from(
      (async function* () {
        for (let i = 0; i < 4; i++) yield randomBytes(200_000);
        throw new Error('source broke');
      })(),
    );
    await expect(store.write('fresh.bin', failingNew)).rejects.toBeTruthy();
    expect(await store.stat('fresh.bin')).toBeUndefined();
  });
});

/**
 * A loopback proxy in front of Azurite that refuses Blob Batch requests as a server without
 * the batch API would (400 with an XML error body), and forwards everything else.
 */
async function startBatchRefusingProxy(target: URL): Promise<{ endpoint: string; batches: () => number; close: () => Promise<void> }> {
  let batches = 0;
  const server: Server = createServer((req, res) => {
    if ((req.url ?? '').includes('comp=batch')) {
      batches++;
      req.resume();
      res.writeHead(400, { 'content-type': 'application/xml', 'x-ms-error-code': 'UnsupportedQueryParameter' });
      res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>UnsupportedQueryParameter</Code><Message>batch is not supported</Message></Error>');
      return;
    }
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT.name}`,
    batches: () => batches,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

describe('AzureBlobStore: batch deletes', () => {
  let proxy: Awaited<ReturnType<typeof startBatchRefusingProxy>>;
  beforeAll(async () => {
    proxy = await startBatchRefusingProxy(new URL(blobEndpoint));
  });
  afterAll(async () => {
    await proxy.close();
  });

  const keys = Array.from({ length: 270 }, (_, i) => `many/k-${i}`);

  it('deletes more keys than one batch holds, missing ones included', { timeout: 60_000 }, async () => {
    const store = await makeAzureStore();
    await Promise.all(keys.map((key) => store.write(key, Buffer.from(key))));
    await store.deleteMany([...keys, 'never/was.txt']);
    expect(await listAll(store, '', true)).toEqual([]);
  });

  it('falls back to single deletes where the batch API is refused, and stops trying it', { timeout: 60_000 }, async () => {
    const prefix = `t-${randomUUID()}`;
    const direct = await makeAzureStore({ prefix });
    const some = keys.slice(0, 40);
    await Promise.all(some.map((key) => direct.write(key, Buffer.from(key))));
    const viaProxy = new AzureBlobStore({ container: CONTAINER, prefix, connectionString: azuriteConnectionString(proxy.endpoint) });
    await viaProxy.deleteMany(some.slice(0, 20));
    expect(proxy.batches()).toBe(1);
    await viaProxy.deleteMany(some.slice(20));
    expect(proxy.batches()).toBe(1);
    expect(await listAll(direct, '', true)).toEqual([]);
  });
});
