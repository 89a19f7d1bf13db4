import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { loadConfig } from '../../src/config/load-config.js';
import { everythingShown, expectCode } from '../support/helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratafs-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Writes a config file and returns its path. */
async function file(name: string, body: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof body === 'string' ? body : JSON.stringify(body, null, 2));
  return path;
}

describe('loadConfig with an object', () => {
  it('splits options from mounts and orders mounts parents first', async () => {
    const loaded = await loadConfig({
      cache: { pageSize: '64KiB' },
      readType: 'NO_CACHE',
      mounts: {
        '/a/b/c': 'memory://',
        '/z': 'memory://',
        '/': 'memory://',
        '/a//b/': { uri: 'memory://', readOnly: true, syncInterval: -1 },
        '/a': { uri: 'memory://', readType: 'CACHE_PROMOTE', writeType: 'THROUGH', options: { region: 'x' } },
      },
    });
    expect(loaded.options).toEqual({ cache: { pageSize: '64KiB' }, readType: 'NO_CACHE' });
    expect(loaded.mounts.map(([path]) => path)).toEqual(['/', '/a', '/z', '/a/b', '/a/b/c']);
    expect(loaded.mounts[1]![1]).toEqual({ uri: 'memory://', options: { readType: 'CACHE_PROMOTE', writeType: 'THROUGH', options: { region: 'x' } } });
    expect(loaded.mounts[3]![1]).toEqual({ uri: 'memory://', options: { readOnly: true, syncInterval: -1 } });
    expect(loaded.mounts[0]![1]).toEqual({ uri: 'memory://', options: {} });
  });

  it('a config without mounts is an empty namespace', async () => {
    expect(await loadConfig({})).toEqual({ options: {}, mounts: [] });
  });

  it('does not substitute ${NAME} in objects (only in files)', async () => {
    const loaded = await loadConfig({ mounts: { '/': { uri: 'memory://', options: { key: '${NOT_TOUCHED}' } } } });
    expect(loaded.mounts[0]![1].options.options).toEqual({ key: '${NOT_TOUCHED}' });
  });

  it('rejects unknown mount keys, bad values, relative and duplicate mount points with EINVAL naming them', async () => {
    const cases: [unknown, RegExp][] = [
      [{ mounts: { '/a': { uri: 'memory://', readonly: true } } }, /mounts\["\/a"\]: unknown key 'readonly'/],
      [{ mounts: { '/a': { readOnly: true } } }, /mounts\["\/a"\]: uri is missing/],
      [{ mounts: { '/a': { uri: 'memory://', readType: 'SOMETIMES' } } }, /mounts\["\/a"\]\.readType must be one of CACHE, CACHE_PROMOTE, NO_CACHE/],
      [{ mounts: { '/a': { uri: 'memory://', writeType: 'LATER' } } }, /writeType must be one of/],
      [{ mounts: { '/a': { uri: 'memory://', syncInterval: 1.5 } } }, /syncInterval must be an integer/],
      [{ mounts: { '/a': { uri: 'memory://', readOnly: 'yes' } } }, /readOnly must be true or false/],
      [{ mounts: { '/a': { uri: 'memory://', options: [] } } }, /options must be an object/],
      [{ mounts: { '/a': 42 } }, /must be a store URI string or/],
      [{ mounts: { '/a': '' } }, /store URI must be a non-empty string/],
      [{ mounts: { data: 'memory://' } }, /mounts\.data: a mount point must be an absolute path/],
      [{ mounts: { '/a': 'memory://', '/a/': 'memory://' } }, /mount point \/a is given twice/],
      [{ mounts: ['memory://'] }, /mounts must be an object/],
    ];
    for (const [config, message] of cases) {
      const error = await expectCode(loadConfig(config as never), 'EINVAL');
      expect(error.message, JSON.stringify(config)).toMatch(message);
    }
    await expectCode(loadConfig(42 as never), 'EINVAL');
  });
});

