/**
 * Counts the characters of the string keys looked up in maps while a function runs: each look-up
 * of a new string hashes all of it, so the count shows work that grows with the keys' lengths.
 */
import { vi } from 'vitest';

/** Runs `fn`; resolves with the characters of the string keys `Map` `get`/`set`/`has`/`delete` were given meanwhile. */
export async function mapKeyCharactersDuring(fn: () => Promise<void>): Promise<number> {
  let looked = 0;
  const spies = (['get', 'set', 'has', 'delete'] as const).map((name) => {
    const original = Map.prototype[name] as (this: Map<unknown, unknown>, ...args: unknown[]) => unknown;
    return vi.spyOn(Map.prototype, name).mockImplementation(function (this: Map<unknown, unknown>, ...args: unknown[]) {
      if (typeof args[0] === 'string') looked += args[0].length;
      return original.apply(this, args);
    } as never);
  });
  try {
    await fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return looked;
}
