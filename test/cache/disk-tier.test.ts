/**
 * The disk page tier on real files in temp dirs: round trips, restarts, damaged page files,
 * a lost or garbage index, capacity under a random workload, pins, unusable dirs, and several
 * processes sharing one dir.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openDiskCache } from '../../src/cache/disk/index.js';
import type { DiskTier } from '../../src/cache/disk-tier-types.js';
import type { PageId } from '../../src/cache/page-id.js';
import { expectCode, tempDir } from '../support/helpers.js';
import { pageContent, pageSizeOf } from './fixtures/page-content.js';
import { startChild } from './fixtures/spawn-child.js';

/** Asserts `actual` holds exactly the bytes of `expected` (Buffer.equals: fast on large buffers). */
function expectBytes(actual: Buffer | undefined, expected: Buffer): void {
  expect(actual, 'expected bytes, got undefined').toBeDefined();
  expect(actual!.equals(expected), `bytes differ (${actual!.length} vs ${expected.length} bytes)`).toBe(true);
}

const KiB = 1024;
const cleanups: (() => Promise<void>)[] = [];
const open: DiskTier[] = [];

async function newDir(): Promise<string> {
  const { dir, cleanup } = await tempDir('stratafs-disk-');
  cleanups.push(cleanup);
  return dir;
}

async function openTier(dir: string, capacity: number, pageSize = 64 * KiB): Promise<DiskTier> {
  const { tier } = await openDiskCache(dir, capacity, pageSize);
  open.push(tier);
  return tier;
}

