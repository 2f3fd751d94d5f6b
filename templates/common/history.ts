/**
 * Where the strategy's bars come from. Replace `priceHistory()` with your own data: a
 * `CsvHistoryProvider('data/your-bars.csv')` (a `ts` or `timestamp` column, then any columns), a
 * `QuestDBLoader`, or any object with `fetch`, `coverage` and `fillMissing`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HistoryProvider } from 'qmtl';
import { CsvHistoryProvider } from 'qmtl/io';
import { sampleMarket } from './generators/index.js';

/** Written by `qmtl init --with-sample-data`: the sample market's bars as OHLCV rows. */
const SAMPLE_CSV = fileURLToPath(new URL('data/sample_ohlcv.csv', import.meta.url));

/**
 * The sample bars: read from data/sample_ohlcv.csv when it exists, else the same seeded market
 * generated in memory. The source id is part of the stream's NodeID, so it names the data, not
 * where this checkout happens to be.
 */
export function priceHistory(): HistoryProvider {
  if (existsSync(SAMPLE_CSV))
    return new CsvHistoryProvider(SAMPLE_CSV, { sourceId: 'csv:data/sample_ohlcv.csv' });
  return sampleMarket();
}
