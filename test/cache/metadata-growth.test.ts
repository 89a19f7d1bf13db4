/**
 * A service running for days looks up ever new paths (most of them once, many of them missing):
 * the metadata cache holds about what was looked up within one `syncInterval`, not every path
 * it was ever asked about.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { CountingStore } from '../support/counting-store.js';

const SYNC = 60_000;
const PER_MINUTE = 3000;

let fs: StrataFS;
let store: CountingStore;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] }); // Date.now() moves only when the test says so
  fs = new StrataFS({ metadata: { syncInterval: SYNC } });
  store = new CountingStore();
  await fs.mount('/s', store);
});

afterEach(async () => {
  await fs.close();
  vi.useRealTimers();
});

it('holds about one syncInterval of answers, however many minutes of new paths were looked up', async () => {
  await fs.writeFile('/s/kept.txt', 'x');
  let looked = 0;
  for (let minute = 0; minute < 10; minute++) {
    for (let i = 0; i < PER_MINUTE; i++) expect(await fs.exists(`/s/jobs/${looked++}.done`)).toBe(false);
    vi.setSystemTime(Date.now() + SYNC);
  }
  expect(looked).toBe(10 * PER_MINUTE);
  expect(fs.stats().metadata.entries).toBeLessThanOrEqual(2 * PER_MINUTE + 1024);
  // What was looked up within syncInterval still answers without the store.
  await fs.stat('/s/kept.txt');
  store.reset();
  await fs.stat('/s/kept.txt');
  expect(store.count('stat')).toBe(0);
});

it('with syncInterval -1 keeps every answer until invalidated, as documented', async () => {
  await fs.close();
  fs = new StrataFS({ metadata: { syncInterval: -1 } });
  await fs.mount('/s', store);
  for (let i = 0; i < 2000; i++) await fs.exists(`/s/jobs/${i}.done`);
  vi.setSystemTime(Date.now() + 10 * SYNC);
  for (let i = 2000; i < 4000; i++) await fs.exists(`/s/jobs/${i}.done`);
  expect(fs.stats().metadata.entries).toBeGreaterThanOrEqual(4000);
  store.reset();
  expect(await fs.exists('/s/jobs/0.done')).toBe(false);
  expect(store.count('stat')).toBe(0);
});
