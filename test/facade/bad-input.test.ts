import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StrataFS, StrataError } from '../../src/index.js';

const hostilePaths: unknown[] = [
  '',
  'relative/path',
  './a',
  '../a',
  'a',
  '\0',
  '/a\0b',
  '/a/\0',
  '/a\\b',
  '\\a',
  '/..\\..\\etc',
  'C:\\Windows',
  '/a\nb',
  '/a\rb',
  '/\u0007bell',
  '/\u007f',
  '/' + 'x'.repeat(1025),
  '/' + 'a/'.repeat(2100),
  null,
  undefined,
  42,
  NaN,
  {},
  [],
  ['/a'],
  true,
  Symbol.iterator,
  () => '/a',
  new String('/a'),
  Buffer.from('/a'),
  new URL('file:///etc/passwd'),
  'file:///etc/passwd',
  's3://bucket/key',
  ' /a',
  '~/a',
  '%2e%2e/a',
  '..%2f..%2fetc',
  '\t/a',
  '/a\u0000/../b',
  'a/../../b',
  '/\u0000',
  '/x\ud800', // lone surrogates: no store can encode them (local and OSS made both '/x\ufffd')
  '/a\udc00b/c',
  '/emoji-cut-\ud83d',
];

const hostileUris: unknown[] = [
  '',
  'not a uri',
  'memory',
  '://nothing',
  'unknown-scheme://x',
  'http://example',
  'file://user:pass@/tmp',
  's3://key:secret@bucket/x',
  'memory://\0',
  'memory://a b',
  'file:///tmp/\\x',
  42,
  null,
  {},
  { uri: 'memory://' },
  'javascript:alert(1)',
];

