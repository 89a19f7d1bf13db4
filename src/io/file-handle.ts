/**
 * `StrataFileHandle`: random access to one version of a file, like an `fs` FileHandle.
 * @module
 */
import { StrataError, invalid, toStrataError } from '../errors.js';
import type { PageCache, PageReadOptions, PageSource } from '../cache/page-cache.js';
import { eventLoopTurn } from '../event-loop-turn.js';

/** What `read` resolves to, as in `fs`: the number of bytes read and the buffer they went into. */
export interface HandleReadResult<T extends ArrayBufferView = Buffer> {
  /** Bytes read into `buffer`, at most `length`: fewer near the end of the file, `0` at or past it. */
  bytesRead: number;
  /** The buffer given (or the one `read()` allocated), filled from its `offset`. */
  buffer: T;
}

/** The buffer `read()` allocates when it is given none: 16 KiB, as in `fs`. */
const DEFAULT_BUFFER_SIZE = 16 * 1024;

/** Codes a store gives for an object that is no longer there: on a handle, its version is gone. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/** One `read` call's arguments once checked; `position` is `undefined` for "the current position". */
interface ReadArgs<T extends ArrayBufferView> {
  buffer: T;
  offset: number;
  length: number;
  position: number | undefined;
}

/**
 * An open file: reads the version it was opened at. Once that version can no longer be read
 * (the object changed or was removed, and its old pages are gone), `read` and `readRange` fail
 * with `ESTALE` rather than mixing versions. Cheap to keep open: it holds no store connection.
 * It reads through its StrataFS: once that is closed (`close()` releases handles) or the mount
 * the handle was opened on is unmounted, `read` and `readRange` fail with `EINVAL`.
 *
 * Like an `fs` FileHandle it has a current position, 0 at open: a `read` without a position
 * (`null`, `undefined` or `-1`) reads there and moves it past the bytes read; a `read` at a
 * given position, and `readRange`, leave it where it is.
 */
export class StrataFileHandle {
  #closed = false;
  /** The current position: where the next `read` without a position starts. */
  #position = 0;

  /** @internal */
  constructor(
    /** The logical path. */
    readonly path: string,
    private readonly src: PageSource,
    /** The object's etag (or version tag) at open. */
    readonly etag: string | undefined,
    private readonly cache: PageCache,
    private readonly readOptions: PageReadOptions,
    private readonly mount: string,
    /** Throws once the handle may no longer read: its StrataFS closed, or its mount unmounted. */
    private readonly live: () => void = () => undefined,
  ) {}

  /** Size in bytes of the version this handle reads. */
  get size(): number {
    return this.src.size;
  }

