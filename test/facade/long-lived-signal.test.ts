/**
 * A service hands one long-lived signal (its shutdown signal) to every call. Many calls at once
 * under it must not print `MaxListenersExceededWarning`, and calls that have ended must leave
 * nothing on it.
 */
import { getEventListeners } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MemoryStore, StrataFS, type UnderStore } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';
import { randomBytes, readAll } from '../support/helpers.js';

const PAGE = 64 * 1024;
const CALLS = 30;

let fs: StrataFS;
let store: CountingStore;
let warnings: string[];
const onWarning = (warning: Error): void => void warnings.push(warning.name);

beforeEach(async () => {
  warnings = [];
  process.on('warning', onWarning);
  fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '64MiB' } } });
  store = new CountingStore();
  await fs.mount('/s', store);
  for (let i = 0; i < CALLS; i++) await fs.writeFile(`/s/f${i}`, randomBytes(3 * PAGE));
  await fs.free('/s', { recursive: true });
  store.delayMs = 5; // the calls overlap
});

afterEach(async () => {
  process.off('warning', onWarning);
  await fs.close();
});

/**
 * How many signals Node.js keeps a record of on `signal`: those `AbortSignal.any` made from it,
 * which Node.js 20 keeps for as long as `signal` lives, however long ago their call ended.
 */
function signalsMadeFrom(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  return key ? ((signal as unknown as Record<symbol, Set<unknown> | undefined>)[key]?.size ?? 0) : 0;
}

/** Lets warnings emitted on the next ticks arrive. */
async function warningsDelivered(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

it(`${CALLS} reads at once under one signal print no MaxListenersExceededWarning and leave no listener on it`, async () => {
  const shutdown = new AbortController();
  const files = await Promise.all(Array.from({ length: CALLS }, (_, i) => fs.readFile(`/s/f${i}`, { signal: shutdown.signal })));
  expect(files.every((f) => f.length === 3 * PAGE)).toBe(true);
  await warningsDelivered();
  expect(warnings).not.toContain('MaxListenersExceededWarning');
  expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
});

it(`${CALLS} read streams at once under one signal print no MaxListenersExceededWarning, and still all abort with it`, async () => {
  const shutdown = new AbortController();
  const done = await Promise.all(Array.from({ length: CALLS }, (_, i) => readAll(fs.createReadStream(`/s/f${i}`, { signal: shutdown.signal }))));
  expect(done.every((f) => f.length === 3 * PAGE)).toBe(true);
  await warningsDelivered();
  expect(warnings).not.toContain('MaxListenersExceededWarning');
  expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);

  const streams = Array.from({ length: CALLS }, (_, i) => fs.createReadStream(`/s/f${i}`, { signal: shutdown.signal }));
  const outcomes = streams.map((s) => readAll(s).then(() => 'read', (error: Error) => error.name));
  shutdown.abort();
  expect(await Promise.all(outcomes)).toEqual(Array(CALLS).fill('AbortError'));
});

it(`${CALLS} removals and write streams at once under one signal print no MaxListenersExceededWarning and leave nothing on it`, async () => {
  const shutdown = new AbortController();
  const data = randomBytes(PAGE);
  await Promise.all(Array.from({ length: CALLS }, (_, i) => pipeline([data], fs.createWriteStream(`/s/w${i}`, { signal: shutdown.signal }))));
  await Promise.all(Array.from({ length: CALLS }, (_, i) => fs.rm(`/s/w${i}`, { signal: shutdown.signal })));
  await warningsDelivered();
  expect(warnings).not.toContain('MaxListenersExceededWarning');
  expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  expect(signalsMadeFrom(shutdown.signal)).toBe(0);
});

