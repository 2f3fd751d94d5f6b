import { formatTime } from '../common/time.js';
import { GarchGenerator } from '../generators/garch.js';
import { takeBars } from '../generators/ohlcv-bar.js';

/**
 * The market of a new project: one day of seeded GARCH(1,1) one-minute bars from
 * 2024-01-01T00:00:00Z. The template's `generators/index.ts` declares the same values, so its
 * strategy gets the same bars from the generator when there is no sample CSV.
 */
export const SAMPLE_MARKET = {
  seed: 42,
  start: 1_704_067_200,
  bars: 1_440,
  interval: 60,
  omega: 3e-9,
} as const;

/** Where `qmtl init --with-sample-data` writes the bars, relative to the project. */
export const SAMPLE_CSV_PATH = 'data/sample_ohlcv.csv';

/** The first and last bucket of the sample market, as ISO-8601: the project's backtest range. */
export function sampleRange(): { readonly startTime: string; readonly endTime: string } {
  const { start, bars, interval } = SAMPLE_MARKET;
  return { startTime: formatTime(start), endTime: formatTime(start + (bars - 1) * interval) };
}

/**
 * The sample market as CSV: `timestamp,open,high,low,close,volume`, times in ISO-8601, prices to
 * 4 decimals and volumes to 2. The same bars on every call.
 */
export function sampleOhlcvCsv(): string {
  const { seed, omega, start, bars, interval } = SAMPLE_MARKET;
  const lines = ['timestamp,open,high,low,close,volume'];
  for (const [k, bar] of takeBars(new GarchGenerator({ seed, omega }), bars).entries()) {
    const prices = [bar.open, bar.high, bar.low, bar.close].map((price) => price.toFixed(4));
    lines.push([formatTime(start + k * interval), ...prices, bar.volume.toFixed(2)].join(','));
  }
  return `${lines.join('\n')}\n`;
}
