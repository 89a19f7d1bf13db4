/**
 * The memory tier drops one object's pages without walking the pages of every other object it
 * holds: a write replacing a small file costs the same with ten or a million pages cached.
 */
import { LRUCache } from 'lru-cache';
import { afterEach, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { MemoryTier, MIN_PAGE_CHARGE } from '../../src/cache/memory-tier.js';

afterEach(() => vi.restoreAllMocks());

/** Spies on every way of walking the LRU's keys. */
function spyOnWalks(): () => number {
  const spies = (['keys', 'rkeys', 'entries', 'rentries', 'values', 'rvalues', 'forEach', 'rforEach', 'find', 'dump'] as const).map((name) => vi.spyOn(LRUCache.prototype, name));
  return () => spies.reduce((n, spy) => n + spy.mock.calls.length, 0);
}

it('drops the pages of one object, every version, and only those, without walking the others', () => {
  const tier = new MemoryTier(2 << 20, 16);
  for (let i = 0; i < 1000; i++) tier.set(`c\nf${i}\nv1\n0`, Buffer.alloc(16));
  tier.set('c\nf1\nv2\n0', Buffer.alloc(16));
  tier.set('c\nf1\nv2\n1', Buffer.alloc(16), true);
  const walks = spyOnWalks();
  tier.dropObject('c\nf1');
  expect(walks()).toBe(0);
  expect(tier.has('c\nf1\nv1\n0')).toBe(false);
  expect(tier.has('c\nf1\nv2\n0')).toBe(false);
  expect(tier.has('c\nf1\nv2\n1')).toBe(true); // pinned: stays unless forced
  expect(tier.has('c\nf10\nv1\n0')).toBe(true);
  expect(tier.stats().pages).toBe(1000);
  tier.dropObject('c\nf1', true);
  expect(tier.has('c\nf1\nv2\n1')).toBe(false);
  expect(tier.stats()).toMatchObject({ pages: 999, used: 999 * MIN_PAGE_CHARGE });
  expect(tier.holdsObject('c\nf1')).toBe(false);
});

it('drops by prefix the pages of every object below a directory, pinned ones when forced', () => {
  const tier = new MemoryTier(1 << 20, 16);
  for (const key of ['d/a', 'd/b', 'd2/a', 'e']) tier.set(`c\n${key}\nv\n0`, Buffer.alloc(16));
  tier.set('c\nd/p\nv\n0', Buffer.alloc(16), true);
  tier.dropPrefix('c\nd/');
  expect(['d/a', 'd/b', 'd/p', 'd2/a', 'e'].filter((k) => tier.has(`c\n${k}\nv\n0`))).toEqual(['d/p', 'd2/a', 'e']);
  tier.dropPrefix('c\nd/', true);
  expect(tier.has('c\nd/p\nv\n0')).toBe(false);
  tier.dropPrefix('c\n');
  expect(tier.stats()).toMatchObject({ pages: 0, used: 0 });
});

it('a page evicted, replaced or unpinned is forgotten by the object it belongs to', () => {
  const tier = new MemoryTier(4 * 1024, 1024);
  for (let i = 0; i < 8; i++) tier.set(`c\nf${i}\nv\n0`, Buffer.alloc(1024)); // the first four are evicted
  tier.set('c\nf7\nv\n0', Buffer.alloc(1024)); // replaced
  tier.set('c\nf6\nv\n0', Buffer.alloc(1024), true);
  tier.dropObject('c\nf6');
  expect(tier.has('c\nf6\nv\n0')).toBe(true);
  tier.unpinPrefix('c\nf6');
  tier.dropObject('c\nf6');
  tier.dropObject('c\nf7');
  expect(tier.stats()).toMatchObject({ pages: 2, used: 2048 });
  for (let i = 0; i < 4; i++) expect(tier.holdsObject(`c\nf${i}`)).toBe(false);
});

it('the bytes cached of a version count each page once: set again, replaced by a shorter page, pinned, unpinned', () => {
  const tier = new MemoryTier(1 << 20, 4096);
  const page = Buffer.alloc(4096);
  tier.set('c\nf\nv\n0', page);
  tier.set('c\nf\nv\n0', page); // the same page again
  tier.set('c\nf\nv\n1', Buffer.alloc(100));
  tier.set('c\nf\nw\n0', Buffer.alloc(10));
  expect(tier.bytesOf('c\nf', 'v')).toBe(4196);
  tier.set('c\nf\nv\n0', Buffer.alloc(2000)); // replaced
  expect(tier.bytesOf('c\nf', 'v')).toBe(2100);
  tier.set('c\nf\nv\n1', Buffer.alloc(100), true);
  expect(tier.bytesOf('c\nf', 'v')).toBe(2100);
  tier.unpinPrefix('c\nf\n');
  expect(tier.bytesOf('c\nf', 'v')).toBe(2100);
  tier.dropObject('c\nf');
  expect([tier.bytesOf('c\nf', 'v'), tier.bytesOf('c\nf', 'w'), tier.holdsObject('c\nf')]).toEqual([0, 0, false]);
});

it('rewriting one small file does not walk every page cached', async () => {
  const fs = new StrataFS();
  await fs.mount('/m', 'memory://');
  for (let i = 0; i < 500; i++) await fs.writeFile(`/m/d/f${i}`, 'x');
  expect(fs.stats().memory.pages).toBe(500);
  const walks = spyOnWalks();
  await fs.writeFile('/m/d/f0', 'y');
  expect(walks()).toBe(0);
  expect((await fs.readFile('/m/d/f0')).toString()).toBe('y');
  expect(fs.stats().memory.pages).toBe(500);
  await fs.close();
});

it('tiny pages count at least MIN_PAGE_CHARGE each: a tier of many small files holds a bounded number of pages', () => {
  const capacity = 256 * MIN_PAGE_CHARGE;
  const tier = new MemoryTier(capacity, 1 << 20);
  for (let i = 0; i < 10_000; i++) tier.set(`c\nf${i}\nv\n0`, Buffer.from('x'));
  expect(tier.stats()).toMatchObject({ pages: 256, used: capacity });
  expect(tier.has('c\nf9999\nv\n0')).toBe(true); // the newest stay
  expect(tier.bytesOf('c\nf9999', 'v')).toBe(1); // what a file has cached is its own bytes
  for (let i = 0; i < 255; i++) tier.set(`c\np${i}\nv\n0`, Buffer.from('x'), true);
  expect(() => tier.set('c\np255\nv\n0', Buffer.from('x'), true)).not.toThrow();
  expect(() => tier.set('c\np256\nv\n0', Buffer.from('x'), true)).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
  expect(tier.stats()).toMatchObject({ pages: 256, used: capacity });
});

it('caching many small files stays within the memory capacity, counted per page', async () => {
  const fs = new StrataFS({ cache: { memory: { capacity: 64 * MIN_PAGE_CHARGE } } });
  await fs.mount('/m', 'memory://');
  for (let i = 0; i < 1000; i++) await fs.writeFile(`/m/f${i}`, 'small');
  expect(fs.stats().memory).toMatchObject({ pages: 64, used: 64 * MIN_PAGE_CHARGE });
  expect((await fs.stat('/m/f999')).cached).toBe(5);
  await fs.close();
});
