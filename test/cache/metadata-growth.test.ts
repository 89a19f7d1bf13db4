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

it('with syncInterval -1 holds at most metadata.maxEntries answers, the oldest dropped first and asked of the store again', async () => {
  await fs.close();
  fs = new StrataFS({ metadata: { syncInterval: -1, maxEntries: 1000 } });
  await fs.mount('/s', store);
  for (let i = 0; i < 5000; i++) expect(await fs.exists(`/s/jobs/${i}.done`)).toBe(false);
  expect(fs.stats().metadata.entries).toBeLessThanOrEqual(1000);
  // The newest answers are still served without the store.
  store.reset();
  for (let i = 4900; i < 5000; i++) expect(await fs.exists(`/s/jobs/${i}.done`)).toBe(false);
  expect(store.count('stat')).toBe(0);
  // The oldest were dropped: the store is asked again, and its answer is today's.
  await store.inner.write('jobs/0.done', Buffer.from('ok'));
  expect(await fs.exists('/s/jobs/0.done')).toBe(true);
  expect(store.count('stat')).toBeGreaterThan(0);
});

it('a listing larger than metadata.maxEntries still lists every child, and its file reads are right', async () => {
  await fs.close();
  fs = new StrataFS({ metadata: { syncInterval: -1, maxEntries: 10 } });
  await fs.mount('/s', store);
  for (let i = 0; i < 40; i++) await store.inner.write(`big/f${String(i).padStart(2, '0')}`, Buffer.from(`file ${i}`));
  const names = await fs.readdir('/s/big');
  expect(names).toEqual(Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}`));
  expect(fs.stats().metadata.entries).toBeLessThanOrEqual(10);
  for (let i = 0; i < 40; i += 7) expect((await fs.readFile(`/s/big/f${String(i).padStart(2, '0')}`)).toString()).toBe(`file ${i}`);
});

it('metadata.maxEntries must be a positive integer', () => {
  for (const maxEntries of [0, -1, 1.5, '100', Number.NaN]) {
    expect(() => new StrataFS({ metadata: { maxEntries: maxEntries as number } })).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('metadata.maxEntries') }));
  }
});
