import { canonicalJson } from '../common/hash.js';
import { ErrorCode, QmtlError, type Problem } from '../common/errors.js';
import type { CoverageRange, HistoryProvider, HistoryRow, StreamKey } from '../sdk/history/protocols.js';
import { GarchGenerator } from './garch.js';
import { invalid, resolveGarchOptions, showValue, type GarchOptions } from './garch-options.js';

/** Options of a {@link GarchHistoryProvider}: where its bars sit in time, plus the GARCH options. */
export interface GarchHistoryProviderOptions extends GarchOptions {
  /** Timestamp of bar 0, epoch seconds, a multiple of `interval`. */
  readonly start: number;
  /** Number of bars held; a non-negative integer. */
  readonly bars: number;
  /** Bar interval in seconds; a positive integer. */
  readonly interval: number;
}

/** One generated row: the bar's bucket timestamp and its OHLCV values. */
export interface GarchHistoryRow extends HistoryRow {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * A {@link HistoryProvider} that serves a seeded GARCH(1,1) market: bar k has
 * `ts = start + k·interval` and the k-th bar of a {@link GarchGenerator} with the same options.
 *
 * Rows are regenerated on demand rather than stored. The generator stays at a cursor, so
 * ascending fetches continue where the last one stopped; a fetch that goes backwards restarts
 * from bar 0. Either way the rows are identical however the fetches are chunked.
 *
 * @example
 * const provider = new GarchHistoryProvider({ seed: 7, start: 1_700_000_040, bars: 10_000, interval: 60 });
 * const rows = await provider.fetch(1_700_000_040, 1_700_003_640, { nodeId, interval: 60 }); // 60 rows
 */
export class GarchHistoryProvider implements HistoryProvider {
  /** `garch:` plus the canonical JSON of the seed, GARCH parameters, `start` and `interval`. */
  readonly sourceId: string;
  /** Timestamp of bar 0. */
  readonly start: number;
  /** Number of bars held. */
  readonly bars: number;
  /** Bar interval in seconds. */
  readonly interval: number;
  private readonly generator: GarchGenerator;
  /** Index of the bar the generator produces next. */
  private cursor = 0;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: GarchHistoryProviderOptions) {
    const { start, bars, interval, ...garchOptions } = options;
    const { options: resolved, problems } = resolveGarchOptions(garchOptions);
    problems.push(...placementProblems(start, bars, interval));
    if (problems.length > 0) throw QmtlError.fromProblems('Invalid GarchHistoryProvider options', problems);
    this.start = start;
    this.bars = bars;
    this.interval = interval;
    this.generator = new GarchGenerator(resolved);
    // `bars` is left out: extending the range keeps every existing row, so the source is the same.
    this.sourceId = `garch:${canonicalJson({ ...resolved, start, interval })}`;
  }

  /** Rows with `start <= ts < end`, ascending by `ts`. */
  fetch(start: number, end: number, key: StreamKey): Promise<readonly GarchHistoryRow[]> {
    return new Promise((resolve) => resolve(this.rowsBetween(start, end, key)));
  }

  /** `[[start, start + (bars − 1)·interval]]`, or `[]` when the provider holds no bars. */
  coverage(_key: StreamKey): Promise<readonly CoverageRange[]> {
    const ranges: CoverageRange[] =
      this.bars === 0 ? [] : [[this.start, this.start + (this.bars - 1) * this.interval]];
    return Promise.resolve(ranges);
  }

  /** Does nothing: every bar of the range is already available. */
  fillMissing(_start: number, _end: number, _key: StreamKey): Promise<void> {
    return Promise.resolve();
  }

  private rowsBetween(start: number, end: number, key: StreamKey): GarchHistoryRow[] {
    if (typeof start !== 'number' || Number.isNaN(start))
      throw argumentError('fetch start', 'a number', start);
    if (typeof end !== 'number' || Number.isNaN(end)) throw argumentError('fetch end', 'a number', end);
    if (key.interval !== this.interval) {
      throw argumentError('fetch key.interval', `this provider's interval ${this.interval}`, key.interval);
    }
    const first = Math.max(0, Math.ceil((start - this.start) / this.interval));
    const last = Math.min(this.bars, Math.ceil((end - this.start) / this.interval));
    if (first >= last) return [];
    if (first < this.cursor) {
      this.generator.reset();
      this.cursor = 0;
    }
    for (; this.cursor < first; this.cursor += 1) this.generator.nextBar();
    const rows: GarchHistoryRow[] = [];
    for (; this.cursor < last; this.cursor += 1) {
      const { open, high, low, close, volume } = this.generator.nextBar();
      rows.push({ ts: this.start + this.cursor * this.interval, open, high, low, close, volume });
    }
    return rows;
  }
}

function argumentError(field: string, rule: string, value: unknown): QmtlError {
  return new QmtlError(ErrorCode.InvalidArgument, `${field} must be ${rule}, got ${showValue(value)}`);
}

function placementProblems(start: unknown, bars: unknown, interval: unknown): Problem[] {
  const problems: Problem[] = [];
  const isInteger = (value: unknown): value is number =>
    typeof value === 'number' && Number.isSafeInteger(value);
  if (!isInteger(interval) || interval <= 0)
    problems.push(invalid('interval', 'a positive integer number of seconds', interval));
  if (!isInteger(start)) problems.push(invalid('start', 'an integer number of epoch seconds', start));
  else if (isInteger(interval) && interval > 0 && start % interval !== 0) {
    problems.push(invalid('start', `aligned to interval ${interval} (a multiple of it)`, start));
  }
  if (!isInteger(bars) || bars < 0) problems.push(invalid('bars', 'a non-negative integer', bars));
  else if (isInteger(start) && isInteger(interval) && !Number.isSafeInteger(start + bars * interval)) {
    problems.push(invalid('bars', 'small enough for every timestamp to be a safe integer', bars));
  }
  return problems;
}
