/**
 * A directory of a local store swapped for a symbolic link to a place outside the root after its
 * path was checked and before the file below it is opened: the store never reads, copies or
 * writes through it. The swap is made at the `open` itself, so the race is lost every time.
 */
import type * as FsPromises from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/file-system.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { expectCode } from '../support/helpers.js';

/** The directory to swap for a link to `outside` at the next `open` of a path below it. */
const swap: { dir?: string; outside?: string } = {};

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const open = (async (path: unknown, ...rest: unknown[]) => {
    const { dir, outside } = swap;
    if (dir !== undefined && outside !== undefined && typeof path === 'string' && path.startsWith(dir + '/')) {
      swap.dir = undefined;
      await actual.rename(dir, `${dir}.moved`);
      await actual.symlink(outside, dir);
    }
    return (actual.open as (...args: unknown[]) => Promise<FsPromises.FileHandle>)(path, ...rest);
  }) as typeof actual.open;
  return { ...actual, open, default: { ...actual, open } };
});

let base: string;
let root: string;
let outside: string;
let fs: StrataFS;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'stratafs-swap-'));
  root = join(base, 'root');
  outside = join(base, 'outside');
  await mkdir(join(root, 'd'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'd', 'secret.txt'), 'inside');
  // As long as the file inside: a read can not tell them apart by their size.
  await writeFile(join(outside, 'secret.txt'), 'OUTSID');
  fs = new StrataFS();
  await fs.mount('/m', `file://${root}`);
});

afterEach(async () => {
  swap.dir = undefined;
  await fs.close();
  await rm(base, { recursive: true, force: true });
});

/** Swaps `<root>/d` for a link to the outside directory at the next `open` below it. */
function swapAtOpen(): void {
  swap.dir = join(root, 'd');
  swap.outside = outside;
}

describe.runIf(process.platform === 'linux')('local store: a directory swapped for a link during a call', () => {
  it('a read refuses with EACCES instead of reading the file outside', async () => {
    swapAtOpen();
    await expectCode(new LocalStore({ root }).read('d/secret.txt'), 'EACCES');
  });

  it('a read through the file system refuses with EACCES too', async () => {
    swapAtOpen();
    await expectCode(fs.readFile('/m/d/secret.txt', { readType: 'NO_CACHE' }), 'EACCES');
  });

  it('a write refuses with EACCES and leaves nothing outside', async () => {
    swapAtOpen();
    await expectCode(fs.writeFile('/m/d/new.txt', 'escaped', { writeType: 'THROUGH' }), 'EACCES');
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('a copy refuses with EACCES instead of copying the file outside in', async () => {
    await mkdir(join(root, 'e'));
    swapAtOpen();
    await expectCode(fs.copy('/m/d/secret.txt', '/m/e/copy.txt'), 'EACCES');
    expect(await readdir(join(root, 'e'))).toEqual([]);
  });
});
