import { canonicalJson } from '../common/hash.js';
import { QmtlError } from '../common/errors.js';
import { GarchGenerator } from './garch.js';
import { resolveGarchOptions, type GarchOptions } from './garch-options.js';
import {
  GeneratedHistoryProvider,
  placementProblems,
  type BarPlacement,
  type GeneratedHistoryProviderOptions,
  type GeneratedRow,
} from './generated-history-provider.js';

/** Options of a {@link GarchHistoryProvider}: where its bars sit in time, plus the GARCH options. */
export interface GarchHistoryProviderOptions extends GarchOptions, BarPlacement {}

/** One generated row: the bar's bucket timestamp and its OHLCV values. */
export type GarchHistoryRow = GeneratedRow;

/**
 * A {@link GeneratedHistoryProvider} that serves a seeded GARCH(1,1) market: bar k has
 * `ts = start + k·interval` and is the k-th bar of a {@link GarchGenerator} with the same options.
 *
 * @example
 * const provider = new GarchHistoryProvider({ seed: 7, start: 1_700_000_040, bars: 10_000, interval: 60 });
 * const rows = await provider.fetch(1_700_000_040, 1_700_003_640, { nodeId, interval: 60 }); // 60 rows
 */
export class GarchHistoryProvider extends GeneratedHistoryProvider {
  /**
   * `garch:` plus the canonical JSON of the seed, GARCH parameters, `start` and `interval`.
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option.
   */
  constructor(options: GarchHistoryProviderOptions) {
    super(garchProviderOptions(options));
  }
}

function garchProviderOptions(options: GarchHistoryProviderOptions): GeneratedHistoryProviderOptions {
  const { start, bars, interval, ...garchOptions } = options;
  const { options: resolved, problems } = resolveGarchOptions(garchOptions);
  problems.push(...placementProblems({ start, bars, interval }));
  if (problems.length > 0) throw QmtlError.fromProblems('Invalid GarchHistoryProvider options', problems);
  return {
    generator: new GarchGenerator(resolved),
    // `bars` is left out: extending the range keeps every existing row, so the source is the same.
    sourceId: `garch:${canonicalJson({ ...resolved, start, interval })}`,
    start,
    bars,
    interval,
  };
}
