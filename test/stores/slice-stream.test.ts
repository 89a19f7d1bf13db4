/**
 * `sliceStream`, which cuts a range out of a whole-object body (stores without ranged reads,
 * servers that ignore `Range`): exact bytes, the source let go early, errors and destroy passed on.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sliceStream } from '../../src/io/slice-stream.js';

/** A stream of `data` in chunks of the given sizes (the last repeated). */
function chunked(data: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, n = 0; at < data.length; n++) {
    const size = sizes[Math.min(n, sizes.length - 1)]!;
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks, { objectMode: false });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** A source that sends 1 KiB chunks for ever, counting them. */
function endless(): Readable & { sent: number } {
  const source = new Readable({
    read() {
      source.sent++;
      this.push(Buffer.alloc(1024, source.sent % 256));
    },
  }) as Readable & { sent: number };
  source.sent = 0;
  return source;
}

describe('sliceStream', () => {
  const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

  it('passes on exactly the bytes of the range, wherever the chunks break', async () => {
    for (const sizes of [[1], [7], [3, 50, 1], [100]]) {
      for (const [offset, length] of [[0, 100], [0, 1], [5, 10], [6, 1], [49, 3], [99, 1], [10, 90], [95, 20]] as const) {
        const got = await readAll(sliceStream(chunked(data, sizes), { offset, length }));
        expect(got.equals(data.subarray(offset, offset + length)), `chunks ${sizes}, range ${offset}+${length}`).toBe(true);
      }
    }
  });

  it('without a length, passes on everything from the offset; past the end, nothing', async () => {
    expect((await readAll(sliceStream(chunked(data, [9]), { offset: 42 }))).equals(data.subarray(42))).toBe(true);
    expect((await readAll(sliceStream(chunked(data, [9]), { offset: 0 }))).equals(data)).toBe(true);
    expect((await readAll(sliceStream(chunked(data, [9]), { offset: 100 }))).length).toBe(0);
    expect((await readAll(sliceStream(chunked(data, [9]), { offset: 150, length: 5 }))).length).toBe(0);
  });

  it('stops the source once the range is complete', async () => {
    const source = endless();
    const got = await readAll(sliceStream(source, { offset: 1500, length: 2000 }));
    expect(got.length).toBe(2000);
    expect(got[0]).toBe(2); // byte 1500 is in the second chunk
    expect(got[got.length - 1]).toBe(4); // byte 3499 is in the fourth
    expect(source.destroyed).toBe(true);
    expect(source.sent).toBeLessThan(40);
  });

  it('a zero-length range ends at once and lets the source go', async () => {
    const source = endless();
    expect((await readAll(sliceStream(source, { offset: 10, length: 0 }))).length).toBe(0);
    expect(source.destroyed).toBe(true);
  });

  it("fails with the source's error", async () => {
    const failure = new Error('socket hang up');
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent++ < 2) this.push(Buffer.alloc(10));
        else this.destroy(failure);
      },
    });
    await expect(readAll(sliceStream(source, { offset: 5, length: 100 }))).rejects.toBe(failure);
  });

  it('destroying the result destroys the source, even while it waits for data', async () => {
    const source = new Readable({ read() {} }); // never sends
    const slice = sliceStream(source, { offset: 0, length: 10 });
    slice.resume();
    slice.destroy();
    await once(source, 'close');
    expect(source.destroyed).toBe(true);
  });
});
