/**
 * The signal many-call operations hand their calls: it follows the caller's (with its reason),
 * takes any number of listeners, and leaves nothing on the caller's signal once the call ended.
 */
import { getEventListeners } from 'node:events';
import { expect, it } from 'vitest';
import { withFanOutSignal } from '../../src/fs/fan-out.js';

it("follows the caller's signal and its reason, and takes many listeners", async () => {
  const caller = new AbortController();
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const reason = new Error('stop');
    await withFanOutSignal({ recursive: true, signal: caller.signal }, async (options) => {
      expect(options!.recursive).toBe(true);
      const inner = options!.signal!;
      expect(inner).not.toBe(caller.signal);
      for (let i = 0; i < 50; i++) inner.addEventListener('abort', () => undefined);
      expect(getEventListeners(caller.signal, 'abort').length).toBeLessThanOrEqual(1);
      caller.abort(reason);
      expect(inner.aborted).toBe(true);
      expect(inner.reason).toBe(reason);
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  } finally {
    process.off('warning', onWarning);
  }
});

it("leaves no listener on the caller's signal once the call ended", async () => {
  const caller = new AbortController();
  let inner: AbortSignal | undefined;
  expect(await withFanOutSignal({ signal: caller.signal }, async (options) => ((inner = options!.signal), 'done'))).toBe('done');
  await expect(withFanOutSignal({ signal: caller.signal }, async () => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
  expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  caller.abort();
  expect(inner!.aborted).toBe(false);
  expect(await withFanOutSignal(undefined, async (options) => options)).toBeUndefined();
  expect(await withFanOutSignal({}, async (options) => options)).toEqual({});
});
