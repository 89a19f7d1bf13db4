/**
 * `createWriteStream`: piped writes of any size arrive whole, the upload's pace holds the writer
 * back (bounded memory), a failed upload is the stream's error, and a stream destroyed before it
 * finished stores nothing.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, StrataFS, type ObjectInfo, type StoreWriteOptions } from '../../src/index.js';
import { randomBytes } from '../support/helpers.js';

const CHUNK = 16 * 1024;

/** A memory store that takes the bytes of a write slowly, counting what it took. */
class SlowStore extends MemoryStore {
  taken = 0;
  override async write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    if (Buffer.isBuffer(body)) return super.write(key, body, opts);
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      this.taken += (chunk as Buffer).length;
      await sleep(1);
    }
    return super.write(key, Buffer.concat(chunks), opts);
  }
}

/** A source of `count` chunks that counts how many were pulled from it. */
function countingSource(data: Buffer): Readable & { pulled: number } {
  let at = 0;
  const source = new Readable({
    read() {
      if (at >= data.length) return void this.push(null);
      source.pulled += Math.min(CHUNK, data.length - at);
      this.push(data.subarray(at, (at += CHUNK)));
    },
  }) as Readable & { pulled: number };
  source.pulled = 0;
  return source;
}

/** A memory store whose writes take `limit` bytes of a streamed body, then fail as a broken connection would. */
class BreakingStore extends MemoryStore {
  constructor(private readonly limit: number) {
    super();
  }
  override async write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
    if (Buffer.isBuffer(body)) return super.write(key, body, opts);
    let taken = 0;
    for await (const chunk of body) {
      taken += (chunk as Buffer).length;
      if (taken >= this.limit) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    }
    throw new Error('the body ended before the limit');
  }
}

/** Writes `count` chunks of `size` bytes without waiting, recording what each write's callback got ('ok' or the error's code). */
function writeWithoutWaiting(stream: NodeJS.WritableStream, count: number, size: number): string[] {
  const outcomes: string[] = [];
  for (let i = 0; i < count; i++) stream.write(Buffer.alloc(size, i), (error?: Error | null) => outcomes.push(error ? ((error as { code?: string }).code ?? error.message) : 'ok'));
  return outcomes;
}