  /**
   * Reads up to `length` bytes into `buffer` (a Buffer, TypedArray or DataView) at byte `offset`,
   * as `fs` FileHandle `read` does; no allocation when the pages are cached. Call forms:
   * `read(buffer, offset?, length?, position?)`, `read(buffer, { offset?, length?, position? })`,
   * `read({ buffer?, offset?, length?, position? })` and `read()`. Defaults: a new 16 KiB Buffer,
   * `offset` 0, `length` the rest of the buffer, `position` the current one.
   *
   * `position` is a byte offset in the file (a number or a bigint): the read starts there and the
   * current position does not move. `null`, `undefined` or `-1` read at the current position and
   * move it by `bytesRead`; reads of it made at once take consecutive ranges, in call order.
   * Resolves `{ bytesRead, buffer }`; `bytesRead` is short only at the end of the file, 0 at or
   * past it. Bad arguments (including a negative or fractional position, which `fs` on Node 20
   * silently reads as the current one) fail with `EINVAL`, as does a read after `close()` (of the
   * handle or of its StrataFS) or after its mount was unmounted; a read of a version that is gone
   * fails with `ESTALE` (see the class comment).
   */
  read<T extends ArrayBufferView = Buffer>(buffer: T, offset?: number | null, length?: number | null, position?: number | bigint | null): Promise<HandleReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(buffer: T, options?: { offset?: number | null; length?: number | null; position?: number | bigint | null }): Promise<HandleReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(options?: { buffer?: T; offset?: number | null; length?: number | null; position?: number | bigint | null } | null): Promise<HandleReadResult<T>>;
  async read<T extends ArrayBufferView>(bufferOrOptions?: unknown, offset?: unknown, length?: unknown, position?: unknown): Promise<HandleReadResult<T>> {
    this.#check();
    const args = this.#readArgs<T>(bufferOrOptions, offset, length, position);
    if (args.length === 0) return { bytesRead: 0, buffer: args.buffer };
    const { buffer } = args;
    const target = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    // The range is taken before the first await, so that reads made at once do not overlap.
    const at = args.position ?? this.#position;
    const end = at + Math.max(0, Math.min(args.length, this.src.size - at));
    if (args.position === undefined) this.#position = end;
    try {
      const bytesRead = await this.cache.readInto(this.src, at, args.length, target, args.offset, this.readOptions);
      if (args.position === undefined && this.#position === end) this.#position = at + bytesRead;
      return { bytesRead, buffer };
    } catch (error) {
      // A failed read moves nothing (unless a later read has taken the range after it).
      if (args.position === undefined && this.#position === end) this.#position = at;
      throw this.#failure(error);
    } finally {
      // Done: a loop of reads the cache answers lets timers and I/O run.
      const turn = eventLoopTurn();
      if (turn) await turn;
    }
  }

  /**
   * Reads `length` bytes at `position` into a new Buffer (shorter at the end of the file). The
   * current position does not move.
   */
  async readRange(position: number, length: number): Promise<Buffer> {
    this.#check();
    if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw invalid('position and length must be non-negative integers', { path: this.path, op: 'read' });
    }
    const size = Math.max(0, Math.min(length, this.src.size - position));
    const target = Buffer.allocUnsafe(size);
    const { bytesRead } = await this.read(target, 0, size, position);
    return bytesRead === size ? target : target.subarray(0, bytesRead);
  }

  /** Closes the handle; later reads fail with `EINVAL`. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Closes the handle, as `fs` FileHandles do: `await using handle = await fs.open(path)` closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #check(): void {
    if (this.#closed) throw new StrataError('EINVAL', 'file handle is closed', { path: this.path, op: 'read' });
    try {
      this.live();
    } catch (error) {
      throw toStrataError(error, { path: this.path, op: 'read', mount: this.mount });
    }
  }

  /** The arguments of `read` in any of its call forms, checked as `fs` checks them. */
  #readArgs<T extends ArrayBufferView>(first: unknown, second: unknown, third: unknown, fourth: unknown): ReadArgs<T> {
    let buffer: unknown;
    let fields: { buffer?: unknown; offset?: unknown; length?: unknown; position?: unknown };
    if (ArrayBuffer.isView(first)) {
      buffer = first;
      fields = isOptions(second) ? second : { offset: second, length: third, position: fourth };
    } else if (first === undefined || first === null || isOptions(first)) {
      fields = (first ?? {}) as typeof fields;
      ({ buffer = Buffer.alloc(DEFAULT_BUFFER_SIZE) } = fields);
      if (!ArrayBuffer.isView(buffer)) throw this.#invalid('buffer must be a Buffer, TypedArray or DataView');
    } else {
      throw this.#invalid('the first argument must be a Buffer, TypedArray, DataView or an options object');
    }
    const view = buffer as T;
    const offset = fields.offset ?? 0;
    if (!isCount(offset)) throw this.#invalid('offset must be a non-negative integer');
    const length = fields.length ?? view.byteLength - offset;
    if (!isCount(length)) throw this.#invalid(fields.length == null ? 'offset is past the end of the buffer' : 'length must be a non-negative integer');
    const position = this.#toPosition(fields.position);
    if (length > 0 && offset + length > view.byteLength) throw this.#invalid('offset + length is past the end of the buffer');
    return { buffer: view, offset, length, position };
  }

  /** A `read` position: a byte offset, or `undefined` for the current position. */
  #toPosition(value: unknown): number | undefined {
    if (value === undefined || value === null || value === -1 || value === -1n) return undefined;
    const n = typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
    if (!isCount(n)) throw this.#invalid('position must be a non-negative integer, or null or -1 for the current position');
    return n;
  }

  #invalid(detail: string): StrataError {
    return invalid(detail, { path: this.path, op: 'read' });
  }

  /** A read's failure as a StrataError; the object being gone is `ESTALE`: this handle's version is gone with it. */
  #failure(error: unknown): StrataError {
    const context = { path: this.path, op: 'read', mount: this.mount };
    const failure = toStrataError(error, context);
    if (!GONE.has(failure.code)) return failure;
    return new StrataError('ESTALE', 'the version this handle opened is gone: the file is no longer there', { ...context, cause: failure });
  }
}

/** True for an `fs`-style options object (not null, an array or a buffer). */
function isOptions(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** True for a non-negative safe integer. */
function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
