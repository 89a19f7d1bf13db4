/**
 * The signal many-call operations hand their calls: it follows the caller's (with its reason) and
 * takes any number of listeners, with or without `AbortSignal.any` (Node.js 20 before 20.3).
 */
import { getEventListeners } from 'node:events';
import { expect, it } from 'vitest';
import { withFanOutSignal } from '../../src/fs/fan-out.js';

for (const withAny of [true, false]) {
  it(`follows the caller's signal and its reason, and takes many listeners (${withAny ? 'AbortSignal.any' : 'without AbortSignal.any'})`, () => {
    const original = AbortSignal.any;
    if (!withAny) (AbortSignal as { any?: unknown }).any = undefined;
    try {
      const caller = new AbortController();
      const options = withFanOutSignal({ recursive: true, signal: caller.signal })!;
      expect(options.recursive).toBe(true);
      const inner = options.signal!;
      expect(inner).not.toBe(caller.signal);
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(w.name);
      process.on('warning', onWarning);
      for (let i = 0; i < 50; i++) inner.addEventListener('abort', () => undefined);
      const reason = new Error('stop');
      caller.abort(reason);
      expect(inner.aborted).toBe(true);
      expect(inner.reason).toBe(reason);
      process.off('warning', onWarning);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
      expect(getEventListeners(caller.signal, 'abort').length).toBeLessThanOrEqual(1);
      expect(withFanOutSignal(undefined)).toBeUndefined();
      expect(withFanOutSignal({})).toEqual({});
    } finally {
      (AbortSignal as { any?: unknown }).any = original;
    }
  });
}
