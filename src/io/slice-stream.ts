/**
 * Cutting a byte range out of a stream of a whole object: for stores without ranged reads, and
 * for servers that answer a ranged request with the whole object.
 * @module
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ByteRange } from '../store/under-store.js';

/** Passes on the bytes of one range of its input, then ends (see {@link sliceStream}). */
class RangeSlice extends Transform {
  #skip: number;
  #left: number;

  constructor(
    range: ByteRange,
    /** Called once the range is complete, to let the source go. */
    private readonly complete: () => void,
  ) {
    super();
    this.#skip = range.offset;
    this.#left = range.length ?? Number.POSITIVE_INFINITY;
  }

  /** Ends at once when nothing is wanted. */
  start(): this {
    if (this.#left === 0) this.#finish();
    return this;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#left === 0) return callback(); // bytes after the range, before the source stopped
    let part = chunk;
    if (this.#skip > 0) {
      const dropped = Math.min(this.#skip, part.length);
      this.#skip -= dropped;
      part = part.subarray(dropped);
    }
    if (part.length > this.#left) part = part.subarray(0, this.#left);
    this.#left -= part.length;
    if (part.length > 0) this.push(part);
    if (this.#left === 0) this.#finish();
    callback();
  }

  #finish(): void {
    this.push(null);
    this.complete();
  }
}

/**
 * The bytes of `range` (to the end when it has no length) from `source`, a stream of a whole
 * object. The source is stopped (destroyed) as soon as the range is complete, its errors fail
 * the result, and destroying the result destroys it.
 */
export function sliceStream(source: Readable, range: ByteRange): Readable {
  const slice = new RangeSlice(range, () => {
    source.unpipe(slice);
    source.destroy();
  });
  source.once('error', (error) => slice.destroy(error));
  slice.once('close', () => source.destroy());
  source.pipe(slice);
  return slice.start();
}
