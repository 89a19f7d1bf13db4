import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, workspace, type Workspace } from './cli-harness.js';

interface Info {
  path: string;
  name: string;
  type: string;
  size: number;
  mtime?: string;
  mount: string;
  cached: number;
}

describe('stratafs ls / stat / cat / head / tail', () => {
  let ws: Workspace;
  const data = randomBytes(200_000);

  beforeAll(async () => {
    ws = await workspace();
    await writeFile(join(ws.a, 'hello.txt'), 'hello, world\n');
    await writeFile(join(ws.a, 'data.bin'), data);
    await mkdir(join(ws.a, 'sub', 'deep'), { recursive: true });
    await writeFile(join(ws.a, 'sub', 'deep', 'x.txt'), 'x');
  });
  afterAll(() => ws.cleanup());

  it('ls / shows the mount points as directories', async () => {
    const result = await ws.run('ls');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('a/\nb/\n');
  });

  it('ls lists names sorted, directories with a trailing /', async () => {
    expect((await ws.run('ls', '/a')).stdout).toBe('data.bin\nhello.txt\nsub/\n');
  });

  it('ls -R lists every descendant as a relative path', async () => {
    expect((await ws.run('ls', '-R', '/a')).stdout.split('\n').filter(Boolean)).toEqual(['data.bin', 'hello.txt', 'sub/', 'sub/deep/', 'sub/deep/x.txt']);
  });

  it('ls -l shows type, size, cached share, time and name', async () => {
    const lines = (await ws.run('ls', '-l', '/a')).stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^-\s+200000\s+0%\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+data\.bin$/);
    expect(lines[1]).toMatch(/^-\s+13\s+0%\s+.*hello\.txt$/);
    expect(lines[2]).toMatch(/^d\s+-\s+-\s+.*sub\/$/);
  });

  it('ls --json gives FileInfo objects; -R --json includes nested entries', async () => {
    const entries = await ws.json<Info[]>('ls', '/a');
    expect(entries.map((e) => e.name)).toEqual(['data.bin', 'hello.txt', 'sub']);
    expect(entries[1]).toMatchObject({ path: '/a/hello.txt', type: 'file', size: 13, mount: '/a', cached: 0 });
    expect(typeof entries[1]!.mtime).toBe('string');
    const all = await ws.json<Info[]>('ls', '-R', '/a');
    expect(all.map((e) => e.path)).toContain('/a/sub/deep/x.txt');
  });

  it('ls of a file shows that file', async () => {
    expect((await ws.run('ls', '/a/hello.txt')).stdout).toBe('hello.txt\n');
  });

  it('stat prints the metadata; --json gives the FileInfo', async () => {
    const text = await ws.run('stat', '/a/hello.txt');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^path:\s+\/a\/hello\.txt$/m);
    expect(text.stdout).toMatch(/^type:\s+file$/m);
    expect(text.stdout).toMatch(/^size:\s+13 /m);
    expect(text.stdout).toMatch(/^mount:\s+\/a$/m);
    expect(await ws.json<Info>('stat', '/a/sub')).toMatchObject({ path: '/a/sub', type: 'directory', size: 0 });
  });

  it('cat writes files to stdout, byte for byte', async () => {
    expect((await ws.run('cat', '/a/hello.txt', '/a/sub/deep/x.txt')).stdout).toBe('hello, world\nx');
    const binary = await ws.run('cat', '/a/data.bin');
    expect(binary.bytes.equals(data)).toBe(true);
  });

  it('head -c and tail -c write the first and last bytes (sizes accepted)', async () => {
    const [head, tail, headKiB, over] = await Promise.all([
      ws.run('head', '-c', '5', '/a/hello.txt'),
      ws.run('tail', '-c', '6', '/a/hello.txt'),
      ws.run('head', '-c', '1KiB', '/a/data.bin'),
      ws.run('tail', '-c', '999999', '/a/data.bin'),
    ]);
    expect(head.stdout).toBe('hello');
    expect(tail.stdout).toBe('world\n');
    expect(headKiB.bytes.equals(data.subarray(0, 1024))).toBe(true);
    expect(over.bytes.equals(data)).toBe(true);
  });

  it('a missing path: one line "stratafs: ENOENT: ... (path)" and exit code 3', async () => {
    const [cat, stat, ls] = await Promise.all([ws.run('cat', '/a/missing.txt'), ws.run('stat', '/a/nope'), ws.run('ls', '/nowhere')]);
    for (const [result, path] of [
      [cat, '/a/missing.txt'],
      [stat, '/a/nope'],
      [ls, '/nowhere'],
    ] as const) {
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(errorLine('ENOENT', path));
      expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    }
  });

  it('--debug adds the stack trace after the line', async () => {
    const result = await ws.run('cat', '/a/missing.txt', '--debug');
    expect(result.code).toBe(3);
    expect(result.stderr.split('\n')[0]).toMatch(/^stratafs: ENOENT: .* \(\/a\/missing\.txt\)$/);
    expect(result.stderr).toMatch(/StrataError/);
  });

  it('exit codes by error class: EISDIR 5, EROFS 4, usage 2', async () => {
    const [isDir, readOnly, badOption, unknownCommand, noCommand, badCount, fractionalCount, relative, helpOfNone] = await Promise.all([
      ws.run('cat', '/a/sub'),
      ws.run('mkdir', '/top-level'),
      ws.run('ls', '--bogus'),
      ws.run('frobnicate'),
      ws.run(),
      ws.run('head', '-c', 'lots', '/a/hello.txt'),
      ws.run('head', '-c', '1.5', '/a/hello.txt'),
      ws.run('cat', 'a/hello.txt'),
      ws.run('help', 'bogus'),
    ]);
    expect(isDir.code).toBe(5);
    expect(isDir.stderr).toMatch(errorLine('EISDIR', '/a/sub'));
    expect(readOnly.code).toBe(4);
    expect(readOnly.stderr).toMatch(errorLine('EROFS', '/top-level'));
    for (const result of [badOption, unknownCommand, noCommand, badCount, fractionalCount, relative, helpOfNone]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(errorLine('EINVAL'));
    }
    expect(badOption.stderr).toContain("unknown option '--bogus'");
    expect(unknownCommand.stderr).toContain("unknown command 'frobnicate'");
    expect(helpOfNone.stderr).toContain("unknown command 'bogus'");
    expect(noCommand.stderr).toContain('missing command');
    expect(fractionalCount.stderr).toContain('-c must be a whole number of bytes');
    expect(fractionalCount.stdout).toBe('');
  });

  it('--help prints the usage and the exit code table, exit 0', async () => {
    const result = await ws.run('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: stratafs');
    expect(result.stdout).toContain('3 ENOENT');
  });
});
