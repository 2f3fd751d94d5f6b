import { ErrorCode, QmtlError } from '../common/errors.js';
import { showValue } from './option-checks.js';

/** One OHLCV bar: the first, highest, lowest and last price of the bar, and its traded volume. */
export interface OhlcvBar {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * A seeded source of consecutive bars: what a {@link GeneratedHistoryProvider} replays.
 * After `reset()` the same bars come out again, in the same order.
 */
export interface BarGenerator {
  /** Generates the next bar. */
  nextBar(): OhlcvBar;
  /** Returns to the first bar. */
  reset(): void;
}

/**
 * The next `count` bars of `generator`.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` when `count` is not a non-negative integer.
 */
export function takeBars(generator: BarGenerator, count: number): OhlcvBar[] {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `bars count must be a non-negative integer, got ${showValue(count)}`,
    );
  }
  const result: OhlcvBar[] = [];
  for (let i = 0; i < count; i += 1) result.push(generator.nextBar());
  return result;
}
