/**
 * Very deep trees: the work a recursive operation does grows with the number of entries (and
 * the length of their names), never with entries times their depth. Work is counted (parent
 * look-ups, store calls), never timed.
 */
import type * as FsPromises from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as PathModule from '../../src/path.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/file-system.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { mapKeyCharactersDuring } from '../support/map-key-characters.js';

/**
 * Calls of `parentKey` made through the library, and the system calls of `node:fs/promises`
 * (`realpath` counts one per component of its path: the C library looks at each in turn).
 */
const counted = { parentKey: 0, syscalls: 0 };

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const cost = (name: string, path: unknown): number => (name === 'realpath' && typeof path === 'string' ? path.split('/').length : 1);
  const wrapped = Object.fromEntries(
    Object.entries(actual).map(([name, fn]) => [
      name,
      typeof fn === 'function' && name !== 'constants'
        ? (...args: unknown[]) => {
            counted.syscalls += cost(name, args[0]);
            return (fn as (...a: unknown[]) => unknown)(...args);
          }
        : fn,
    ]),
  );
  return { ...wrapped, default: wrapped };
});

vi.mock('../../src/path.js', async (importOriginal) => {
  const actual = await importOriginal<typeof PathModule>();
  return {
    ...actual,
    parentKey: (key: string) => {
      counted.parentKey++;
      return actual.parentKey(key);
    },
  };
});

/** Depth of the trees: deep enough that a walk over every ancestor of every entry is plain. */
const DEPTH = 300;
const chain = Array.from({ length: DEPTH }, () => 'd').join('/');

let fs: StrataFS;

beforeEach(async () => {
  fs = new StrataFS();
  await fs.mount('/m', new MemoryStore());
  counted.parentKey = 0;
});

afterEach(async () => {
  await fs.close();
});

describe('a recursive readdir of a deep tree', () => {
  it('looks at each entry\'s parents a bounded number of times', async () => {
    await fs.mkdir(`/m/${chain}`, { recursive: true });
    await fs.writeFile(`/m/${chain}/f`, 'x');
    counted.parentKey = 0;
    const names = await fs.readdir('/m', { recursive: true });
    expect(names).toHaveLength(DEPTH + 1);
    expect(names.at(-1)).toBe(`${chain}/f`);
    expect(counted.parentKey).toBeLessThan(20 * DEPTH);
  });

  it('still hides what lies below a file that has the name of a directory', async () => {
    const store = new MemoryStore();
    await fs.mount('/o', store);
    await store.write('a/b/c/d', Buffer.from('below'));
    await store.write('a/b', Buffer.from('file'));
    await store.write('a/x/y', Buffer.from('kept'));
    expect(await fs.readdir('/o', { recursive: true })).toEqual(['a', 'a/b', 'a/x', 'a/x/y']);
  });
});

describe('making and copying a deep tree', () => {
  it('looks keys up in its maps with about as many characters as the paths have, not once per ancestor', async () => {
    const looked = await mapKeyCharactersDuring(async () => {
      await fs.mkdir(`/m/${chain}`, { recursive: true });
      await fs.copy('/m/d', '/m/e', { recursive: true });
    });
    expect(await fs.stat(`/m/e/${chain.slice(2)}`)).toMatchObject({ type: 'directory' });
    // Both trees: DEPTH directories each, of keys 2, 4, … 2 * DEPTH characters long.
    const pathChars = 2 * DEPTH * (DEPTH + 1);
    expect(looked).toBeLessThan(50 * pathChars);
  });
});

describe('removing a tree of an object store', () => {
  it('deletes the markers of its directories in batches, not one request each', async () => {
    await fs.mkdir(`/m/${chain}`, { recursive: true });
    for (let i = 0; i < 100; i++) await fs.mkdir(`/m/d/wide/${i}`, { recursive: true });
    await fs.writeFile(`/m/${chain}/f`, 'x');
    const before = fs.stats().storeRequests.delete ?? 0;
    await fs.rm('/m/d', { recursive: true });
    expect(await fs.readdir('/m', { recursive: true })).toEqual([]);
    expect((fs.stats().storeRequests.delete ?? 0) - before).toBeLessThan(10);
  });
});

describe('a deep tree and a file:// mount', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stratafs-deep-'));
    await fs.mount('/f', `file://${dir}`);
    await fs.writeFile(`/m/${chain}/f`, 'x');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('copies in, lists and removes with a bounded number of system calls per directory', async () => {
    counted.syscalls = 0;
    await fs.copy('/m/d', '/f/d', { recursive: true });
    expect(await fs.readFile(`/f/${chain}/f`, 'utf8')).toBe('x');
    expect((await fs.readdir('/f', { recursive: true })).length).toBe(DEPTH + 1);
    await fs.rm('/f/d', { recursive: true });
    expect(await fs.readdir('/f')).toEqual([]);
    expect(counted.syscalls).toBeLessThan(40 * DEPTH);
  });
});
