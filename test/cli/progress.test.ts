import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

/** A stream that collects what is written; `tty` makes it look like a terminal. */
function sink(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  Object.assign(stream, { isTTY: tty, columns: 200 });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('progress reporting (load, cp -r)', () => {
  it('on a terminal: a live bar with bytes, files, rate and ETA', async () => {
    const out = sink(true);
    const progress = createProgress('load /data', { stream: out.stream });
    progress.update({ bytes: 0, totalBytes: 2048, files: 0, totalFiles: 2 });
    progress.update({ bytes: 2048, totalBytes: 2048, files: 2, totalFiles: 2 });
    progress.stop();
    await new Promise((r) => setImmediate(r));
    const text = out.text();
    expect(text).toContain('load /data [');
    expect(text).toMatch(/100% \| 2\.0 KiB\/2\.0 KiB \| 2\/2 files \| \S+ \S+\/s \| ETA 0s/);
  });

  it('elsewhere: plain lines, first and last always, none in between within the interval', () => {
    const out = sink(false);
    const progress = createProgress('cp /a', { stream: out.stream, interval: 60_000 });
    progress.update({ bytes: 0, totalBytes: 0, files: 0, totalFiles: 3 });
    progress.update({ bytes: 0, totalBytes: 0, files: 1, totalFiles: 3 });
    progress.update({ bytes: 0, totalBytes: 0, files: 3, totalFiles: 3 });
    progress.stop();
    expect(out.text().split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^cp \/a: 0\/3 files, 0 B\/0 B \(0%\), /),
      expect.stringMatching(/^cp \/a: 3\/3 files, 0 B\/0 B \(100%\), 0 B\/s, ETA 0s$/),
    ]);
  });
});
