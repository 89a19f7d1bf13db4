/**
 * The circuit breaker of the shared tier: after a failure the tier is skipped for a cool-down,
 * then one call probes it again. A hard failure (an error from the connection or from Redis)
 * opens it at once. A soft one (a call over its time budget) opens it only when no call has
 * succeeded for `stallMs`: Redis that answers other calls is busy (with large transfers for the
 * fleet), not down, and only the late call is given up. One warning per outage
 * (`process.emitWarning`), never with a secret in it.
 * @module
 */
import { redact } from '../../errors.js';
import type { Milliseconds } from '../../size.js';

/** Warning code of {@link process.emitWarning} when the shared tier becomes unavailable. */
export const SHARED_TIER_WARNING = 'STRATAFS_SHARED_CACHE_UNAVAILABLE';

/** Closed (in use) / open (skipped until `retryAt`), with one probe at a time after the cool-down. */
export class CircuitBreaker {
  #openUntil = 0;
  #down = false;
  #probing = false;
  #lastSuccessAt = 0;
  /** Failures seen (hard and soft, background ones included). */
  errors = 0;

  constructor(
    private readonly coolDownMs: Milliseconds,
    private readonly stallMs: Milliseconds,
    private readonly secrets: readonly string[] = [],
  ) {}

  /** True when calls should go to Redis now (closed, or the cool-down is over and no probe runs). */
  allow(): boolean {
    if (!this.#down) return true;
    if (this.#probing || Date.now() < this.#openUntil) return false;
    this.#probing = true;
    return true;
  }

  /** When a call last succeeded (ms since the epoch; `0`: never). */
  get lastSuccessAt(): number {
    return this.#lastSuccessAt;
  }

  /** True while the tier is considered up. */
  get available(): boolean {
    return !this.#down;
  }

  /** A call succeeded: the outage (if any) is over. */
  success(): void {
    this.#down = false;
    this.#probing = false;
    this.#lastSuccessAt = Date.now();
  }

  /**
   * A call failed: open for the cool-down (a `soft` failure only when nothing succeeded for
   * `stallMs`); warns once per outage.
   */
  failure(error: unknown, soft = false): void {
    this.errors++;
    if (soft && !this.#down && Date.now() - this.#lastSuccessAt < this.stallMs) return;
    this.#probing = false;
    this.#openUntil = Date.now() + this.coolDownMs;
    if (this.#down) return;
    this.#down = true;
    process.emitWarning(`stratafs: the shared cache (Redis) is unavailable (${describeFailure(error, this.secrets)}); it is skipped and retried every ${this.coolDownMs} ms`, {
      code: SHARED_TIER_WARNING,
    });
  }
}

/** A short, secret-free reason for a failure. */
function describeFailure(error: unknown, secrets: readonly string[]): string {
  const e = error as { message?: unknown } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (/Stream isn't writeable|Connection is closed|enableOfflineQueue|isn't ready/i.test(message)) return 'not connected';
  return redact(message, secrets).replace(/\s+/g, ' ').slice(0, 200);
}

