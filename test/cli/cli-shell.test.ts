import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, runCli, startCli, workspace, type Workspace } from './cli-harness.js';

describe.skipIf(process.platform === 'win32')('stratafs in scripts: signals', () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await workspace();
  });
  afterAll(() => ws.cleanup());

  /** Waits until `dir` has an entry (the copy has started writing). */
  async function untilWriting(dir: string): Promise<void> {
    for (let i = 0; i < 500 && (await readdir(dir)).length === 0; i++) await sleep(20);
  }

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during a copy stops it cleanly: exit %i, nothing left at the destination', async (signal, code) => {
    // The source is a named pipe kept open: the copy has started and waits for more.
    const fifo = join(ws.dir, `source-${signal}`);
    execFileSync('mkfifo', [fifo]);
    const run = startCli(['cp', `file:${fifo}`, `/a/copy-${signal}.bin`], ws.dir, {}, 'ignore');
    const source = createWriteStream(fifo).on('error', () => undefined);
    source.write(Buffer.alloc(256 * 1024, 7));
    await untilWriting(ws.a);
    run.child.kill(signal);
    // More data (never the end) so that a read blocked on the pipe returns and the copy sees the signal.
    let settled = false;
    void run.result.finally(() => (settled = true));
    while (!settled) {
      source.write(Buffer.alloc(1024, 7));
      await sleep(50);
    }
    const result = await run.result;
    source.destroy();
    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('stratafs: interrupted\n');
    expect(await readdir(ws.a)).toEqual([]);
  });

  it('Ctrl-C while the source pipe is silent stops the copy at once: no more data is needed', async () => {
    const fifo = join(ws.dir, 'silent-source');
    execFileSync('mkfifo', [fifo]);
    const run = startCli(['cp', `file:${fifo}`, '/a/copy-silent.bin'], ws.dir, {}, 'ignore');
    // The writer has opened the pipe but sent nothing: the copy waits in its first read.
    const source = createWriteStream(fifo).on('error', () => undefined);
    await new Promise((resolve) => source.once('open', resolve));
    await sleep(1500);
    run.child.kill('SIGINT');
    const result = await run.result;
    source.destroy();
    expect(result.code).toBe(130);
    expect(result.stderr).toBe('stratafs: interrupted\n');
    expect(await readdir(ws.a)).toEqual([]);
  });

  it('Ctrl-C while the destination pipe is not read stops the copy at once', async () => {
    await writeFile(join(ws.a, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 3));
    const fifo = join(ws.dir, 'stalled-destination');
    execFileSync('mkfifo', [fifo]);
    // The reader takes one chunk and then reads no more: the copy waits in a write.
    const reader = createReadStream(fifo);
    const first = new Promise((resolve) => reader.once('data', resolve));
    const run = startCli(['cp', '/a/big.bin', `file:${fifo}`], ws.dir, {}, 'ignore');
    await first;
    reader.pause();
    await sleep(1000);
    run.child.kill('SIGINT');
    const result = await run.result;
    reader.destroy();
    expect(result.code).toBe(130);
    expect(result.stderr).toBe('stratafs: interrupted\n');
  });
});

describe.skipIf(process.platform === 'win32')('stratafs cp to local files that are not plain files', () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await workspace();
    await writeFile(join(ws.a, 'f.txt'), 'from the namespace\n');
  });
  afterAll(() => ws.cleanup());

  it('a named pipe (like /dev/stdout) is written to, not replaced by a file', async () => {
    const fifo = join(ws.dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = text(createReadStream(fifo));
    const result = await runCli(['cp', '/a/f.txt', `file:${fifo}`], ws.dir);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    expect(await reader).toBe('from the namespace\n');
  });

  it('a named pipe whose reader stops early (like | head) ends the copy quietly, as cp SRC - does', async () => {
    await writeFile(join(ws.a, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 1));
    const fifo = join(ws.dir, 'early.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = createReadStream(fifo);
    const first = new Promise<Buffer>((resolve) => reader.once('data', (chunk) => resolve(chunk as Buffer)));
    const run = runCli(['cp', '/a/big.bin', `file:${fifo}`], ws.dir);
    expect((await first).length).toBeGreaterThan(0);
    reader.destroy();
    expect(await run).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('a symbolic link is written through, as cp(1) does: the link stays, the file it names gets the data', async () => {
    await mkdir(join(ws.dir, 'real'));
    await writeFile(join(ws.dir, 'real', 'target.txt'), 'old');
    await symlink(join(ws.dir, 'real', 'target.txt'), join(ws.dir, 'link.txt'));
    const result = await runCli(['cp', '/a/f.txt', 'file:link.txt'], ws.dir);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await readlink(join(ws.dir, 'link.txt'))).toBe(join(ws.dir, 'real', 'target.txt'));
    expect(await readFile(join(ws.dir, 'real', 'target.txt'), 'utf8')).toBe('from the namespace\n');
    expect(await readdir(join(ws.dir, 'real'))).toEqual(['target.txt']);
  });
});

describe("stratafs cp with '-': stdin and stdout", () => {
  let ws: Workspace;
  const data = randomBytes(300_000);

  beforeAll(async () => {
    ws = await workspace();
  });
  afterAll(() => ws.cleanup());

  it('cp - DST writes stdin to a file, byte for byte; cp SRC - writes a file to stdout', async () => {
    const up = startCli(['cp', '-', '/a/from-stdin.bin'], ws.dir);
    up.child.stdin!.end(data);
    expect(await up.result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect((await readFile(join(ws.a, 'from-stdin.bin'))).equals(data)).toBe(true);
    const down = await runCli(['cp', '/a/from-stdin.bin', '-'], ws.dir);
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(down.bytes.equals(data)).toBe(true);
  });

  it("'-' with a directory, with -r, or on both sides is refused", async () => {
    const [intoDir, recursive, both, local] = await Promise.all([
      runCli(['cp', '-', '/a/'], ws.dir),
      runCli(['cp', '-r', '/a', '-'], ws.dir),
      runCli(['cp', '-', '-'], ws.dir),
      runCli(['cp', '-', 'file:/tmp/x'], ws.dir),
    ]);
    expect(intoDir.code).toBe(5);
    expect(intoDir.stderr).toMatch(errorLine('EISDIR', '/a'));
    for (const result of [recursive, both, local]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(errorLine('EINVAL'));
    }
  });
});
