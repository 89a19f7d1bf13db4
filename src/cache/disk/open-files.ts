/**
 * A small LRU of open read-only file handles, so a warm page read is one `read` on an open
 * descriptor instead of open + read + close. Page files are immutable (a new page gets a new
 * file), so a descriptor never serves bytes other than the ones it was opened for; a file that
 * was removed meanwhile is noticed by its link count (see the page tier).
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';

/** One cached descriptor. */
export interface OpenFile {
  /** Absolute path. */
  readonly path: string;
  /** The handle, once opened. */
  handle: FileHandle;
}

interface Entry extends OpenFile {
  opening: Promise<FileHandle>;
  refs: number;
  forgotten: boolean;
  key: string;
}

/** Open read-only handles, at most `limit` kept when idle. */
export class OpenFiles {
  private readonly entries = new Map<string, Entry>();
  private readonly pathOfKey = new Map<string, string>();

  /** @param limit idle handles kept open (least recently used closed first). */
  constructor(private readonly limit: number) {}

  /** A handle on `path` (opened when not cached); `key` names the page it holds. Pair with {@link release}. */
  async acquire(path: string, key: string): Promise<OpenFile> {
    let entry = this.entries.get(path);
    if (entry !== undefined) {
      this.entries.delete(path);
      this.entries.set(path, entry);
      entry.refs++;
    } else {
      const opening = open(path, 'r');
      entry = { path, key, opening, handle: undefined as unknown as FileHandle, refs: 1, forgotten: false };
      this.entries.set(path, entry);
      const previous = this.pathOfKey.get(key);
      this.pathOfKey.set(key, path);
      if (previous !== undefined && previous !== path) this.forget(previous);
      const created = entry;
      opening.then(
        (handle) => {
          created.handle = handle;
        },
        () => this.remove(created),
      );
      this.trim();
    }
    try {
      entry.handle = await entry.opening;
    } catch (error) {
      entry.refs--;
      throw error;
    }
    return entry;
  }

  /** Gives back a handle from {@link acquire}. */
  release(file: OpenFile): void {
    const entry = file as Entry;
    entry.refs--;
    if (entry.refs === 0 && entry.forgotten) closeEntry(entry);
  }

  /** Closes the handle on `path` (once no one uses it); the next acquire reopens the file. */
  forget(path: string): void {
    const entry = this.entries.get(path);
    if (entry === undefined) return;
    this.remove(entry);
    entry.forgotten = true;
    if (entry.refs === 0) closeEntry(entry);
  }

  /** Closes the handle of the file last opened for page `key`, if any. */
  forgetKey(key: string): void {
    const path = this.pathOfKey.get(key);
    if (path !== undefined) this.forget(path);
  }

  /** Closes every handle (those in use close when released). */
  closeAll(): void {
    for (const path of [...this.entries.keys()]) this.forget(path);
  }

  private remove(entry: Entry): void {
    if (this.entries.get(entry.path) === entry) this.entries.delete(entry.path);
    if (this.pathOfKey.get(entry.key) === entry.path) this.pathOfKey.delete(entry.key);
  }

  private trim(): void {
    if (this.entries.size <= this.limit) return;
    for (const entry of this.entries.values()) {
      if (this.entries.size <= this.limit) break;
      if (entry.refs === 0) this.forget(entry.path);
    }
  }
}

function closeEntry(entry: Entry): void {
  entry.opening.then((handle) => handle.close()).catch(() => undefined);
}