afterEach(async () => {
  for (const tier of open.splice(0)) await tier.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const page = (object: string, index: number, version = 'v1'): PageId => ({ object: `mem://t\n${object}`, version, index });

/** Every page file on disk (absolute paths). */
function pageFiles(dir: string): string[] {
  const root = join(dir, 'pages');
  return readdirSync(root).flatMap((fan) => readdirSync(join(root, fan)).map((name) => join(root, fan, name)));
}

/** The page file that holds `data` (found by its leading bytes). */
function fileOf(dir: string, data: Buffer): string {
  const found = pageFiles(dir).filter((f) => readFileSync(f).subarray(0, data.length).equals(data));
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The index's counters and the sums they must equal, read straight from SQLite. */
function indexFigures(dir: string): { used: number; pages: number; sumPages: number; sumJournal: number; count: number } {
  const db = new Database(join(dir, 'index.sqlite'), { readonly: true, timeout: 10_000 });
  try {
    const c = db.prepare('SELECT used, pages FROM counters').get() as { used: number; pages: number };
    const p = db.prepare('SELECT COALESCE(SUM(size), 0) AS s, COUNT(*) AS n FROM pages').get() as { s: number; n: number };
    const j = db.prepare('SELECT COALESCE(SUM(size), 0) AS s FROM journal').get() as { s: number };
    return { used: c.used, pages: c.pages, sumPages: p.s, sumJournal: j.s, count: p.n };
  } finally {
    db.close();
  }
}

describe('disk tier: pages round trip', () => {
  it('serves what was put, whole and by range, and counts it', async () => {
    const dir = await newDir();
    const tier = await openTier(dir, 1024 * KiB);
    const a = pageContent(page('a', 0), 64 * KiB);
    const b = pageContent(page('a', 1), 1000);
    expect(await tier.put(page('a', 0), a)).toBe(true);
    expect(await tier.put(page('a', 1), b)).toBe(true);
    expectBytes(await tier.get(page('a', 0)), a);
    expectBytes(await tier.get(page('a', 1)), b);
    expect(await tier.get(page('a', 2))).toBeUndefined();
    expect(await tier.get(page('a', 0, 'v2'))).toBeUndefined();

    const target = Buffer.alloc(300, 0xee);
    expect(await tier.readInto!(page('a', 0), target, 100, 5000, 150)).toBe(150);
    expectBytes(target.subarray(100, 250), a.subarray(5000, 5150));
    expect(target[99]).toBe(0xee);
    expect(target[250]).toBe(0xee);
    // Again, now that the file is verified: same bytes.
    target.fill(0);
    expect(await tier.readInto!(page('a', 0), target, 0, 5000, 150)).toBe(150);
    expectBytes(target.subarray(0, 150), a.subarray(5000, 5150));
    // Near the end of a page: fewer bytes; past it: none; missing page: -1.
    expect(await tier.readInto!(page('a', 1), target, 0, 900, 300)).toBe(100);
    expectBytes(target.subarray(0, 100), b.subarray(900));
    expect(await tier.readInto!(page('a', 1), target, 0, 1000, 10)).toBe(0);
    expect(await tier.readInto!(page('a', 9), target, 0, 0, 10)).toBe(-1);
    const whole = Buffer.alloc(64 * KiB);
    expect(await tier.readInto!(page('a', 0), whole, 0, 0, 64 * KiB)).toBe(64 * KiB);
    expectBytes(whole, a);
    // Several at once, each as readInto answers it alone: whole, by range, near the end, missing.
    const many = Buffer.alloc(64 * KiB + 300, 0xee);
    const reads = [
      { id: page('a', 0), target: many, targetOffset: 0, pageOffset: 0, length: 64 * KiB },
      { id: page('a', 1), target: many, targetOffset: 64 * KiB, pageOffset: 10, length: 200 },
      { id: page('a', 1), target: many, targetOffset: 64 * KiB + 200, pageOffset: 950, length: 100 },
      { id: page('a', 9), target: many, targetOffset: 64 * KiB + 250, pageOffset: 0, length: 10 },
    ];
    expect(await tier.readManyInto!(reads)).toEqual([64 * KiB, 200, 50, -1]);
    expectBytes(many.subarray(0, 64 * KiB), a);
    expectBytes(many.subarray(64 * KiB, 64 * KiB + 200), b.subarray(10, 210));
    expectBytes(many.subarray(64 * KiB + 200, 64 * KiB + 250), b.subarray(950));
    expect(many[64 * KiB + 250]).toBe(0xee);

    expect(tier.stats()).toEqual({ used: 64 * KiB + 1000, capacity: 1024 * KiB, pages: 2 });
    expect(tier.cachedBytes(page('a', 0).object, 'v1')).toBe(64 * KiB + 1000);
    expect(tier.cachedBytes(page('a', 0).object, 'v2')).toBe(0);
  });

  it('a second put of the same page keeps one copy', async () => {
    const dir = await newDir();
    const tier = await openTier(dir, 1024 * KiB);
    const a = pageContent(page('a', 0), 10 * KiB);
    const results = await Promise.all([tier.put(page('a', 0), a), tier.put(page('a', 0), a), tier.put(page('a', 0), a)]);
    expect(results).toEqual([true, true, true]);
    expect(tier.stats().pages).toBe(1);
    expect(pageFiles(dir)).toHaveLength(1);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('drop removes every version of an object, or every object below a prefix', async () => {
    const dir = await newDir();
    const tier = await openTier(dir, 1024 * KiB);
    for (const [name, version] of [['d/x', 'v1'], ['d/x', 'v2'], ['d/y', 'v1'], ['e', 'v1']] as const) {
      await tier.put(page(name, 0, version), pageContent(page(name, 0, version), 1000));
    }
    await tier.drop(page('d/x', 0).object);
    expect(await tier.get(page('d/x', 0, 'v1'))).toBeUndefined();
    expect(await tier.get(page('d/x', 0, 'v2'))).toBeUndefined();
    expect(await tier.get(page('d/y', 0))).toBeDefined();
    await tier.drop('mem://t\nd/', { prefix: true });
    expect(await tier.get(page('d/y', 0))).toBeUndefined();
    expect(await tier.get(page('e', 0))).toBeDefined();
    expect(tier.stats()).toMatchObject({ used: 1000, pages: 1 });
    expect(pageFiles(dir)).toHaveLength(1);
  });

  it('pages of another page size in the same dir are not served', async () => {
    const dir = await newDir();
    const small = await openTier(dir, 1024 * KiB, 4 * KiB);
    await small.put(page('a', 1), pageContent(page('a', 1), 4 * KiB));
    const large = await openTier(dir, 1024 * KiB, 8 * KiB);
    expect(await large.get(page('a', 1))).toBeUndefined();
    expectBytes(await small.get(page('a', 1)), pageContent(page('a', 1), 4 * KiB));
  });
});

describe('disk tier: restart and damage', () => {
  it('a new instance on the same dir serves the pages that are there', async () => {
    const dir = await newDir();
    const first = await openTier(dir, 1024 * KiB);
    const data = [0, 1, 2].map((i) => pageContent(page('r', i), 64 * KiB));
    for (const [i, d] of data.entries()) expect(await first.put(page('r', i), d)).toBe(true);
    await first.close();
    const second = await openTier(dir, 1024 * KiB);
    expect(second.stats()).toEqual({ used: 3 * 64 * KiB, capacity: 1024 * KiB, pages: 3 });
    for (const [i, d] of data.entries()) expectBytes(await second.get(page('r', i)), d);
  });

  it('a truncated, zeroed or deleted page file is detected and dropped', async () => {
    const dir = await newDir();
    const tier = await openTier(dir, 1024 * KiB);
    const ids = [0, 1, 2, 3].map((i) => page('damage', i));
    const data = ids.map((id) => pageContent(id, 16 * KiB));
    for (const [i, id] of ids.entries()) await tier.put(id, data[i]!);
    // Read each once first, so the damage happens to files this process already verified.
    for (const [i, id] of ids.entries()) expectBytes(await tier.get(id), data[i]!);

    truncateSync(fileOf(dir, data[0]!), 8 * KiB);
    const zeroed = fileOf(dir, data[1]!);
    writeFileSync(zeroed, Buffer.alloc(statSync(zeroed).size));
    const flipped = fileOf(dir, data[2]!);
    const bytes = readFileSync(flipped);
    bytes.writeUInt8(bytes.readUInt8(1234) ^ 0xff, 1234);
    writeFileSync(flipped, bytes);
    const deleted = fileOf(dir, data[3]!);
    unlinkSync(deleted);

    expect(await tier.get(ids[0]!)).toBeUndefined();
    expect(await tier.get(ids[1]!)).toBeUndefined();
    expect(await tier.readInto!(ids[2]!, Buffer.alloc(100), 0, 0, 100)).toBe(-1);
    expect(await tier.get(ids[3]!)).toBeUndefined();
    expect(tier.stats()).toMatchObject({ used: 0, pages: 0 });
    // Dropped for good: the index no longer lists them and their files are gone.
    expect(pageFiles(dir)).toEqual([]);
    // A put after the damage stores a good copy again.
    expect(await tier.put(ids[0]!, data[0]!)).toBe(true);
    expectBytes(await tier.get(ids[0]!), data[0]!);
  });

  it('damage done while closed is detected by the next instance', async () => {
    const dir = await newDir();
    const first = await openTier(dir, 1024 * KiB);
    const data = pageContent(page('z', 0), 16 * KiB);
    await first.put(page('z', 0), data);
    await first.close();
    const file = fileOf(dir, data);
    const bytes = readFileSync(file);
    bytes.fill(0, 0, 16 * KiB);
    writeFileSync(file, bytes);
    const second = await openTier(dir, 1024 * KiB);
    expect(await second.get(page('z', 0))).toBeUndefined();
    expect(second.stats().pages).toBe(0);
  });

  it('a deleted index is rebuilt from the page files', async () => {
    const dir = await newDir();
    const first = await openTier(dir, 1024 * KiB);
    const data = [0, 1].map((i) => pageContent(page('i', i), 32 * KiB));
    for (const [i, d] of data.entries()) await first.put(page('i', i), d);
    await first.close();
    rmSync(join(dir, 'index.sqlite'));
    const second = await openTier(dir, 1024 * KiB);
    expect(second.stats()).toMatchObject({ used: 64 * KiB, pages: 2 });
    for (const [i, d] of data.entries()) expectBytes(await second.get(page('i', i)), d);
  });

  it('an index overwritten with garbage is recreated and the pages are served', async () => {
    const dir = await newDir();
    const first = await openTier(dir, 1024 * KiB);
    const data = pageContent(page('g', 0), 32 * KiB);
    await first.put(page('g', 0), data);
    await first.close();
    writeFileSync(join(dir, 'index.sqlite'), pageContent(page('garbage', 0), 8192));
    const second = await openTier(dir, 1024 * KiB);
    expectBytes(await second.get(page('g', 0)), data);
    expect(await second.put(page('g', 1), data)).toBe(true);
    await second.close();
    // And a truncated one (an empty file is a valid empty database: rebuilt too).
    writeFileSync(join(dir, 'index.sqlite'), '');
    const third = await openTier(dir, 1024 * KiB);
    expect(third.stats()).toMatchObject({ used: 64 * KiB, pages: 2 });
    expectBytes(await third.get(page('g', 0)), data);
  });

  it('temp files of dead writers and stray files are removed at open', async () => {
    const dir = await newDir();
    const first = await openTier(dir, 1024 * KiB);
    await first.put(page('t', 0), pageContent(page('t', 0), 1000));
    await first.close();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dir, 'tmp', `${deadPid}.abcd.1`), 'half a page');
    writeFileSync(join(dir, 'pages', 'stray'), 'not a page');
    mkdirSync(join(dir, 'pages', 'ff'), { recursive: true });
    writeFileSync(join(dir, 'pages', 'ff', 'nonsense'), 'not a page either');
    const second = await openTier(dir, 1024 * KiB);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'pages', 'stray'))).toBe(false);
    expect(existsSync(join(dir, 'pages', 'ff', 'nonsense'))).toBe(false);
    expectBytes(await second.get(page('t', 0)), pageContent(page('t', 0), 1000));
  });
});

