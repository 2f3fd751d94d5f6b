import { ErrorCode, QmtlError, type Problem } from '../common/errors.js';
import type { CoverageRange, HistoryProvider, HistoryRow, StreamKey } from '../sdk/history/protocols.js';
import type { BarGenerator } from './ohlcv-bar.js';
import { invalid, isSafeInteger, showValue } from './option-checks.js';

/** Where the bars of a {@link GeneratedHistoryProvider} sit in time. */
export interface BarPlacement {
  /** Timestamp of bar 0, epoch seconds, a multiple of `interval`. */
  readonly start: number;
  /** Number of bars held; a non-negative integer. */
  readonly bars: number;
  /** Bar interval in seconds; a positive integer. */
  readonly interval: number;
}

/** Options of a {@link GeneratedHistoryProvider}. */
export interface GeneratedHistoryProviderOptions extends BarPlacement {
  /** The bars to serve; the provider owns it from now on (it moves and resets it). */
  readonly generator: BarGenerator;
  /**
   * A stable id of the generator and every option that shapes its bars, plus `start` and
   * `interval`; it becomes part of the owning StreamInput's NodeID.
   */
  readonly sourceId: string;
}

/** One generated row: the bar's bucket timestamp and its OHLCV values. */
export interface GeneratedRow extends HistoryRow {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * A {@link HistoryProvider} that serves the bars of a seeded {@link BarGenerator}: bar k has
 * `ts = start + k·interval` and is the k-th bar the generator produces after `reset()`.
 *
 * Rows are regenerated on demand rather than stored. The generator stays at a cursor, so
 * ascending fetches continue where the last one stopped; a fetch that goes backwards restarts
 * from bar 0. Either way the rows are identical however the fetches are chunked.
 *
 * @example
 * const provider = new GeneratedHistoryProvider({
 *   generator: new HestonGenerator({ seed: 7, interval: 60 }),
 *   sourceId: 'heston:seed=7',
 *   start: 1_700_000_040,
 *   bars: 10_000,
 *   interval: 60,
 * });
 * const rows = await provider.fetch(1_700_000_040, 1_700_003_640, { nodeId, interval: 60 }); // 60 rows
 */
export class GeneratedHistoryProvider implements HistoryProvider {
  readonly sourceId: string;
  /** Timestamp of bar 0. */
  readonly start: number;
  /** Number of bars held. */
  readonly bars: number;
  /** Bar interval in seconds. */
  readonly interval: number;
  private readonly generator: BarGenerator;
  /** Index of the bar the generator produces next. */
  private cursor = 0;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: GeneratedHistoryProviderOptions) {
    const { generator, sourceId, start, bars, interval } = options;
    const problems = placementProblems(options);
    if (typeof sourceId !== 'string' || sourceId === '')
      problems.push(invalid('sourceId', 'a non-empty string', sourceId));
    const isGenerator =
      typeof generator === 'object' &&
      generator !== null &&
      typeof generator.nextBar === 'function' &&
      typeof generator.reset === 'function';
    if (!isGenerator) problems.push(invalid('generator', 'an object with nextBar() and reset()', generator));
    if (problems.length > 0)
      throw QmtlError.fromProblems('Invalid GeneratedHistoryProvider options', problems);
    this.generator = generator;
    this.sourceId = sourceId;
    this.start = start;
    this.bars = bars;
    this.interval = interval;
    this.generator.reset();
  }

  /** Rows with `start <= ts < end`, ascending by `ts`. */
  fetch(start: number, end: number, key: StreamKey): Promise<readonly GeneratedRow[]> {
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

  private rowsBetween(start: number, end: number, key: StreamKey): GeneratedRow[] {
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
    const rows: GeneratedRow[] = [];
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

/** Every problem with where bars are placed: the interval, the alignment of `start`, the count. */
export function placementProblems(placement: {
  readonly start: unknown;
  readonly bars: unknown;
  readonly interval: unknown;
}): Problem[] {
  const { start, bars, interval } = placement;
  const problems: Problem[] = [];
  if (!isSafeInteger(interval) || interval <= 0)
    problems.push(invalid('interval', 'a positive integer number of seconds', interval));
  if (!isSafeInteger(start)) problems.push(invalid('start', 'an integer number of epoch seconds', start));
  else if (isSafeInteger(interval) && interval > 0 && start % interval !== 0) {
    problems.push(invalid('start', `aligned to interval ${interval} (a multiple of it)`, start));
  }
  if (!isSafeInteger(bars) || bars < 0) problems.push(invalid('bars', 'a non-negative integer', bars));
  else if (
    isSafeInteger(start) &&
    isSafeInteger(interval) &&
    !Number.isSafeInteger(start + bars * interval)
  ) {
    problems.push(invalid('bars', 'small enough for every timestamp to be a safe integer', bars));
  }
  return problems;
}