describe('createWriteStream', () => {
  let fs: StrataFS;
  afterEach(() => fs?.close());

  it('a piped write of many chunks arrives whole, and only then finishes', async () => {
    fs = new StrataFS();
    await fs.mount('/m', 'memory://');
    const data = randomBytes(4 * 1024 * 1024 + 5);
    const writer = fs.createWriteStream('/m/big.bin');
    let visibleAtFinish: boolean | undefined;
    writer.on('finish', () => void fs.exists('/m/big.bin').then((seen) => (visibleAtFinish = seen)));
    await pipeline(countingSource(data), writer);
    expect((await fs.readFile('/m/big.bin')).equals(data)).toBe(true);
    await sleep(10);
    expect(visibleAtFinish).toBe(true);
  });

  it('the writer is held back by the upload: a slow store never has much more than a few chunks waiting', async () => {
    const store = new SlowStore();
    fs = new StrataFS();
    await fs.mount('/m', store);
    const data = randomBytes(200 * CHUNK);
    const source = countingSource(data);
    let mostAhead = 0;
    source.on('data', () => (mostAhead = Math.max(mostAhead, source.pulled - store.taken)));
    await pipeline(source, fs.createWriteStream('/m/slow.bin'));
    expect(store.taken).toBe(data.length);
    expect(mostAhead).toBeGreaterThan(0);
    expect(mostAhead).toBeLessThanOrEqual(16 * CHUNK); // the stream buffers, not the whole body
    expect((await fs.readFile('/m/slow.bin')).equals(data)).toBe(true);
  });

  it('a write the mount refuses is the stream error (EROFS), with no finish', async () => {
    fs = new StrataFS();
    await fs.mount('/ro', new MemoryStore(), { readOnly: true });
    const writer = fs.createWriteStream('/ro/x.bin');
    let finished = false;
    writer.on('finish', () => (finished = true));
    writer.end(Buffer.from('refused'));
    const [error] = (await once(writer, 'error')) as [{ code?: string }];
    expect(error.code).toBe('EROFS');
    expect(finished).toBe(false);
  });

  it('a stream destroyed before it finished stores nothing: the previous file stays', async () => {
    fs = new StrataFS();
    await fs.mount('/m', 'memory://');
    await fs.writeFile('/m/keep.txt', 'original');
    const writer = fs.createWriteStream('/m/keep.txt');
    writer.on('error', () => undefined);
    writer.write(randomBytes(100_000));
    await sleep(20);
    writer.destroy();
    await once(writer, 'close');
    await sleep(20);
    expect((await fs.readFile('/m/keep.txt')).toString()).toBe('original');
    const fresh = fs.createWriteStream('/m/new.txt');
    fresh.write('never finished');
    fresh.destroy();
    await once(fresh, 'close');
    await sleep(20);
    expect(await fs.exists('/m/new.txt')).toBe(false);
  });

  it('an upload that fails calls back every write it had not taken with the error (a writer awaiting them does not hang)', async () => {
    fs = new StrataFS({ retry: { attempts: 1 } });
    await fs.mount('/m', new BreakingStore(4 * CHUNK));
    const writer = fs.createWriteStream('/m/broken.bin', { writeType: 'THROUGH' });
    let errors = 0;
    writer.on('error', () => errors++);
    const outcomes = writeWithoutWaiting(writer, 32, CHUNK);
    await new Promise((resolve) => writer.once('close', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomes).toHaveLength(32);
    expect(outcomes.at(-1)).toBe('EIO');
    expect(outcomes.filter((o) => o !== 'ok').every((o) => o === 'EIO')).toBe(true);
    expect(errors).toBe(1);
    expect(await fs.exists('/m/broken.bin')).toBe(false);
  });

  it('destroy() calls back the writes the upload had not taken: with its error, or ERR_STREAM_DESTROYED', async () => {
    fs = new StrataFS();
    await fs.mount('/m', new SlowStore());
    for (const [error, code] of [[Object.assign(new Error('given up'), { code: 'EMINE' }), 'EMINE'], [undefined, 'ERR_STREAM_DESTROYED']] as const) {
      const writer = fs.createWriteStream('/m/given-up.bin');
      writer.on('error', () => undefined);
      const outcomes = writeWithoutWaiting(writer, 32, CHUNK);
      writer.destroy(error);
      await new Promise((resolve) => writer.once('close', resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(outcomes).toHaveLength(32);
      expect(outcomes.at(-1)).toBe(code);
    }
    expect(await fs.exists('/m/given-up.bin')).toBe(false);
  });

  it('a writer may reuse its buffer once a write was called back: the file holds what was written', async () => {
    fs = new StrataFS();
    await fs.mount('/m', 'memory://');
    const writer = fs.createWriteStream('/m/reused.txt');
    const buffer = Buffer.alloc(4);
    for (const letter of ['A', 'B', 'C']) {
      buffer.fill(letter);
      await new Promise<void>((resolve, reject) => writer.write(buffer, (error) => (error ? reject(error) : resolve())));
    }
    writer.end();
    await once(writer, 'finish');
    expect((await fs.readFile('/m/reused.txt')).toString()).toBe('AAAABBBBCCCC');
    await fs.free('/m/reused.txt');
    expect((await fs.readFile('/m/reused.txt')).toString()).toBe('AAAABBBBCCCC');
  });

  it('concurrent streams keep at most the memory tier capacity between them for the cache, not that much each', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    /** A full collection, repeated: the backing stores of dead Buffers are freed in the background. */
    const gc = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        collect();
        await sleep(20);
      }
    };
    /** A memory store that takes each body whole, then holds its write until `open()`. */
    class GatedStore extends MemoryStore {
      taken = 0;
      #open!: () => void;
      readonly gate = new Promise<void>((resolve) => (this.#open = resolve));
      open(): void {
        this.#open();
      }
      override async write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
        if (Buffer.isBuffer(body)) return super.write(key, body, opts);
        let size = 0;
        for await (const chunk of body) size += (chunk as Buffer).length; // not held: the bytes the writer keeps are what is measured
        this.taken += size;
        await this.gate;
        return super.write(key, Buffer.alloc(size), opts);
      }
    }
    const MiB = 1024 * 1024;
    const store = new GatedStore();
    fs = new StrataFS({ cache: { memory: { capacity: 8 * MiB } } });
    await fs.mount('/m', store);
    await gc();
    const before = process.memoryUsage().arrayBuffers;
    const writers = Array.from({ length: 6 }, (_, i) => fs.createWriteStream(`/m/f${i}`));
    await Promise.all(
      writers.map(async (writer) => {
        for (let j = 0; j < 6; j++) if (!writer.write(Buffer.alloc(MiB, j))) await once(writer, 'drain');
        writer.end();
      }),
    );
    while (store.taken < 36 * MiB) await sleep(5);
    await gc();
    const held = process.memoryUsage().arrayBuffers - before;
    store.open();
    await Promise.all(writers.map((writer) => once(writer, 'finish')));
    expect(held).toBeLessThan(12 * MiB); // 8 MiB kept at most, not 36
    for (let i = 0; i < 6; i++) expect((await fs.stat(`/m/f${i}`)).size).toBe(6 * MiB);
  });

  it('counts bytesWritten as fs write streams do: the bytes of the file once it finished', async () => {
    fs = new StrataFS();
    await fs.mount('/m', 'memory://');
    const writer = fs.createWriteStream('/m/f.txt');
    expect(writer.bytesWritten).toBe(0);
    writer.write('héllo ');
    writer.end(Buffer.alloc(1000));
    await once(writer, 'finish');
    expect(writer.bytesWritten).toBe(1007);
    expect((await fs.stat('/m/f.txt')).size).toBe(1007);
  });

  it('writeFile of an async iterable that reuses its buffer once asked for the next chunk stores every chunk as it was, as fs.writeFile does', async () => {
    fs = new StrataFS();
    await fs.mount('/m', 'memory://');
    const buffer = new Uint8Array(64 * 1024);
    const reusing = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 10; i++) {
        buffer.fill(i); // the chunk yielded last time may be anywhere in the upload still
        yield buffer;
      }
      yield Buffer.from('end');
    };
    const expected = Buffer.concat([...Array.from({ length: 10 }, (_, i) => Buffer.alloc(64 * 1024, i)), Buffer.from('end')]);
    for (const writeType of ['THROUGH', 'CACHE_THROUGH'] as const) {
      await fs.writeFile(`/m/${writeType}.bin`, reusing(), { writeType });
      expect((await fs.readFile(`/m/${writeType}.bin`)).equals(expected), writeType).toBe(true);
      await fs.free(`/m/${writeType}.bin`);
      expect((await fs.readFile(`/m/${writeType}.bin`)).equals(expected), writeType).toBe(true);
    }
  });

  it('takes highWaterMark and encoding as fs write streams do: write() returns false past it, then drain', async () => {
    fs = new StrataFS();
    await fs.mount('/m', 'memory://');
    const stream = fs.createWriteStream('/m/hw.txt', { highWaterMark: 1024, encoding: 'hex' });
    expect(stream.writableHighWaterMark).toBe(1024);
    expect(stream.write('41'.repeat(512))).toBe(true); // 512 bytes: below the mark
    expect(stream.write('42'.repeat(1024))).toBe(false);
    await once(stream, 'drain');
    stream.end('43', 'latin1');
    await once(stream, 'finish');
    expect((await fs.readFile('/m/hw.txt')).toString()).toBe('A'.repeat(512) + 'B'.repeat(1024) + '43');
    const none = fs.createWriteStream('/m/zero.bin', { highWaterMark: 0 });
    await pipeline(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), none);
    expect((await fs.readFile('/m/zero.bin')).toString()).toBe('abcd');
    for (const bad of [{ highWaterMark: -1 }, { highWaterMark: 1.5 }, { encoding: 'nope' as BufferEncoding }]) {
      expect(() => fs.createWriteStream('/m/bad', bad)).toThrow(expect.objectContaining({ code: 'EINVAL', path: '/m/bad' }));
    }
  });

  it('a stream destroyed after end() but before finish stores nothing when the store had not committed', async () => {
    /** A store that commits a write 200 ms after taking its bytes, unless its signal fired by then. */
    class LateStore extends MemoryStore {
      override async write(key: string, body: Readable | Buffer, opts?: StoreWriteOptions): Promise<ObjectInfo> {
        const chunks: Buffer[] = [];
        if (Buffer.isBuffer(body)) chunks.push(body);
        else for await (const chunk of body) chunks.push(chunk as Buffer);
        await sleep(200);
        return super.write(key, Buffer.concat(chunks), opts);
      }
    }
    fs = new StrataFS();
    await fs.mount('/m', new LateStore());
    await fs.writeFile('/m/f.txt', 'OLD');
    const writer = fs.createWriteStream('/m/f.txt');
    const errors: string[] = [];
    writer.on('error', (error) => errors.push(error.message));
    writer.end('NEW');
    await sleep(50);
    const closed = new Promise((resolve) => writer.on('close', resolve));
    writer.destroy(new Error('cancelled'));
    await closed;
    await sleep(300);
    expect(errors).toEqual(['cancelled']);
    expect((await fs.readFile('/m/f.txt')).toString()).toBe('OLD');
  });

  describe('a stream still open when its mount goes (unmount or close() stopped waiting for it after 10 s)', () => {
    afterEach(() => void vi.useRealTimers());

    for (const [name, end] of [
      ['unmount', (f: StrataFS) => f.unmount('/m')],
      ['close', (f: StrataFS) => f.close()],
    ] as const) {
      it(`${name}: the stream fails with EINVAL and stores nothing: the previous file stays`, async () => {
        const store = new MemoryStore();
        fs = new StrataFS();
        await fs.mount('/m', store);
        await fs.writeFile('/m/f.txt', 'OLD');
        const writer = fs.createWriteStream('/m/f.txt');
        const failed = new Promise<Error>((resolve, reject) => {
          writer.on('error', resolve);
          writer.on('finish', () => reject(new Error('finished')));
        });
        writer.write('NEW');
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        const gone = end(fs);
        await vi.advanceTimersByTimeAsync(10_000);
        await gone;
        vi.useRealTimers();
        writer.end(' AND MORE');
        expect(await failed).toMatchObject({ code: 'EINVAL' });
        const again = new StrataFS();
        await again.mount('/m', store);
        expect((await again.readFile('/m/f.txt')).toString()).toBe('OLD');
        await again.close();
      });
    }
  });
});
