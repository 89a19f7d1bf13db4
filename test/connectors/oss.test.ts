/**
 * The Aliyun OSS connector through the official `ali-oss` SDK against the wire-protocol test
 * server (test/support/wire-server, started by test/support/wire-server.global-setup.ts), which
 * checks every request's OSS V1 signature: the shared conformance suites, the checks OSS and
 * COS share, and what is OSS's own — STS tokens, range behaviour, ListObjectsV2 paging.
 */
import { describe, expect, inject, it } from 'vitest';
import OSS from 'ali-oss';
import type { AliOssClient, AliOssClientOptions } from '../../src/store/oss/ali-oss-types.js';
import { OssStore, type OssStoreOptions } from '../../src/store/oss/oss-store.js';
import { describeFacadeConformance } from '../conformance/facade-suite.js';
import { describeStoreConformance, listAll, mapLimit, readAll } from '../conformance/store-suite.js';
import { describeVendorStore, failure, freshPrefix, prefixOf, type VendorSdk, type VendorStore } from '../support/wire-server/connector-checks.js';

const wire = inject('wireServer');
const { bucket, accessKeyId, accessKeySecret } = wire.oss;

/** Settings of a store on the test server (path-style: the bucket is the first path segment). */
const settings = { endpoint: wire.endpoint, pathStyle: true, accessKeyId, accessKeySecret };

/** Options of a store on a fresh prefix of the test bucket. */
function makeOptions(): OssStoreOptions {
  return { bucket, prefix: freshPrefix(), ...settings };
}

function makeStore(overrides: Partial<OssStoreOptions> = {}): OssStore {
  return new OssStore({ ...makeOptions(), ...overrides });
}

/** `ali-oss`'s ListMultipartUploads, which stratafs does not use. */
type WithListUploads = AliOssClient & { listUploads(query: Record<string, string>): Promise<{ uploads: Array<{ name: string }> }> };

/** An `ali-oss` client on the test server, as a user would make one. */
function makeClient(options: Partial<AliOssClientOptions> & { timeout?: number } = {}): AliOssClient {
  const Client = OSS as unknown as new (o: AliOssClientOptions & { timeout?: number }) => AliOssClient;
  return new Client({ bucket, endpoint: wire.endpoint, sldEnable: true, accessKeyId, accessKeySecret, ...options });
}

describeStoreConformance('oss', async () => makeStore());
describeFacadeConformance('oss', async () => makeStore());

/** What the shared checks do with `ali-oss` itself. */
const sdk: VendorSdk = {
  impatientStore: () => new OssStore({ bucket, prefix: freshPrefix(), client: makeClient({ timeout: 300 }) }),
  startUpload: async (fullKey) => void (await makeClient().initMultipartUpload(fullKey)),
  pendingUploads: async (prefix) => (await (makeClient() as WithListUploads).listUploads({ prefix })).uploads.map((u) => u.name),
  seed: async (fullKey, body) => void (await makeClient().put(fullKey, Buffer.from(body))),
};

describeVendorStore({
  Store: OssStore,
  options: (overrides) => ({ ...makeOptions(), ...overrides }),
  minPartSize: 100 * 1024,
  credentials: { idSetting: 'accessKeyId', secretSetting: 'accessKeySecret', secret: accessKeySecret, env: ['OSS_ACCESS_KEY_ID', 'OSS_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'] },
  missingBucket: { name: 'no-such-bucket', namedOnRead: false }, // ali-oss reports any 404 of a GET as NoSuchKey
  unreachable: { endpoint: 'http://127.0.0.1:9' },
  sdk,
  uris: {
    base: { endpoint: wire.endpoint, pathStyle: true },
    valid: [
      ['oss://my-bucket/data/2024/', 'oss://my-bucket/data/2024'],
      ['oss://my-bucket', 'oss://my-bucket'],
      ['oss://b0b/a%20b/c', 'oss://b0b/a%20b/c'],
      ['oss://bkt//x/y/', 'oss://bkt/x/y'],
    ],
    invalid: [
      ['oss://ab/x', 'not valid'],
      [`oss://${'a'.repeat(64)}/x`, 'not valid'],
      ['oss://Upper/x', 'not valid'],
      ['oss://-leading/x', 'not valid'],
      ['oss://with_underscore/x', 'not valid'],
      ['oss://my.bucket/x', 'not valid'],
      ['oss:///x', 'needs a bucket'],
      ['oss://bucket:9000/x', 'port'],
      ['oss://bucket/x?region=cn-hangzhou', 'query'],
      ['oss://ak:sk@bucket/x', 'credentials'],
      ['oss://bucket/a/%2e%2e%2fb', "'..'"],
      ['cos://bucket-1250000000/x', 'OSS URI'],
    ],
    invalidSettings: [
      [{ regoin: 'cn-hangzhou' }, 'regoin'],
      [{ accessKey: 'ZZSECRETZZ' }, 'accessKey'],
      [{ secretAccessKey: 'ZZSECRETZZ' }, 'secretAccessKey'],
      [{ region: 42 }, 'region'],
      [{ endpoint: '' }, 'endpoint'],
      [{ endpoint: 'ftp://host' }, 'endpoint'],
      [{ endpoint: 'http://ak:ZZSECRETZZ@host' }, 'endpoint'],
      [{ accessKeySecret: 12345 }, 'accessKeySecret'],
      [{ stsToken: true }, 'stsToken'],
      [{ secure: 'yes' }, 'secure'],
      [{ pathStyle: 1 }, 'pathStyle'],
      [{ client: {} }, 'client'],
      [{ partSize: 1024 }, 'partSize'],
      [{ partSize: '8MiB' }, 'partSize'],
      [{ multipartThreshold: 1 }, 'multipartThreshold'],
    ],
  },
});

