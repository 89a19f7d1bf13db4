/**
 * Resolving a path costs the same with one mount or thousands: a service with a mount per
 * tenant pays no scan of the table on each call.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { MountTable, type Mount } from '../../src/mount/mount-table.js';
import { MemoryStore } from '../../src/index.js';

afterEach(() => vi.restoreAllMocks());

function mountAt(path: string, id: number): Mount {
  const store = new MemoryStore();
  return { path, store, rawStore: store, uri: store.uri, readOnly: false, publicOptions: {}, id };
}

function tableOf(paths: string[]): MountTable {
  const table = new MountTable();
  paths.forEach((path, i) => table.add(mountAt(path, i)));
  return table;
}

const at = (table: MountTable, path: string): [string, string] | undefined => {
  const res = table.resolve(path);
  return res && [res.mount.path, res.key];
};

it('resolves the longest mount point at or above a path, at any depth', () => {
  const table = tableOf(['/a', '/a/b/c', '/x/y', '/ab']);
  expect(at(table, '/a')).toEqual(['/a', '']);
  expect(at(table, '/a/b')).toEqual(['/a', 'b']);
  expect(at(table, '/a/b/c')).toEqual(['/a/b/c', '']);
  expect(at(table, '/a/b/c/d/e')).toEqual(['/a/b/c', 'd/e']);
  expect(at(table, '/a/b/cd')).toEqual(['/a', 'b/cd']);
  expect(at(table, '/ab/c')).toEqual(['/ab', 'c']);
  expect(at(table, '/abc')).toBeUndefined();
  expect(at(table, '/x')).toBeUndefined();
  expect(at(table, '/')).toBeUndefined();
  table.add(mountAt('/', 9));
  expect(at(table, '/x')).toEqual(['/', 'x']);
  expect(at(table, '/')).toEqual(['/', '']);
  table.remove('/a/b/c');
  expect(at(table, '/a/b/c/d')).toEqual(['/a', 'b/c/d']);
});

it('knows which paths hold mounts below them, as mounts come and go', () => {
  const table = tableOf(['/a/b/c', '/a/d']);
  expect(['/', '/a', '/a/b', '/a/b/c', '/a/d', '/a/bb', '/z'].filter((p) => table.hasMountsBelow(p))).toEqual(['/', '/a', '/a/b']);
  table.remove('/a/b/c');
  expect(['/', '/a', '/a/b'].filter((p) => table.hasMountsBelow(p))).toEqual(['/', '/a']);
  expect(() => table.remove('/')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  table.add(mountAt('/', 3));
  expect(() => table.remove('/')).toThrow(expect.objectContaining({ code: 'EBUSY' }));
  table.remove('/a/d');
  expect(table.hasMountsBelow('/')).toBe(false);
  expect(table.remove('/').path).toBe('/');
});

it('resolves without walking every mount point of a table of thousands', () => {
  const table = tableOf(Array.from({ length: 2000 }, (_, i) => `/tenants/t${i}`));
  const walks = [vi.spyOn(Map.prototype, 'values'), vi.spyOn(Map.prototype, 'keys'), vi.spyOn(Map.prototype, 'entries'), vi.spyOn(Map.prototype, 'forEach')];
  expect(at(table, '/tenants/t1999/data/x')).toEqual(['/tenants/t1999', 'data/x']);
  expect(at(table, '/tenants/none')).toBeUndefined();
  expect(table.hasMountsBelow('/tenants')).toBe(true);
  expect(table.hasMountsBelow('/tenants/t5')).toBe(false);
  expect(walks.reduce((n, spy) => n + spy.mock.calls.length, 0)).toBe(0);
});
