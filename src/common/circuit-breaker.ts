import { ErrorCode, QmtlError } from './errors.js';

/** Where a {@link CircuitBreaker} is: calls pass (`closed`), fail fast (`open`) or probe (`half-open`). */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Name used in errors and metrics, e.g. `'kafka-admin'`. */
  readonly name: string;
  /** Consecutive failures that open the breaker. Default 3. */
  readonly failureThreshold?: number;
  /** How long it stays open before one half-open probe, in ms. Default 60 000. */
  readonly resetTimeoutMs?: number;
  /** Clock in ms; injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
  /** Called each time the breaker opens (e.g. to count `kafka_breaker_open_total`). */
  readonly onOpen?: () => void;
  /** Called on every state change. */
  readonly onStateChange?: (state: BreakerState) => void;
}

/**
 * A circuit breaker: after `failureThreshold` consecutive failures it opens and calls fail fast
 * with `QMTL_UNAVAILABLE` until `resetTimeoutMs` has passed; then exactly one call goes through as
 * a half-open probe — success closes the breaker, failure opens it again.
 *
 * @example
 * const breaker = new CircuitBreaker({ name: 'kafka-admin', failureThreshold: 3 });
 * await breaker.call(() => admin.createTopics(...));
 */
export class CircuitBreaker {
  readonly name: string;
  private readonly threshold: number;
  private readonly resetTimeoutMs: number;
  private readonly now: () => number;
  private readonly onOpen: (() => void) | undefined;
  private readonly onStateChange: ((state: BreakerState) => void) | undefined;
  private currentState: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probing = false;
  /** Counts state changes: a call's outcome counts only if none happened since it started. */
  private phase = 0;

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.threshold = options.failureThreshold ?? 3;
    this.resetTimeoutMs = options.resetTimeoutMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.onOpen = options.onOpen;
    this.onStateChange = options.onStateChange;
    if (!Number.isSafeInteger(this.threshold) || this.threshold < 1) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `circuit breaker ${this.name}: failureThreshold must be a positive integer, got ${this.threshold}`,
      );
    }
  }

  /** The state now (an open breaker whose timeout has passed reports `half-open`). */
  get state(): BreakerState {
    if (this.currentState === 'open' && this.now() - this.openedAt >= this.resetTimeoutMs) return 'half-open';
    return this.currentState;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.consecutiveFailures;
  }

  /**
   * Runs `operation` through the breaker. Only calls started in the breaker's current phase count:
   * a call that started before it opened (or before a probe began) does not close or reopen it
   * when it ends late. @throws QmtlError `QMTL_UNAVAILABLE` while open, or while a probe runs.
   */
  async call<T>(operation: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probing)) {
      throw new QmtlError(
        ErrorCode.Unavailable,
        `${this.name} is unavailable (circuit open after ${this.consecutiveFailures} consecutive failures)`,
      );
    }
    if (state === 'half-open') {
      this.setState('half-open');
      this.probing = true;
    }
    const phase = this.phase;
    let succeeded = false;
    try {
      const result = await operation();
      succeeded = true;
      return result;
    } finally {
      if (phase === this.phase) {
        this.probing = false;
        if (succeeded) this.recordSuccess();
        else this.recordFailure();
      }
    }
  }

  /** Closes the breaker and forgets failures. */
  reset(): void {
    this.consecutiveFailures = 0;
    this.setState('closed');
  }

  private recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.setState('closed');
  }

  private recordFailure(): void {
    this.consecutiveFailures += 1;
    if (this.currentState === 'half-open' || this.consecutiveFailures >= this.threshold) {
      this.openedAt = this.now();
      const wasOpen = this.currentState === 'open';
      this.setState('open');
      if (!wasOpen) this.onOpen?.();
    }
  }

  private setState(state: BreakerState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.phase += 1;
    this.probing = false;
    this.onStateChange?.(state);
  }
}