describe('disk tier: capacity and pins', () => {
  it('evicts the least recently used pages', async () => {
    const dir = await newDir();
    const tier = await openTier(dir, 4 * 16 * KiB);
    const ids = [0, 1, 2, 3, 4].map((i) => page('lru', i));
    for (const id of ids.slice(0, 4)) expect(await tier.put(id, pageContent(id, 16 * KiB))).toBe(true);
    // Page 0 becomes the most recently used; page 1 is now the oldest.
    await new Promise((r) => setTimeout(r, 5));
    expect(await tier.get(ids[0]!)).toBeDefined();
    expect(await tier.put(ids[4]!, pageContent(ids[4]!, 16 * KiB))).toBe(true);
    expect(await tier.get(ids[1]!)).toBeUndefined();
    for (const i of [0, 2, 3, 4]) expectBytes(await tier.get(ids[i]!), pageContent(ids[i]!, 16 * KiB));
    expect(tier.stats().used).toBe(4 * 16 * KiB);
  });

  it('pinned pages survive eviction; put fails when only pinned pages remain', async () => {
    const dir = await newDir();
    const tier = await openTier(dir, 3 * 16 * KiB);
    const pinnedA = page('pin-a', 0);
    const pinnedB = page('pin-b', 0);
    expect(await tier.put(pinnedA, pageContent(pinnedA, 16 * KiB), { pinned: true })).toBe(true);
    await tier.setPinned(pinnedB.object, true);
    expect(await tier.put(pinnedB, pageContent(pinnedB, 16 * KiB))).toBe(true);
    for (let i = 0; i < 5; i++) expect(await tier.put(page('free', i), pageContent(page('free', i), 16 * KiB))).toBe(true);
    expectBytes(await tier.get(pinnedA), pageContent(pinnedA, 16 * KiB));
    expectBytes(await tier.get(pinnedB), pageContent(pinnedB, 16 * KiB));
    // Only one unpinned slot: a bigger page cannot fit even by evicting it.
    expect(await tier.put(page('big', 0), pageContent(page('big', 0), 16 * KiB + 1))).toBe(false);
    await tier.setPinned(page('free', 4).object, true);
    await tier.put(page('free', 4), pageContent(page('free', 4), 16 * KiB));
    expect(await tier.put(page('more', 0), pageContent(page('more', 0), 1))).toBe(false);
    // drop leaves pinned pages unless forced.
    await tier.drop(pinnedA.object);
    expect(await tier.get(pinnedA)).toBeDefined();
    // Unpinned, they are evictable again.
    await tier.setPinned(pinnedA.object, false);
    await tier.setPinned('mem://t\npin-', false, { prefix: true });
    expect(await tier.put(page('more', 0), pageContent(page('more', 0), 16 * KiB))).toBe(true);
    await tier.drop(page('free', 4).object, { force: true });
    expect(await tier.get(page('free', 4))).toBeUndefined();
  });

  it('a new version of a pinned object takes the room of the old one, whose pages become evictable', async () => {
    const dir = await newDir();
    const first = await openTier(dir, 3 * 16 * KiB);
    const old = [0, 1, 2].map((i) => page('pinned', i, 'v1'));
    await first.setPinned(old[0]!.object, true);
    for (const id of old) expect(await first.put(id, pageContent(id, 16 * KiB))).toBe(true);
    await first.close();
    // The object changed (or its version is named anew, as by another release): its pages of
    // the new version are cached pinned, in the room the old version held.
    const tier = await openTier(dir, 3 * 16 * KiB);
    const now = [0, 1, 2].map((i) => page('pinned', i, 'v2'));
    for (const id of now) expect(await tier.put(id, pageContent(id, 16 * KiB))).toBe(true);
    for (const id of now) expectBytes(await tier.get(id), pageContent(id, 16 * KiB));
    for (const id of old) expect(await tier.get(id)).toBeUndefined();
    expect(tier.stats()).toMatchObject({ used: 3 * 16 * KiB, pages: 3 });
    // The new version stays pinned.
    expect(await tier.put(page('other', 0), pageContent(page('other', 0), 16 * KiB))).toBe(false);
  });

  it('a prefix pin covers future pages of objects below it, across instances', async () => {
    const dir = await newDir();
    const first = await openTier(dir, 2 * 16 * KiB);
    await first.setPinned('mem://t\nkeep/', true, { prefix: true });
    await first.close();
    const tier = await openTier(dir, 2 * 16 * KiB);
    const kept = page('keep/a', 0);
    await tier.put(kept, pageContent(kept, 16 * KiB));
    for (let i = 0; i < 4; i++) await tier.put(page('x', i), pageContent(page('x', i), 16 * KiB));
    expectBytes(await tier.get(kept), pageContent(kept, 16 * KiB));
  });

  it('never exceeds capacity under a random workload (property)', async () => {
    const capacity = 64 * KiB;
    const op = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('put' as const),
          size: fc.oneof(fc.integer({ min: 0, max: 16 * KiB }), fc.constantFrom(1, 16 * KiB)),
          pinned: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
        }),
      },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), object: fc.nat({ max: 3 }), force: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('unpin' as const), object: fc.nat({ max: 3 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 60 }), async (ops) => {
        const dir = await newDir();
        const { tier } = await openDiskCache(dir, capacity, 16 * KiB);
        try {
          const written: { id: PageId; size: number }[] = [];
          const pinned = new Map<string, { id: PageId; size: number }>();
          let n = 0;
          for (const o of ops) {
            if (o.kind === 'put') {
              const id = page(`o${n % 4}`, n++);
              const locked = [...pinned.values()].reduce((s, p) => s + p.size, 0);
              const ok = await tier.put(id, pageContent(id, o.size), { pinned: o.pinned });
              expect(ok).toBe(locked + o.size <= capacity);
              if (ok) written.push({ id, size: o.size });
              if (ok && o.pinned) pinned.set(`${id.object}#${id.index}`, { id, size: o.size });
            } else if (o.kind === 'get' && written.length > 0) {
              const w = written[o.pick % written.length]!;
              const got = await tier.get(w.id);
              if (got !== undefined) expect(got.equals(pageContent(w.id, w.size))).toBe(true);
            } else if (o.kind === 'drop') {
              const object = page(`o${o.object}`, 0).object;
              await tier.drop(object, { force: o.force });
              if (o.force) for (const [k, p] of pinned) if (p.id.object === object) pinned.delete(k);
            } else if (o.kind === 'unpin') {
              const object = page(`o${o.object}`, 0).object;
              await tier.setPinned(object, false);
              for (const [k, p] of pinned) if (p.id.object === object) pinned.delete(k);
            }
            const stats = tier.stats();
            expect(stats.used).toBeLessThanOrEqual(capacity);
            for (const p of pinned.values()) expect((await tier.get(p.id))?.equals(pageContent(p.id, p.size))).toBe(true);
          }
          const figures = indexFigures(dir);
          expect(figures.used).toBe(figures.sumPages + figures.sumJournal);
          expect(figures.pages).toBe(figures.count);
          expect(pageFiles(dir)).toHaveLength(figures.count);
        } finally {
          await tier.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('disk tier: unusable dir', () => {
  it('a file where the dir should be: ENOTDIR naming the dir', async () => {
    const dir = await newDir();
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const error = await expectCode(openDiskCache(file, 1 << 20, 4096), 'ENOTDIR');
    expect(error.message).toContain(file);
    await expectCode(openDiskCache(join(file, 'below'), 1 << 20, 4096), 'ENOTDIR');
  });

  it('a bad argument: EINVAL', async () => {
    await expectCode(openDiskCache('', 1 << 20, 4096), 'EINVAL');
    await expectCode(openDiskCache('a\0b', 1 << 20, 4096), 'EINVAL');
    const dir = await newDir();
    await expectCode(openDiskCache(dir, -1, 4096), 'EINVAL');
    await expectCode(openDiskCache(dir, 1 << 20, 0), 'EINVAL');
  });

  it('a dir this user cannot write: EACCES naming the dir', async () => {
    const dir = await newDir();
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    chmodSync(dir, 0o755);
    if (process.getuid?.() === 0) {
      // root writes anywhere: ask an unprivileged user instead.
      const child = startChild('open-dir.ts', [locked], { uid: 65534, gid: 65534 });
      const result = JSON.parse((await child.line('{')).trim()) as { name: string; code: string; message: string };
      expect(result).toMatchObject({ name: 'StrataError', code: 'EACCES' });
      expect(result.message).toContain(locked);
    } else {
      const error = await expectCode(openDiskCache(locked, 1 << 20, 4096), 'EACCES');
      expect(error.message).toContain(locked);
    }
  });
});

describe('disk tier: several processes on one dir', () => {
  it('four processes writing and reading at once stay under capacity and read back only correct pages', async () => {
    const dir = await newDir();
    const capacity = 512 * KiB;
    const pageSize = 32 * KiB;
    const children = [1, 2, 3, 4].map((seed) => startChild('disk-worker.ts', [dir, String(capacity), String(pageSize), String(seed), '300']));
    const results = await Promise.all(children.map((c) => c.exit()));
    const stats = results.map((r) => {
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim()) as { puts: number; stored: number; gets: number; hits: number; bad: number; maxUsed: number };
    });
    for (const s of stats) {
      expect(s.bad).toBe(0);
      expect(s.maxUsed).toBeLessThanOrEqual(capacity);
      expect(s.stored).toBe(s.puts);
    }
    expect(stats.reduce((n, s) => n + s.hits, 0)).toBeGreaterThan(0);
    const figures = indexFigures(dir);
    expect(figures.used).toBe(figures.sumPages);
    expect(figures.used).toBeLessThanOrEqual(capacity);
    expect(pageFiles(dir)).toHaveLength(figures.count);
    // Every page a new process finds is exactly the one written.
    const tier = await openTier(dir, capacity, pageSize);
    let found = 0;
    for (let n = 0; n < 12; n++) {
      for (let index = 0; index < 6; index++) {
        const id: PageId = { object: `mem://shared\nobject-${n}`, version: 'v1', index };
        const got = await tier.get(id);
        if (got === undefined) continue;
        found++;
        expect(got.equals(pageContent(id, pageSizeOf(n, index, pageSize)))).toBe(true);
      }
    }
    expect(found).toBe(figures.count);
  });

  it('a writer killed mid-write leaves no torn page and no temp file', async () => {
    const dir = await newDir();
    const capacity = 4 * 1024 * KiB;
    const pageSize = 256 * KiB;
    for (const delay of [30, 90, 150]) {
      const child = startChild('disk-worker.ts', [dir, String(capacity), String(pageSize), String(delay), 'forever']);
      await child.line('ready');
      await new Promise((r) => setTimeout(r, delay));
      await child.kill();
    }
    const tier = await openTier(dir, capacity, pageSize);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    const figures = indexFigures(dir);
    expect(figures.count).toBeGreaterThan(0);
    expect(figures.used).toBeLessThanOrEqual(capacity);
    expect(pageFiles(dir)).toHaveLength(figures.count);
    const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT object, version, idx FROM pages').all() as { object: string; version: string; idx: number }[];
    db.close();
    for (const row of rows) {
      const id: PageId = { object: row.object, version: row.version, index: row.idx };
      const n = Number(row.object.split('object-')[1]);
      const got = await tier.get(id);
      expect(got?.equals(pageContent(id, pageSizeOf(n, row.idx, pageSize)))).toBe(true);
    }
  });
});
