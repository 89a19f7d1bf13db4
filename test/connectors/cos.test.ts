/**
 * The Tencent COS connector through the official `cos-nodejs-sdk-v5` SDK against the
 * wire-protocol test server (test/support/wire-server, started by
 * test/support/wire-server.global-setup.ts), which checks every request's COS signature: the
 * shared conformance suites, the checks OSS and COS share, and what is COS's own — the
 * download sink (no error document read as data, early stop), region and bucket-appid rules.
 */
import { randomBytes } from 'node:crypto';
import COS from 'cos-nodejs-sdk-v5';
import { describe, expect, inject, it } from 'vitest';
import { CosStore, type CosStoreOptions } from '../../src/store/cos/cos-store.js';
import { describeFacadeConformance } from '../conformance/facade-suite.js';
import { describeStoreConformance, readAll } from '../conformance/store-suite.js';
import { describeVendorStore, failure, freshPrefix, prefixOf, type VendorSdk } from '../support/wire-server/connector-checks.js';

const wire = inject('wireServer');
const { bucket, region, secretId, secretKey } = wire.cos;

/** On loopback the bucket goes in the path: `Domain` is `127.0.0.1:<port>/{Bucket}`. */
const domain = `${wire.host}/{Bucket}`;

/** Options of a store on a fresh prefix of the test bucket. */
function makeOptions(): CosStoreOptions {
  return { bucket, region, prefix: freshPrefix(), domain, protocol: 'http', secretId, secretKey };
}

function makeStore(overrides: Partial<CosStoreOptions> = {}): CosStore {
  return new CosStore({ ...makeOptions(), ...overrides });
}

/** A `COS` client on the test server, as a user would make one. */
function makeClient(options: COS.COSOptions = {}): COS {
  return new COS({ SecretId: secretId, SecretKey: secretKey, Domain: domain, Protocol: 'http:', ...options });
}

describeStoreConformance('cos', async () => makeStore());
describeFacadeConformance('cos', async () => makeStore());

/** What the shared checks do with `cos-nodejs-sdk-v5` itself. */
const sdk: VendorSdk = {
  impatientStore() {
    return new CosStore({ bucket, region, prefix: freshPrefix(), client: makeClient({ Timeout: 300 }) });
  },
  async startUpload(Key) {
    await makeClient().multipartInit({ Bucket: bucket, Region: region, Key });
  },
  async pendingUploads(Prefix) {
    const { Upload } = await makeClient().multipartList({ Bucket: bucket, Region: region, Prefix, Delimiter: '' });
    return Upload.map((upload) => upload.Key);
  },
  async seed(Key, text) {
    await makeClient().putObject({ Bucket: bucket, Region: region, Key, Body: Buffer.from(text) });
  },
};