it('writes, copies, moves and removals under a long-lived signal leave nothing on it once done (with a timeout too)', async () => {
  await fs.close();
  fs = new StrataFS({ timeout: 10_000, cache: { pageSize: PAGE, memory: { capacity: '64MiB' } } });
  store = new CountingStore();
  await fs.mount('/s', store);
  const shutdown = new AbortController();
  const { signal } = shutdown;
  const data = randomBytes(PAGE);
  for (let i = 0; i < 5; i++) {
    await fs.writeFile(`/s/d/f${i}`, data, { signal });
    await pipeline([data], fs.createWriteStream(`/s/d/s${i}`, { signal }));
    await fs.copy(`/s/d/f${i}`, `/s/d/c${i}`, { signal });
    await fs.rename(`/s/d/c${i}`, `/s/d/r${i}`, { signal });
    await fs.readdir('/s/d', { signal });
    await fs.load(`/s/d/f${i}`, { signal });
  }
  await fs.rm('/s/d', { recursive: true, signal });
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  expect(signalsMadeFrom(signal)).toBe(0);
});

/**
 * A connector that listens on the signal of each call as an SDK does (one listener per call,
 * until the call, or its body, or its listing ends) and records the signals it was given.
 */
function listeningStore(): { store: UnderStore; given: AbortSignal[]; hang: { write?: Promise<void> } } {
  const inner = new MemoryStore();
  const given: AbortSignal[] = [];
  const hang: { write?: Promise<void> } = {};
  const listen = (signal: AbortSignal | undefined): (() => void) => {
    if (!signal) return () => undefined;
    given.push(signal);
    const listener = (): void => undefined;
    signal.addEventListener('abort', listener);
    return () => signal.removeEventListener('abort', listener);
  };
  const during = async <T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> => {
    const stop = listen(signal);
    try {
      return await work();
    } finally {
      stop();
    }
  };
  const store: UnderStore = {
    uri: 'listening://x',
    capabilities: { rangeRead: true, list: true, copy: false, rename: false, directories: false },
    stat: (key, opts) => during(opts?.signal, () => inner.stat(key, opts)),
    list: async function* (prefix, opts) {
      const stop = listen(opts?.signal);
      try {
        yield* inner.list(prefix, opts);
      } finally {
        stop();
      }
    },
    read: async (key, range, opts) => {
      const stop = listen(opts?.signal);
      const body = await inner.read(key, range, opts).catch((error: unknown) => {
        stop();
        throw error;
      });
      body.once('close', stop);
      return body;
    },
    write: (key, body, opts) =>
      during(opts?.signal, async () => {
        if (hang.write && opts?.signal) {
          const signal = opts.signal;
          await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        }
        return inner.write(key, body, opts);
      }),
    delete: (key, opts) => during(opts?.signal, () => inner.delete(key, opts)),
  };
  return { store, given, hang };
}

it(`a connector that listens on each call's signal: ${CALLS} writes, reads and listings at once under one signal, no timeout set, print no warning; an abort reaches it at once`, async () => {
  await fs.close();
  fs = new StrataFS({ cache: { pageSize: PAGE, memory: { capacity: '64MiB' } } });
  const { store: listening, given, hang } = listeningStore();
  await fs.mount('/l', listening);
  const shutdown = new AbortController();
  const { signal } = shutdown;
  const names = Array.from({ length: CALLS }, (_, i) => `/l/d/f${i}`);
  await Promise.all(names.map((name) => fs.writeFile(name, randomBytes(PAGE), { signal, writeType: 'THROUGH' })));
  await fs.free('/l', { recursive: true });
  await Promise.all(names.map((name) => fs.readFile(name, { signal })));
  await Promise.all(names.map(() => fs.readdir('/l/d', { signal })));
  await warningsDelivered();
  expect(warnings).not.toContain('MaxListenersExceededWarning');
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  expect(given.length).toBeGreaterThan(3 * CALLS);
  expect(given.includes(signal)).toBe(false); // each call had a signal of its own

  // An abort of the caller's signal reaches a call in progress in the connector, with its reason.
  hang.write = Promise.resolve();
  const seen = given.length;
  const writing = fs.writeFile('/l/d/hung', 'x', { signal, writeType: 'THROUGH' }).then(() => 'written', (error: Error) => error.name);
  while (given.length === seen || !given.slice(seen).some((s) => getEventListeners(s, 'abort').length > 1)) await new Promise((resolve) => setImmediate(resolve));
  const reason = new DOMException('shutting down', 'AbortError');
  shutdown.abort(reason);
  expect(given.slice(seen).some((s) => s.aborted && s.reason === reason)).toBe(true);
  expect(await writing).toBe('AbortError');
});
