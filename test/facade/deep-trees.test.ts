/**
 * Very deep trees: the work a recursive operation does grows with the number of entries (and
 * the length of their names), never with entries times their depth. Work is counted (parent
 * look-ups, store calls), never timed.
 */
import type * as PathModule from '../../src/path.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/file-system.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

/** Calls of `parentKey` made through the library since the last reset. */
const counted = { parentKey: 0 };

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
