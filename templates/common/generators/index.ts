/**
 * Synthetic markets for this project. qmtl's seeded generators (GARCH(1,1), Heston, rough
 * Bergomi) give the same bars on every run: good for trying a strategy before you have data.
 */
import { GarchHistoryProvider } from 'qmtl/generators';

export * from 'qmtl/generators';

/**
 * The sample market: one day of seeded GARCH(1,1) one-minute bars from 2024-01-01T00:00:00Z.
 * `qmtl init --with-sample-data` wrote these bars (rounded) to data/sample_ohlcv.csv.
 */
export const SAMPLE_MARKET = { seed: 42, start: 1704067200, bars: 1440, interval: 60, omega: 3e-9 } as const;

/** The sample market as a history provider: its bars, generated in memory. */
export function sampleMarket(): GarchHistoryProvider {
  return new GarchHistoryProvider(SAMPLE_MARKET);
}
