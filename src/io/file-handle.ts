/**
 * `StrataFileHandle`: random access to one version of a file, like an `fs` FileHandle.
 * @module
 */
import { StrataError, invalid, toStrataError } from '../errors.js';
import type { PageCache, PageReadOptions, PageSource } from '../cache/page-cache.js';

/** What `read` resolves to, as in `fs`. */
export interface HandleReadResult<T extends Uint8Array = Buffer> {
  bytesRead: number;
  buffer: T;
}

/**
 * An open file: reads the version it was opened at. Once that version can no longer be read
 * (the object changed and its old pages are gone), `read` fails with `ESTALE` rather than mixing
 * versions. Cheap to keep open: it holds no store connection.
 */
export class StrataFileHandle {
  #closed = false;

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
  ) {}

  /** Size in bytes of the version this handle reads. */
  get size(): number {
    return this.src.size;
  }

  /**
   * Reads up to `length` bytes at `position` into `buffer` at `offset` (no allocation when the
   * pages are cached). Resolves `{ bytesRead, buffer }`; `bytesRead` is 0 at or past the end.
   */
  async read<T extends Uint8Array>(buffer: T, offset = 0, length = buffer.byteLength - offset, position = 0): Promise<HandleReadResult<T>> {
    this.#check();
    if (!(buffer instanceof Uint8Array)) throw invalid('buffer must be a Buffer or Uint8Array', { path: this.path, op: 'read' });
    for (const [name, value] of [['offset', offset], ['length', length], ['position', position]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${name} must be a non-negative integer`, { path: this.path, op: 'read' });
    }
    if (offset + length > buffer.byteLength) throw invalid('offset + length is past the end of the buffer', { path: this.path, op: 'read' });
    const target = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    try {
      const bytesRead = await this.cache.readInto(this.src, position, length, target, offset, this.readOptions);
      return { bytesRead, buffer };
    } catch (error) {
      throw toStrataError(error, { path: this.path, op: 'read', mount: this.mount });
    }
  }

  /** Reads `length` bytes at `position` into a new Buffer (shorter at the end of the file). */
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

  #check(): void {
    if (this.#closed) throw new StrataError('EINVAL', 'file handle is closed', { path: this.path, op: 'read' });
  }
}
