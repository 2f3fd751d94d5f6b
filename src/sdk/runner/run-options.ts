import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { parseTime, type TimeLike } from '../../common/time.js';
import type { KeepOutputs } from './execution-graph.js';
import type { ReplayProgress } from './replay.js';
import { OnMissing } from './tick-engine.js';

/** How a run executes (SPEC §1). Dry-run and live arrive with the distributed runtime. */
export const RunMode = { Backtest: 'backtest', Offline: 'offline', DryRun: 'dryrun', Live: 'live' } as const;
/** One of {@link RunMode}. */
export type RunMode = (typeof RunMode)[keyof typeof RunMode];

/** Options of a replaying run (`Runner.backtest`, `Runner.offline`, `Runner.run`). */
export interface RunOptions {
  /** First bucket replayed (epoch seconds, ISO-8601 or Date). Required for a backtest. */
  readonly startTime?: TimeLike;
  /** Last bucket replayed, inclusive. Required for a backtest. */
  readonly endTime?: TimeLike;
  /** `skip` (default) drops a trigger whose upstream has a missing bucket; `fail` stops the run. */
  readonly onMissing?: OnMissing;
  /** Which nodes keep the series they emit (default: the leaves of each strategy). */
  readonly keepOutputs?: KeepOutputs;
  /** Gateway URL; not available in the embedded-only version of the runner. */
  readonly gatewayUrl?: string;
  /** Count CacheView reads in `cache_read_total` (slower; default false). */
  readonly trackReads?: boolean;
  /** Retries of a failing history fetch (default 3). */
  readonly maxRetries?: number;
  /** Bars of the finest interval fetched per history window (default 65,536). */
  readonly windowBars?: number;
  /** Called once per history window with the progress of the replay. */
  readonly onProgress?: (progress: ReplayProgress) => void;
}

/** {@link RunOptions} checked and normalised. */
export interface ResolvedRunOptions {
  readonly mode: RunMode;
  readonly start: number | null;
  readonly end: number | null;
  readonly onMissing: OnMissing;
  readonly keepOutputs: KeepOutputs;
  readonly trackReads: boolean;
  readonly maxRetries: number;
  readonly windowBars: number;
  readonly onProgress: ((progress: ReplayProgress) => void) | null;
}

const KEYS = [
  'startTime',
  'endTime',
  'onMissing',
  'keepOutputs',
  'gatewayUrl',
  'trackReads',
  'maxRetries',
  'windowBars',
  'onProgress',
];

/** Checks run options, naming the option and the value in every error. */
export function resolveRunOptions(mode: RunMode, options: RunOptions): ResolvedRunOptions {
  if (typeof options !== 'object' || options === null)
    throw invalid(`run options must be an object, got ${quote(options)}`);
  const unknown = Object.keys(options).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0)
    throw invalid(
      `unknown run option ${unknown.map((k) => quote(k)).join(', ')} (known: ${KEYS.join(', ')})`,
    );
  if (mode === RunMode.DryRun || mode === RunMode.Live) {
    throw new QmtlError(
      ErrorCode.NotSupported,
      `mode ${quote(mode)} needs the distributed runtime, which this version does not include; use "backtest" or "offline"`,
    );
  }
  if (options.gatewayUrl !== undefined) {
    throw new QmtlError(
      ErrorCode.NotSupported,
      `gatewayUrl ${quote(options.gatewayUrl)}: submitting to a Gateway is not available in this version; omit it to run embedded`,
    );
  }
  const start = options.startTime === undefined ? null : parseTime(options.startTime, 'startTime');
  const end = options.endTime === undefined ? null : parseTime(options.endTime, 'endTime');
  if (mode === RunMode.Backtest && (start === null || end === null)) {
    throw invalid(
      `a backtest needs both startTime and endTime (got startTime ${quote(options.startTime)}, endTime ${quote(options.endTime)})`,
    );
  }
  if (start !== null && end !== null && start > end)
    throw invalid(`startTime ${quote(options.startTime)} is after endTime ${quote(options.endTime)}`);
  const onMissing = options.onMissing ?? OnMissing.Skip;
  if (onMissing !== OnMissing.Skip && onMissing !== OnMissing.Fail)
    throw invalid(`onMissing must be "skip" or "fail", got ${quote(onMissing)}`);
  const keepOutputs = options.keepOutputs ?? 'leaves';
  if (!Array.isArray(keepOutputs) && !['leaves', 'all', 'none'].includes(keepOutputs as string)) {
    throw invalid(
      `keepOutputs must be "leaves", "all", "none" or an array of nodes, got ${quote(keepOutputs)}`,
    );
  }
  return {
    mode,
    start,
    end,
    onMissing,
    keepOutputs,
    trackReads: options.trackReads ?? false,
    maxRetries: nonNegativeInteger(options.maxRetries ?? 3, 'maxRetries'),
    windowBars: nonNegativeInteger(options.windowBars ?? 65_536, 'windowBars') || 1,
    onProgress: options.onProgress ?? null,
  };
}

function nonNegativeInteger(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw invalid(`${name} must be a non-negative integer, got ${quote(value)}`);
}

function invalid(message: string): QmtlError {
  return new QmtlError(ErrorCode.InvalidArgument, message);
}
