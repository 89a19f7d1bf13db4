/**
 * `guardStream`, which every cloud connector puts on its download bodies: errors mapped, abort,
 * no crash when nobody reads, and no stream in between.
 */
import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { StrataError } from '../../src/index.js';
import { guardStream } from '../../src/store/stream-utils.js';

const toEio = (error: unknown): Error => new StrataError('EIO', `mapped: ${(error as Error).message}`, { cause: error });

/** A body that sends `chunks`, then fails with `failure`. */
function breakingBody(chunks: string[], failure: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent < chunks.length) this.push(Buffer.from(chunks[sent++]!));
      else this.destroy(failure);
    },
  });
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('guardStream', () => {
  it('hands the bytes through and a failure mid-body reaches the reader mapped', async () => {
    const body = guardStream(breakingBody(['ab', 'cd'], new Error('socket hang up')), toEio);
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of body) seen.push(String(chunk));
    })().catch((e: unknown) => e);
    expect(seen.join('')).toBe('abcd');
    expect(error).toBeInstanceOf(StrataError);
    expect(error).toMatchObject({ code: 'EIO' });
    expect((error as Error).message).toContain('mapped: socket hang up');
  });

  it('a pipeline and an error listener get the mapped error too', async () => {
    const body = guardStream(breakingBody(['x'], new Error('reset')), toEio);
    const heard = new Promise<unknown>((resolve) => body.once('error', resolve));
    const piped = pipeline(body, new Writable({ write: (_chunk, _encoding, done) => done() })).catch((e: unknown) => e);
    expect(await piped).toMatchObject({ code: 'EIO' });
    expect(await heard).toMatchObject({ code: 'EIO' });
  });

  it('an error while nobody reads is no unhandled error', async () => {
    const source = new Readable({ read() {} });
    const body = guardStream(source, toEio);
    source.destroy(new Error('dropped'));
    await tick();
    await tick();
    expect(body.destroyed).toBe(true);
  });

  it('the signal destroys the body with an AbortError', async () => {
    const controller = new AbortController();
    const body = guardStream(new Readable({ read() {} }), (error) => (error as Error).name === 'AbortError' ? (error as Error) : toEio(error), controller.signal);
    const reading = readAll(body).catch((e: unknown) => e);
    controller.abort();
    expect(await reading).toMatchObject({ name: 'AbortError' });
  });

  it('destroying the body stops the source (it is the source itself, with no stream in between)', () => {
    const source = new Readable({ read() {} });
    const body = guardStream(source, toEio);
    expect(body).toBe(source);
    body.destroy();
    expect(source.destroyed).toBe(true);
  });

  it('an old-style stream is wrapped into a Readable', async () => {
    const legacy = Object.assign(new EventEmitter(), { readable: true, pause() {}, resume() {} }) as unknown as NodeJS.ReadableStream;
    const body = guardStream(legacy, toEio);
    expect(body).toBeInstanceOf(Readable);
    const reading = readAll(body);
    (legacy as unknown as EventEmitter).emit('data', Buffer.from('old'));
    (legacy as unknown as EventEmitter).emit('end');
    expect(await reading).toBe('old');
  });
});
