import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { sleep as realSleep, type SleepFn } from '../common/retry.js';

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second: the sustained request rate. */
  readonly ratePerSecond: number;
  /** Most tokens held, i.e. the largest burst. Default 1 (requests evenly spaced). */
  readonly capacity?: number;
  /** Clock in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How to wait. Default a setTimeout-based sleep. */
  readonly sleep?: SleepFn;
}

/**
 * A token-bucket rate limiter: each {@link take} spends one token, tokens refill continuously at
 * `ratePerSecond` up to `capacity`, and a caller that finds the bucket empty waits for the next
 * token. Callers are served in order.
 * @example
 * const limiter = new TokenBucket({ ratePerSecond: 10, capacity: 10 });
 * await limiter.take(); // then send the request
 */
export class TokenBucket {
  private readonly rate: number;
  private readonly capacity: number;
  private readonly now: () => number;
  private readonly sleep: SleepFn;
  private tokens: number;
  private updatedAt: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: TokenBucketOptions) {
    const { ratePerSecond, capacity = 1 } = options;
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `ratePerSecond must be a positive number, got ${quote(ratePerSecond)}`,
      );
    }
    if (!(Number.isFinite(capacity) && capacity >= 1)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `capacity must be a number >= 1, got ${quote(capacity)}`,
      );
    }
    this.rate = ratePerSecond;
    this.capacity = capacity;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.tokens = capacity;
    this.updatedAt = this.now();
  }

  /** Waits until a token is available and spends it. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.takeNow());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async takeNow(): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000));
    }
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.rate);
    this.updatedAt = now;
  }
}
