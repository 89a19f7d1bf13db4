/** `SharedSignal`: shared work is aborted only once every caller waiting for it gave up. */
import { describe, expect, it } from 'vitest';
import { SharedSignal } from '../../src/cache/shared-signal.js';

const never = new Promise<string>(() => undefined);

describe('SharedSignal', () => {
  it('each caller stops waiting at its own abort; the work is aborted when the last one leaves', async () => {
    const shared = new SharedSignal();
    const [a, b] = [new AbortController(), new AbortController()];
    const waitA = shared.hold(never, a.signal).catch((e: unknown) => e);
    const waitB = shared.hold(never, b.signal).catch((e: unknown) => e);
    a.abort();
    expect(await waitA).toMatchObject({ name: 'AbortError' });
    expect(shared.signal.aborted).toBe(false);
    b.abort();
    expect(await waitB).toMatchObject({ name: 'AbortError' });
    expect(shared.signal.aborted).toBe(true);
  });

  it('a caller without a signal holds the work until it is done', async () => {
    const shared = new SharedSignal();
    const a = new AbortController();
    let finish!: (v: string) => void;
    const work = new Promise<string>((resolve) => (finish = resolve));
    const waitA = shared.hold(work, a.signal).catch((e: unknown) => e);
    const waitB = shared.hold(work, undefined);
    a.abort();
    expect(await waitA).toMatchObject({ name: 'AbortError' });
    expect(shared.signal.aborted).toBe(false);
    finish('done');
    expect(await waitB).toBe('done');
  });

  it('the outcome reaches the callers still waiting; an abort reason of any kind is an AbortError', async () => {
    const shared = new SharedSignal();
    const a = new AbortController();
    a.abort(new Error('stop'));
    const refused = await shared.hold(Promise.resolve(1), a.signal).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'AbortError', cause: { message: 'stop' } });
    const b = new AbortController();
    await expect(shared.hold(Promise.reject(new Error('store down')), b.signal)).rejects.toThrow('store down');
    expect(await new SharedSignal().hold(Promise.resolve(7), b.signal)).toBe(7);
  });
});