describe('loadConfig with a JSON file', () => {
  it('reads the file and replaces ${NAME} in every string from the environment', async () => {
    const path = await file('env.json', {
      cache: { disk: { dir: '${CFG_CACHE_DIR}/cache' } },
      mounts: {
        '/data': { uri: 's3://${CFG_BUCKET}/prefix', options: { credentials: { secretAccessKey: '${CFG_SECRET}' }, list: ['${CFG_BUCKET}', 1, true, null] } },
        '/lit': { uri: 'memory://', options: { template: 'cost: $${NOT_A_VAR} and $5' } },
      },
    });
    const env = { CFG_CACHE_DIR: '/var/tmp', CFG_BUCKET: 'my-bucket', CFG_SECRET: 'abc/def+ghi' };
    const loaded = await loadConfig(path, env);
    expect(loaded.options).toEqual({ cache: { disk: { dir: '/var/tmp/cache' } } });
    expect(loaded.mounts[0]).toEqual([
      '/data',
      { uri: 's3://my-bucket/prefix', options: { options: { credentials: { secretAccessKey: 'abc/def+ghi' }, list: ['my-bucket', 1, true, null] } } },
    ]);
    expect(loaded.mounts[1]![1].options.options).toEqual({ template: 'cost: ${NOT_A_VAR} and $5' });
  });

  it('uses process.env by default', async () => {
    const path = await file('process-env.json', { mounts: { '/': 'memory://${CFG_PROCESS_NAME}' } });
    process.env.CFG_PROCESS_NAME = 'from-process';
    try {
      expect((await loadConfig(path)).mounts[0]![1].uri).toBe('memory://from-process');
    } finally {
      delete process.env.CFG_PROCESS_NAME;
    }
  });

  it('a missing or empty variable is EINVAL naming it and where it is used, never a value', async () => {
    const path = await file('missing.json', { mounts: { '/s3': { uri: 's3://b', options: { region: '${CFG_REGION}', secretAccessKey: '${CFG_MISSING_SECRET}' } } } });
    const missing = await expectCode(loadConfig(path, { CFG_REGION: 'eu-secret-region-1' }), 'EINVAL');
    expect(missing.message).toContain('environment variable CFG_MISSING_SECRET is not set');
    expect(missing.message).toContain('mounts["/s3"].options.secretAccessKey');
    expect(missing.message).not.toContain('eu-secret-region-1');
    expect(missing.path).toBe(path);
    const empty = await expectCode(loadConfig(path, { CFG_REGION: 'x', CFG_MISSING_SECRET: '' }), 'EINVAL');
    expect(empty.message).toContain('environment variable CFG_MISSING_SECRET is empty');
  });

  it('a malformed reference is EINVAL', async () => {
    for (const text of ['${}', '${1ABC}', '${OPEN', 'a ${B-C} d']) {
      const path = await file('malformed.json', { mounts: { '/': { uri: 'memory://', options: { v: text } } } });
      await expectCode(loadConfig(path, { OPEN: 'x', B: 'y' }), 'EINVAL');
    }
  });

  it('bad JSON is EINVAL with line and column, without quoting the text', async () => {
    const path = await file('bad.json', '{\n  "mounts": {\n    "/": "memory://",\n    "secret": "hunter2hunter2" oops\n  }\n}\n');
    const error = await expectCode(loadConfig(path), 'EINVAL');
    expect(error.message).toContain('not valid JSON at line 4, column 32');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('oops');
    const truncated = await file('truncated.json', '{ "mounts": { "/": "mem');
    expect((await expectCode(loadConfig(truncated), 'EINVAL')).message).toMatch(/line 1, column 24 .*found the end of the file/);
    const notObject = await file('array.json', '[1, 2]');
    expect((await expectCode(loadConfig(notObject), 'EINVAL')).message).toContain('must hold a JSON object');
  });

  it('accepts a UTF-8 byte order mark', async () => {
    const path = await file('bom.json', '\ufeff{ "mounts": { "/": "memory://" } }');
    expect((await loadConfig(path)).mounts).toHaveLength(1);
  });

  it('a missing file is ENOENT with its path; a directory is EISDIR', async () => {
    const missing = join(dir, 'nope.json');
    expect((await expectCode(loadConfig(missing), 'ENOENT')).path).toBe(missing);
    expect((await expectCode(loadConfig(dir), 'EISDIR')).path).toBe(dir);
  });

  it('a relative cache.disk.dir resolves against the file\'s directory', async () => {
    await mkdir(join(dir, 'nested'), { recursive: true });
    const path = join(dir, 'nested', 'rel.json');
    await writeFile(path, JSON.stringify({ cache: { disk: { dir: 'cache-here', capacity: '1MiB' } } }));
    expect((await loadConfig(path)).options.cache?.disk?.dir).toBe(join(dir, 'nested', 'cache-here'));
  });
});

