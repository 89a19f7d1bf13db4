/**
 * `objectSizeOf`: the whole object's size from a GET answer's headers, or nothing when they do
 * not agree with each other or with the range asked for (a cold read then asks `stat` instead of
 * trusting them).
 */
import { describe, expect, it } from 'vitest';
import { objectSizeOf } from '../../src/index.js';

describe('objectSizeOf', () => {
  it('takes the total of Content-Range, else Content-Length of a whole answer', () => {
    expect(objectSizeOf('bytes 0-99/1000', '100', { offset: 0, length: 100 })).toBe(1000);
    expect(objectSizeOf('bytes 900-999/1000', 100, { offset: 900, length: 500 })).toBe(1000);
    expect(objectSizeOf(undefined, '1000')).toBe(1000);
    expect(objectSizeOf(undefined, 0)).toBe(0);
    // A server that ignores Range answers 200 with everything: its length is the object's.
    expect(objectSizeOf(undefined, '1000', { offset: 100, length: 10 })).toBe(1000);
  });

  it('is undefined when the headers are missing, malformed or disagree', () => {
    expect(objectSizeOf(undefined, undefined)).toBeUndefined();
    expect(objectSizeOf('bytes */1000', '0')).toBeUndefined();
    expect(objectSizeOf('bytes 0-9/10', '65536', { offset: 0, length: 65536 })).toBeUndefined(); // length is not the range's
    expect(objectSizeOf('bytes 0-99/1000', '100', { offset: 500, length: 100 })).toBeUndefined(); // not the range asked for
    expect(objectSizeOf('bytes 0-1000/1000', undefined)).toBeUndefined(); // past its own total
    expect(objectSizeOf(undefined, '-5')).toBeUndefined();
    expect(objectSizeOf(undefined, 'abc')).toBeUndefined();
  });
});
