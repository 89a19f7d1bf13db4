import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, workspace, type Workspace } from './cli-harness.js';

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
    const result = await run.result;
    source.destroy();
    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('stratafs: interrupted\n');
    expect(await readdir(ws.a)).toEqual([]);
  });
});