describe('bad input is refused with EINVAL before any I/O', () => {
  let fs: StrataFS;
  beforeAll(async () => {
    fs = new StrataFS();
    await fs.mount('/', 'memory://');
    await fs.writeFile('/a', 'a');
  });
  afterAll(() => fs.close());

  const ops: [string, (path: unknown) => unknown][] = [
    ['stat', (p) => fs.stat(p as string)],
    ['exists', (p) => fs.exists(p as string)],
    ['readdir', (p) => fs.readdir(p as string)],
    ['readFile', (p) => fs.readFile(p as string)],
    ['writeFile', (p) => fs.writeFile(p as string, 'x')],
    ['mkdir', (p) => fs.mkdir(p as string)],
    ['rm', (p) => fs.rm(p as string)],
    ['rename', (p) => fs.rename(p as string, '/b')],
    ['rename to', (p) => fs.rename('/a', p as string)],
    ['copy', (p) => fs.copy(p as string, '/b')],
    ['open', (p) => fs.open(p as string)],
    ['mount', (p) => fs.mount(p as string, 'memory://')],
    ['unmount', (p) => fs.unmount(p as string)],
    ['load', (p) => fs.load(p as string)],
    ['free', (p) => fs.free(p as string)],
    ['pin', (p) => fs.pin(p as string)],
    ['persist', (p) => fs.persist(p as string)],
    ['createReadStream', (p) => fs.createReadStream(p as string)],
    ['createWriteStream', (p) => fs.createWriteStream(p as string)],
  ];

  it('has at least 40 hostile paths', () => {
    expect(hostilePaths.length).toBeGreaterThanOrEqual(40);
  });

  for (const [name, op] of ops) {
    it(`${name} refuses every hostile path`, async () => {
      for (const path of hostilePaths) {
        // Paths that normalise to a legal absolute path are not hostile for the facade.
        if (typeof path === 'string' && path.startsWith('/') && !/[\0\\\u0000-\u001f\u007f]/.test(path) && !/[\ud800-\udfff]/.test(path) && path.length < 4096 && !path.split('/').some((s) => s.length > 1024)) continue;
        let error: unknown;
        try {
          await op(path);
        } catch (e) {
          error = e;
        }
        expect(error, `${name}(${String(typeof path === 'symbol' ? 'symbol' : JSON.stringify(path))?.slice(0, 60)})`).toBeInstanceOf(StrataError);
        expect((error as StrataError).code).toBe('EINVAL');
        expect((error as StrataError).message.length).toBeGreaterThan(10);
      }
    });
  }

  it('mount refuses every hostile URI and non-store', async () => {
    for (const uri of hostileUris) {
      let error: unknown;
      try {
        await fs.mount('/hostile', uri as string);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(uri)).toBeInstanceOf(StrataError);
      expect((error as StrataError).code).toBe('EINVAL');
      expect((error as StrataError).message).not.toMatch(/user:pass|key:secret/);
    }
    expect(fs.mounts().map((m) => m.path)).toEqual(['/']);
  });

  it('.. never climbs above / and paths collapse', async () => {
    await fs.writeFile('/../../x/./y//z.txt', 'z');
    expect((await fs.readFile('/x/y/z.txt')).toString()).toBe('z');
    expect((await fs.stat('/x/y/')).type).toBe('directory');
  });

  it('well-formed Unicode names, surrogate pairs included, are names like any other', async () => {
    await fs.writeFile('/\u{1f600}/caf\u00e9-\u{1d11e}.txt', 'ok');
    expect(await fs.readdir('/\u{1f600}')).toEqual(['caf\u00e9-\u{1d11e}.txt']);
    expect((await fs.readFile('/\u{1f600}/caf\u00e9-\u{1d11e}.txt')).toString()).toBe('ok');
  });

  it('options are checked: unknown keys, wrong types, negative and NaN numbers', async () => {
    const bad: [string, () => unknown][] = [
      ['constructor unknown key', () => new StrataFS({ cache: { pagesize: 1 } } as never)],
      ['negative pageSize', () => new StrataFS({ cache: { pageSize: -1 } })],
      ['NaN capacity', () => new StrataFS({ cache: { memory: { capacity: NaN } } })],
      ['huge capacity string', () => new StrataFS({ cache: { memory: { capacity: '99999999999999999999TiB' } } })],
      ['bad size string', () => new StrataFS({ cache: { pageSize: '1 megabyte' } })],
      ['a fraction of a byte', () => new StrataFS({ cache: { pageSize: '4096.5' } })],
      ['bad readType', () => new StrataFS({ readType: 'SOMETIMES' as never })],
      ['bad writeType', () => new StrataFS({ writeType: 'LATER' as never })],
      ['syncInterval below -1', () => new StrataFS({ metadata: { syncInterval: -5 } })],
      ['retry attempts 0', () => new StrataFS({ retry: { attempts: 0 } })],
      ['timeout string', () => new StrataFS({ timeout: '5s' as never })],
      ['options not object', () => new StrataFS('fast' as never)],
      ['readFile negative offset', () => fs.readFile('/a', { offset: -1 })],
      ['readFile NaN length', () => fs.readFile('/a', { length: NaN })],
      ['readFile unknown option', () => fs.readFile('/a', { encodng: 'utf8' } as never)],
      ['readFile bad encoding', () => fs.readFile('/a', { encoding: 'utf-9' } as never)],
      ['writeFile bad data', () => fs.writeFile('/a', 42 as never)],
      ['writeFile null data', () => fs.writeFile('/a', null as never)],
      ['readdir recursive not boolean', () => fs.readdir('/', { recursive: 'yes' } as never)],
      ['rm force not boolean', () => fs.rm('/a', { force: 1 } as never)],
      ['mount readOnly string', () => fs.mount('/z', 'memory://', { readOnly: 'true' } as never)],
      ['mount unknown option', () => fs.mount('/z', 'memory://', { readonly: true } as never)],
      ['stream end before start', () => fs.createReadStream('/a', { start: 5, end: 1 })],
      ['signal not a signal', () => fs.stat('/a', { signal: {} } as never)],
      ['ASYNC_THROUGH without disk', () => fs.writeFile('/a', 'x', { writeType: 'ASYNC_THROUGH' })],
      ['MUST_CACHE without disk', () => fs.writeFile('/a', 'x', { writeType: 'MUST_CACHE' })],
    ];
    for (const [what, call] of bad) {
      let error: unknown;
      try {
        await call();
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(StrataError);
      expect((error as StrataError).code, what).toBe('EINVAL');
    }
    expect((await fs.readFile('/a')).toString()).toBe('a');
  });

  it("a stream made with a signal that already fired ends in an AbortError, as fs streams do (the 'error' event)", async () => {
    const controller = new AbortController();
    controller.abort();
    const streams = [fs.createReadStream('/a', { signal: controller.signal }), fs.createWriteStream('/a', { signal: controller.signal })];
    const errors = await Promise.all(streams.map(async (stream) => ((await once(stream, 'error')) as unknown[])[0]));
    for (const error of errors) expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect((await fs.readFile('/a')).toString()).toBe('a');
  });

  it("a call's bad option names the call's path and operation", async () => {
    const calls: [string, string, () => unknown][] = [
      ['/a', 'read', () => fs.readFile('/a', { offset: -1 })],
      ['/a', 'createReadStream', () => fs.createReadStream('/a', { highWaterMark: -1 })],
      ['/a', 'createWriteStream', () => fs.createWriteStream('/a', { writeType: 'LATER' as never })],
      ['/a', 'write', () => fs.writeFile('/a', 42 as never)],
      ['/', 'readdir', () => fs.readdir('/', { withInfo: 'yes' } as never)],
      ['/a', 'open', () => fs.open('/a', { readType: 'SOMETIMES' as never })],
      ['/a', 'copy', () => fs.copy('/a', '/b', { overwrite: 'no' } as never)],
      ['/d', 'mkdir', () => fs.mkdir('/d', { parents: true } as never)],
    ];
    for (const [path, op, call] of calls) {
      const error = await (async () => call())().then(
        () => undefined,
        (e: unknown) => e as StrataError,
      );
      expect({ path: error?.path, op: error?.op, code: error?.code }).toEqual({ path, op, code: 'EINVAL' });
    }
  });
});
