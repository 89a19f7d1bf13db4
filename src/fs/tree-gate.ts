/**
 * Directory moves made by copy + delete (object stores) and the changes of what lies below the
 * moved directory, within one `StrataFS`: a change at or below a directory being moved waits until
 * the move has ended, and the move first lets the changes below it already on their way end. A
 * write then lands either before the move (it moves with the tree) or after it (under the old
 * name), never between the copy and the removal of the source, where it would be removed with
 * the source or left under the old name only in part. Paths are logical (after normalisation).
 * @module
 */
import { untilAborted } from '../errors.js';
import { isSameOrBelow } from '../path.js';

/** A change or a move on its way: its logical paths, and what resolves once it has ended. */
interface Passage {
  readonly paths: readonly string[];
  /** A move waits for it to end (see {@link TreeGate.change}). */
  readonly awaited: boolean;
  readonly ended: Promise<void>;
  end(): void;
}

/** Orders the directory moves by copy of one `StrataFS` and the changes below them (see the module comment). */
export class TreeGate {
  /** The changes on their way past the gate (the moves among them). */
  readonly #changes = new Set<Passage>();
  /** The moves on their way. */
  readonly #moves = new Set<Passage>();

  /**
   * Runs `fn`, a change of `paths`, once no move holds any of them (at or below its source); a
   * move asked meanwhile waits for it, unless `awaited` is false (a write of a stream, which its
   * caller may end only after the move: the move goes on, and leaves the file it writes in place).
   * An abort of `signal` while it waits rejects with an `AbortError`.
   */
  async change<T>(paths: readonly string[], fn: () => Promise<T>, signal?: AbortSignal, awaited = true): Promise<T> {
    const entry = await this.#enter(paths, signal, awaited);
    try {
      return await fn();
    } finally {
      this.#leave(entry);
    }
  }

  /**
   * Runs `fn`, a move of `source` by copy + delete, as a change of `source` (see {@link change})
   * that changes asked from now on at or below `source` wait for, and that first lets those on
   * their way end. An abort of `signal` while it waits rejects with an `AbortError`.
   */
  async move<T>(source: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const own = await this.#enter([source], signal);
    const move = passage([source]);
    this.#moves.add(move);
    try {
      for (;;) {
        const below = [...this.#changes].filter((c) => c !== own && c.awaited && c.paths.some((p) => isSameOrBelow(p, source)));
        if (below.length === 0) break;
        await untilAborted(Promise.all(below.map((c) => c.ended)), signal);
      }
      return await fn();
    } finally {
      this.#moves.delete(move);
      move.end();
      this.#leave(own);
    }
  }

  /** Waits until no move holds any of `paths`, then records a change of them. */
  async #enter(paths: readonly string[], signal?: AbortSignal, awaited = true): Promise<Passage> {
    for (;;) {
      const moves = [...this.#moves].filter((m) => paths.some((p) => m.paths.some((moved) => isSameOrBelow(p, moved))));
      if (moves.length === 0) break;
      await untilAborted(Promise.all(moves.map((m) => m.ended)), signal);
    }
    const entry = passage(paths, awaited);
    this.#changes.add(entry);
    return entry;
  }

  #leave(entry: Passage): void {
    this.#changes.delete(entry);
    entry.end();
  }
}

function passage(paths: readonly string[], awaited = true): Passage {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  return { paths, awaited, ended, end };
}
