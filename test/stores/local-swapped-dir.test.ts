/**
 * A directory of a local store swapped for a symbolic link to a place outside the root after its
 * path was checked and before the file below it is opened: the store never reads, copies or
 * writes, removes, renames or makes a directory through it. The swap is made at the call itself, so the race is lost every time.
 */
import type * as FsPromises from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrataFS } from '../../src/file-system.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { expectCode } from '../support/helpers.js';

/** The directory to swap for a link to `outside` at the next call on a path below it. */
const swap: { dir?: string; outside?: string } = {};

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  /** Makes the swap when `path` lies below the directory to swap (any path with `always`: a call on a directory held open). */
  const swapBefore = async (path: unknown, always: boolean): Promise<void> => {
    const { dir, outside } = swap;
    if (dir === undefined || outside === undefined || typeof path !== 'string' || !(always || path.startsWith(dir + '/'))) return;
    swap.dir = undefined;
    await actual.rename(dir, `${dir}.moved`);
    await actual.symlink(outside, dir);
  };
  /** `call` of `node:fs/promises`, swapping first when its first path lies below the directory. */
  const swapping = <F extends (...args: never[]) => Promise<unknown>>(call: F, always = false): F =>
    (async (...args: Parameters<F>) => {
      await swapBefore(args[0], always);
      return call(...args);
    }) as F;
  const open = swapping(actual.open);
  const unlink = swapping(actual.unlink, true);
  const rename = swapping(actual.rename, true);
  const mkdir = swapping(actual.mkdir, true);
  return { ...actual, open, unlink, rename, mkdir, default: { ...actual, open, unlink, rename, mkdir } };
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

/** Swaps `<root>/d` for a link to the outside directory at the next `open` below it, or the next `unlink`, `rename` or `mkdir`. */
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

  it('a removal removes the file inside, never the one outside', async () => {
    swapAtOpen();
    await fs.rm('/m/d/secret.txt');
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('OUTSID');
    expect(await readdir(join(root, 'd.moved'))).toEqual([]);
  });

  it('a mkdir makes the directory inside, never outside (and says EACCES: its path now leads outside)', async () => {
    swapAtOpen();
    await expectCode(fs.mkdir('/m/d/new'), 'EACCES');
    expect(await readdir(outside)).toEqual(['secret.txt']);
    expect(await readdir(join(root, 'd.moved'))).toEqual(['new', 'secret.txt']);
  });

  it('a rename moves the file inside, never the one outside', async () => {
    await mkdir(join(root, 'e'));
    swapAtOpen();
    await fs.rename('/m/d/secret.txt', '/m/e/moved.txt');
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('OUTSID');
    expect(await readFile(join(root, 'e', 'moved.txt'), 'utf8')).toBe('inside');
  });

  it('a copy refuses with EACCES instead of copying the file outside in', async () => {
    await mkdir(join(root, 'e'));
    swapAtOpen();
    await expectCode(fs.copy('/m/d/secret.txt', '/m/e/copy.txt'), 'EACCES');
    expect(await readdir(join(root, 'e'))).toEqual([]);
  });
});