describe('StrataFS.fromConfig', () => {
  it('mounts nested mounts parents first, from an object', async () => {
    const fs = await StrataFS.fromConfig({
      metadata: { syncInterval: 0 },
      mounts: { '/a/b': 'memory://', '/': 'memory://', '/a': { uri: 'memory://', readOnly: true } },
    });
    try {
      expect(fs.mounts().map((m) => [m.path, m.readOnly])).toEqual([
        ['/', false],
        ['/a', true],
        ['/a/b', false],
      ]);
      await fs.writeFile('/a/b/x.txt', 'nested');
      expect((await fs.stat('/a/b/x.txt')).mount).toBe('/a/b');
      await expectCode(fs.writeFile('/a/y.txt', 'no'), 'EROFS');
      expect(await fs.readdir('/a')).toEqual(['b']);
    } finally {
      await fs.close();
    }
  });

  it('reads a JSON file with ${ENV} and a local mount', async () => {
    const data = join(dir, 'data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'f.txt'), 'local bytes');
    const path = await file('fs.json', { cache: { pageSize: '64KiB', disk: { dir: 'disk-cache' } }, mounts: { '/local': '${CFG_DATA_URI}' } });
    process.env.CFG_DATA_URI = pathToFileURL(data).href;
    const fs = await StrataFS.fromConfig(path).finally(() => delete process.env.CFG_DATA_URI);
    try {
      expect((await fs.readFile('/local/f.txt')).toString()).toBe('local bytes');
      expect(fs.stats().disk).toBeDefined();
    } finally {
      await fs.close();
    }
  });

  it('a variable put where a setting of another kind belongs is EINVAL naming the setting, never the value', async () => {
    const secret = 'ghp_Sup3rSecretTokenValue';
    const settings: Array<[string, Record<string, unknown>]> = [
      ['timeout', { timeout: '${CFG_TOKEN}' }],
      ['cache.pageSize', { cache: { pageSize: '${CFG_TOKEN}' } }],
      ['cache.memory.capacity', { cache: { memory: { capacity: '${CFG_TOKEN}' } } }],
      ['readType', { readType: '${CFG_TOKEN}' }],
      ['writeType', { writeType: '${CFG_TOKEN}' }],
      ['metadata.syncInterval', { metadata: { syncInterval: '${CFG_TOKEN}' } }],
      ['retry', { retry: { attempts: '${CFG_TOKEN}' } }],
    ];
    for (const [setting, config] of settings) {
      process.env.CFG_TOKEN = secret;
      try {
        const path = await file('misplaced.json', { ...config, mounts: {} });
        const error = await expectCode(StrataFS.fromConfig(path), 'EINVAL');
        expect(error.message).toContain(setting);
        expect(everythingShown(error)).not.toContain(secret);
      } finally {
        delete process.env.CFG_TOKEN;
      }
    }
  });

  it('bad options or a bad mount fail with EINVAL (and nothing stays open)', async () => {
    await expectCode(StrataFS.fromConfig({ cache: { pageSize: 'tiny' } } as never), 'EINVAL');
    await expectCode(StrataFS.fromConfig({ unknownOption: 1 } as never), 'EINVAL');
    await expectCode(StrataFS.fromConfig({ mounts: { '/': 'memory://', '/x': 'nosuchscheme://bucket' } }), 'EINVAL');
  });
});
