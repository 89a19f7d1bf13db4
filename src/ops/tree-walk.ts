/**
 * Walking a directory tree of one store: every descendant file and directory, implicit
 * directories of object stores included, each once.
 * @module
 */
import { isSafeKey, joinKey, nameableDirOf, parentKey } from '../path.js';
import type { ObjectInfo, StoreCallOptions, UnderStore } from '../store/under-store.js';

/**
 * One descendant found by {@link walkTree}. `implicit`: a directory only known from the keys
 * below it (no marker was listed). `unmarked`: on an object store, a directory a recursive
 * listing named with no `mtime`, which is how a directory without a marker is reported (see
 * `stat`); it may still have one, so a removal deletes its marker, a copy makes none.
 */
export type TreeEntry = ObjectInfo & { implicit?: true; unmarked?: true };

/** Every descendant of the directory `key` (files and directories), in no particular order. */
export async function walkTree(store: UnderStore, key: string, opts: StoreCallOptions = {}): Promise<TreeEntry[]> {
  const out = new Map<string, TreeEntry>();
  const addImplicitParents = (childKey: string): void => {
    for (let k = parentKey(childKey); k !== key && k !== ''; k = parentKey(k)) {
      if (out.has(k)) break;
      out.set(k, { key: k, size: 0, isDirectory: true, implicit: true });
    }
  };
  const visit = (info: ObjectInfo, recursive: boolean): void => {
    if (info.key === key || !(key === '' || info.key.startsWith(key + '/'))) return;
    if (!isSafeKey(info.key)) {
      // A key no path can name (`a//b`) is skipped; the directory it makes (`a`) is one.
      const dir = nameableDirOf(info.key);
      if (dir !== key && (key === '' || dir.startsWith(key + '/')) && !out.has(dir)) {
        out.set(dir, { key: dir, size: 0, isDirectory: true, implicit: true });
        addImplicitParents(dir);
      }
      return;
    }
    const known = out.get(info.key);
    const unmarked = recursive && info.isDirectory && info.mtime === undefined && !store.capabilities.directories;
    if (!known || !info.isDirectory || known.implicit) out.set(info.key, unmarked ? { ...info, unmarked } : info);
    addImplicitParents(info.key);
  };
  try {
    for await (const info of store.list(key, { recursive: true, signal: opts.signal })) visit(info, true);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOTSUP') throw error;
    // A store without recursive listing: walk level by level.
    const queue = [key];
    while (queue.length > 0) {
      const dir = queue.shift()!;
      for await (const info of store.list(dir, { signal: opts.signal })) {
        visit(info, false); // a child directory's listing says nothing of its marker
        if (info.isDirectory) queue.push(info.key);
      }
    }
  }
  return [...out.values()];
}

/** Depth of a key (number of `/`-separated parts). */
export function depth(key: string): number {
  return key === '' ? 0 : key.split('/').length;
}

/** `to`'s key for a descendant `key` of `from` when the tree moves from `from` to `to`. */
export function moveKey(key: string, from: string, to: string): string {
  const rest = from === '' ? key : key.slice(from.length + 1);
  return joinKey(to, rest);
}
