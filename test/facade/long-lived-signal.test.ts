/**
 * A service hands one long-lived signal (its shutdown signal) to every call. Many calls at once
 * under it must not print `MaxListenersExceededWarning`, and calls that have ended must leave
 * nothing on it.
 */
import { getEventListeners } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
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