describe('OssStore: what is its own', () => {
  it('signs with STS temporary credentials (the token travels in x-oss-security-token)', async () => {
    const { stsAccessKeyId, stsAccessKeySecret, stsToken } = wire.oss;
    const store = makeStore({ accessKeyId: stsAccessKeyId, accessKeySecret: stsAccessKeySecret, stsToken });
    try {
      await store.write('sts.txt', Buffer.from('temporary'));
      expect((await readAll(store.read('sts.txt'))).toString()).toBe('temporary');
      const wrongToken = makeStore({ accessKeyId: stsAccessKeyId, accessKeySecret: stsAccessKeySecret, stsToken: 'CAIS-expired-ZZSECRETZZ' });
      const error = await failure('EACCES', () => wrongToken.write('sts.txt', Buffer.from('x')));
      expect((error.cause as { code?: unknown }).code).toBe('InvalidSecurityToken');
      expect(error.message).not.toContain('ZZSECRETZZ');
    } finally {
      await store.close();
    }
  });

  it('asks for standard range behaviour: a range past the end is empty, not the whole object as OSS sends by default', async () => {
    const store = makeStore();
    const client = makeClient();
    try {
      await store.write('r.bin', Buffer.from('0123456789'));
      const key = `${prefixOf(store)}/r.bin`;
      const lenient = await client.getStream(key, { headers: { Range: 'bytes=20-30' } });
      expect((await readAll(lenient.stream)).toString()).toBe('0123456789'); // what OSS does without the header
      expect((await readAll(store.read('r.bin', { offset: 20, length: 10 }))).length).toBe(0);
      expect((await readAll(store.read('r.bin', { offset: 8, length: 10 }))).toString()).toBe('89');
    } finally {
      await store.close();
    }
  });

  it('pages listings with continuation tokens, each key once', async () => {
    const store = makeStore();
    try {
      const keys = Array.from({ length: 1_205 }, (_, i) => `p/${String(i).padStart(4, '0')}`);
      const prefix = prefixOf(store);
      const client = makeClient();
      await mapLimit(keys, 16, (key) => client.put(`${prefix}/${key}`, Buffer.from(key)));
      await mapLimit(['p/sub-a/x', 'p/sub-b/y', 'p/zz/'], 4, (key) => client.put(`${prefix}/${key}`, Buffer.alloc(0)));
      const listed = await listAll(store, 'p');
      expect(listed.length).toBe(keys.length + 3);
      expect(new Set(listed.map((i) => i.key)).size).toBe(listed.length);
      expect(listed.filter((i) => i.isDirectory).map((i) => i.key).sort()).toEqual(['p/sub-a', 'p/sub-b', 'p/zz']);
    } finally {
      await store.close();
    }
  });

  it('an injected client wins over every other setting and is left open by close()', async () => {
    const client = makeClient();
    const prefix = freshPrefix();
    const store = new OssStore({ bucket, prefix, client, endpoint: 'http://127.0.0.1:9', accessKeySecret: 'unused' });
    await store.write('a.txt', Buffer.from('via injected client'));
    await store.close();
    const again: VendorStore = new OssStore({ bucket, prefix, client });
    expect((await readAll(again.read('a.txt'))).toString()).toBe('via injected client');
  });

  it('accepts every documented setting (region with or without the oss- prefix)', () => {
    for (const region of ['cn-hangzhou', 'oss-cn-hangzhou']) {
      const store = OssStore.fromUri(new URL('oss://bucket/x'), { region, accessKeyId: 'id', accessKeySecret: 'secret', stsToken: 'token', secure: true, pathStyle: false, partSize: 1024 * 1024, multipartThreshold: 2 * 1024 * 1024 });
      expect(store.uri).toBe('oss://bucket/x');
      expect(store.bucket).toBe('bucket');
    }
  });
});