describeVendorStore({
  Store: CosStore,
  options: (overrides) => ({ ...makeOptions(), ...overrides }),
  minPartSize: 1024 * 1024,
  credentials: { idSetting: 'secretId', secretSetting: 'secretKey', secret: secretKey, env: ['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'COS_SECRET_ID', 'COS_SECRET_KEY'] },
  missingBucket: { name: 'no-such-bucket-1250000000', namedOnRead: true },
  unreachable: { domain: '127.0.0.1:9/{Bucket}' },
  sdk,
  uris: {
    base: { region, domain, protocol: 'http' },
    valid: [
      ['cos://examplebucket-1250000000/data/2024/', 'cos://examplebucket-1250000000/data/2024'],
      ['cos://examplebucket-1250000000', 'cos://examplebucket-1250000000'],
      ['cos://a-b-1/a%20b/c', 'cos://a-b-1/a%20b/c'],
      ['cos://bkt-125//x/y/', 'cos://bkt-125/x/y'],
    ],
    invalid: [
      ['cos://examplebucket/x', 'name-appid'],
      ['cos://examplebucket-appid/x', 'name-appid'],
      ['cos://Example-1250000000/x', 'name-appid'],
      ['cos://-x-1250000000/x', 'name-appid'],
      [`cos://${'a'.repeat(45)}-1250000000/x`, 'name-appid'],
      ['cos:///x', 'needs a bucket'],
      ['cos://b-1250000000:443/x', 'port'],
      ['cos://b-1250000000/x?region=ap-guangzhou', 'query'],
      ['cos://id:key@b-1250000000/x', 'credentials'],
      ['cos://b-1250000000/a/%2e%2e%2fb', "'..'"],
      ['oss://bucket/x', 'COS URI'],
    ],
    invalidSettings: [
      [{ region: undefined }, 'region'],
      [{ region: 'cos.ap-guangzhou' }, 'region'],
      [{ region: 'AP GUANGZHOU' }, 'region'],
      [{ regoin: 'ap-guangzhou' }, 'regoin'],
      [{ SecretKey: 'ZZSECRETZZ' }, 'SecretKey'],
      [{ secretKey: 42 }, 'secretKey'],
      [{ securityToken: false }, 'securityToken'],
      [{ domain: 7 }, 'domain'],
      [{ domain: 'user:ZZSECRETZZ@127.0.0.1:9/{Bucket}' }, 'domain'],
      [{ domain: '127.0.0.1:9/{Bucket}?sig=ZZSECRETZZ' }, 'domain'],
      [{ protocol: 'ftp' }, 'protocol'],
      [{ pathStyle: true }, 'pathStyle'],
      [{ client: {} }, 'client'],
      [{ partSize: 512 * 1024 }, 'partSize'],
      [{ multipartThreshold: 1 }, 'multipartThreshold'],
    ],
  },
});

describe('CosStore: what is its own', () => {
  it('a failed GET never hands the error document to the reader as data', async () => {
    const store = makeStore();
    try {
      await store.write('present.txt', Buffer.from('x'));
      await failure('ENOENT', () => store.read('absent.txt'));
      await failure('EACCES', () => store.read('f/__fault-403-AccessDenied__'));
      const denied = makeStore({ prefix: prefixOf(store), secretKey: 'wrong-secret-key-000' });
      await failure('EACCES', () => denied.read('present.txt'));
    } finally {
      await store.close();
    }
  });

  it('a reader that stops early releases the download, and the store keeps working', async () => {
    const store = makeStore();
    try {
      const data = randomBytes(4 * 1024 * 1024);
      await store.write('big.bin', data);
      for (let i = 0; i < 8; i++) {
        const stream = await store.read('big.bin');
        const first = await new Promise<Buffer>((resolve, reject) => {
          stream.once('data', (chunk: Buffer) => resolve(chunk));
          stream.once('error', reject);
        });
        expect(first.length).toBeGreaterThan(0);
        stream.destroy();
      }
      expect((await readAll(store.read('big.bin', { offset: 100, length: 50 }))).equals(data.subarray(100, 150))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('an abort signal stops a download', async () => {
    const store = makeStore();
    try {
      await store.write('big.bin', randomBytes(2 * 1024 * 1024));
      const controller = new AbortController();
      const stream = await store.read('big.bin', undefined, { signal: controller.signal });
      controller.abort();
      await expect(readAll(stream)).rejects.toMatchObject({ name: 'AbortError' });
      const early = new AbortController();
      early.abort();
      await expect(store.read('big.bin', undefined, { signal: early.signal })).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await store.close();
    }
  });

  it('an injected client wins over credentials and domain, and is left open by close()', async () => {
    const client = makeClient();
    const prefix = freshPrefix();
    const store = new CosStore({ bucket, region, prefix, client, domain: '127.0.0.1:9', secretKey: 'unused' });
    await store.write('a.txt', Buffer.from('via injected client'));
    await store.close();
    const again = new CosStore({ bucket, region, prefix, client });
    expect((await readAll(again.read('a.txt'))).toString()).toBe('via injected client');
  });

  it('accepts every documented setting', () => {
    const store = CosStore.fromUri(new URL('cos://examplebucket-1250000000/x'), {
      region: 'ap-beijing',
      secretId: 'id',
      secretKey: 'key',
      securityToken: 'token',
      domain: '{Bucket}.cos.{Region}.myqcloud.com',
      protocol: 'https',
      partSize: 8 * 1024 * 1024,
      multipartThreshold: 16 * 1024 * 1024,
    });
    expect(store).toMatchObject({ uri: 'cos://examplebucket-1250000000/x', bucket: 'examplebucket-1250000000', region: 'ap-beijing' });
  });
});
