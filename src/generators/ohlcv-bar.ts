/** One OHLCV bar: the first, highest, lowest and last price of the bar, and its traded volume. */
export interface OhlcvBar {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}
