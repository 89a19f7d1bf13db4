/**
 * The circuit breaker of the shared tier: after a failure the tier is skipped for a cool-down,
 * then one call probes it again. A hard failure (an error from the connection or from Redis)
 * opens it at once. A soft one (a call over its time budget) opens it only when Redis has shown
 * no sign of life (no call succeeded, no byte arrived) for `stallMs`: Redis that keeps sending is
 * busy (with large transfers for the fleet), not down, and only the late call is given up.
 * One warning per outage (`process.emitWarning`; a relapse within a minute of recovering is the
 * same outage), never with a secret in it.
 * @module
 */
import { redact } from '../../errors.js';
import type { Milliseconds } from '../../size.js';

/** Warning code of {@link process.emitWarning} when the shared tier becomes unavailable. */
export const SHARED_TIER_WARNING = 'STRATAFS_SHARED_CACHE_UNAVAILABLE';

/** A failure this soon after a recovery belongs to the same outage: no new warning. */
const RELAPSE_MS = 60_000;

/** Closed (in use) / open (skipped until `retryAt`), with one probe at a time after the cool-down. */
export class CircuitBreaker {
  #openUntil = 0;
  #down = false;
  #probing = false;
  #lastProgressAt = 0;
  #upSince = 0;
  #warned = false;
  /** Failures seen (hard and soft, background ones included). */
  errors = 0;

  /**
   * `stallMs`: how long Redis may show no sign of life before calls over their budget count as
   * an outage (and, see the tier's calls, how long a call waits at most without one).
   */
  constructor(
    private readonly coolDownMs: Milliseconds,
    readonly stallMs: Milliseconds,
    private readonly secrets: readonly string[] = [],
  ) {}

  /** True when calls should go to Redis now (closed, or the cool-down is over and no probe runs). */
  allow(): boolean {
    if (!this.#down) return true;
    if (this.#probing || Date.now() < this.#openUntil) return false;
    this.#probing = true;
    return true;
  }

  /** When Redis last showed a sign of life: a call succeeded or bytes arrived (ms since the epoch; `0`: never). */
  get lastProgressAt(): number {
    return this.#lastProgressAt;
  }

  /** Bytes arrived from Redis (not a success: the breaker stays as it is). */
  progress(): void {
    this.#lastProgressAt = Date.now();
  }

  /** True while the tier is considered up. */
  get available(): boolean {
    return !this.#down;
  }

  /** A call succeeded: the outage (if any) is over. */
  success(): void {
    if (this.#down) this.#upSince = Date.now();
    this.#down = false;
    this.#probing = false;
    this.#lastProgressAt = Date.now();
  }

  /**
   * A call failed: open for the cool-down (a `soft` failure only after `stallMs` without
   * progress); warns once per outage.
   */
  failure(error: unknown, soft = false): void {
    this.errors++;
    if (soft && !this.#down && Date.now() - this.#lastProgressAt < this.stallMs) return;
    this.#probing = false;
    this.#openUntil = Date.now() + this.coolDownMs;
    if (this.#down) return;
    this.#down = true;
    // Connections come back one by one: a relapse soon after a recovery is the same outage.
    const now = Date.now();
    if (this.#warned && now - this.#upSince < RELAPSE_MS) return;
    this.#warned = true;
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

