import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { parseTime, type TimeLike } from '../../common/time.js';
import {
  DEFAULT_HISTORY_MAX_RETRIES,
  DEFAULT_HISTORY_TIMEOUT_MS,
  validateTimeout,
} from '../history/backfill-engine.js';
import { checkBusDsn } from '../../transport/bus-dsn.js';
import type { TopicBus } from '../../transport/topic-bus.js';
import type { Broker } from '../execution/broker.js';
import type { PaperBrokerOptions } from '../execution/paper-broker.js';
import type { StreamInput } from '../stream-input.js';
import type { KeepOutputs } from './execution-graph.js';
import type { ReplayProgress } from './replay.js';
import { OnMissing } from './tick-engine.js';

/** How a run executes (SPEC §1). */
export const RunMode = { Backtest: 'backtest', Offline: 'offline', DryRun: 'dryrun', Live: 'live' } as const;
/** One of {@link RunMode}. */
export type RunMode = (typeof RunMode)[keyof typeof RunMode];

/** Options of a run (`Runner.backtest`, `offline`, `dryrun`, `live`, `run`). */
export interface RunOptions {
  /**
   * Backtest/offline: first bucket replayed (epoch seconds, ISO-8601 or Date; required for a
   * backtest). Dry-run/live: first live bucket (default now); history before it warms up.
   */
  readonly startTime?: TimeLike;
  /** Backtest/offline: last bucket replayed, inclusive. Dry-run/live: the run ends after this bucket (default: when stopped). */
  readonly endTime?: TimeLike;
  /** `skip` (default) drops a trigger whose upstream has a missing bucket; `fail` stops the run. */
  readonly onMissing?: OnMissing;
  /** Which nodes keep the series they emit (default: the leaves of each strategy). */
  readonly keepOutputs?: KeepOutputs;
  /**
   * How many of each kept series' newest outputs are kept at least (older ones are dropped).
   * Default: all of them in a replay; 100,000 in a dry-run or live run, whose memory must not grow
   * with its duration.
   */
  readonly outputLimit?: number;
  /**
   * Gateway URL (SPEC §3.5): the strategies are submitted and, in dry-run and live, nodes another
   * process produces are consumed from their topics instead of computed. Absent: everything runs here.
   */
  readonly gatewayUrl?: string;
  /** Bearer token for the Gateway. */
  readonly token?: string;
  /** The topic bus of a dry-run or live run with a Gateway (or give `busDsn`). */
  readonly topicBus?: TopicBus;
  /**
   * Opens the topic bus: `redis://host:port`, `kafka://host:port` or `memory`. A DSN of another
   * form is refused with the other options, before anything runs.
   */
  readonly busDsn?: string;
  /**
   * Worker threads for nodes that declare `worker` (a pure compute function exported from a
   * module): their buckets are computed in parallel on a piscina pool; outputs equal a serial
   * run's. Replays only (backtest, offline). Default 0: everything on the main thread.
   */
  readonly workers?: number;
  /**
   * Live runs with order nodes: the venue orders go to (e.g. `new HttpBroker({ url })`). Refused in
   * other modes, whose orders go to a simulated PaperBroker (see `paper`).
   */
  readonly broker?: Broker;
  /** Fees, slippage and starting cash of the simulated broker of backtests and dry-runs. */
  readonly paper?: PaperBrokerOptions;
  /**
   * Live runs: what the account already holds when the run starts, by symbol (signed; e.g. after a
   * restart, `{ BTC: 2 }`). The book of the one order node trading a symbol starts there, so its
   * first target position trades only the difference. Default: every book starts flat.
   */
  readonly positions?: Readonly<Record<string, number>>;
  /** Symbol each price stream carries, for order fills; default a stream's first tag. */
  readonly priceStreams?: ReadonlyMap<StreamInput, string>;
  /** Consumer group of the run's subscriptions. Default: derived from the strategies' node ids (stable across restarts). */
  readonly consumerGroup?: string;
  /** Count CacheView reads in `cache_read_total` (slower; default false). */
  readonly trackReads?: boolean;
  /**
   * Retries, with backoff, of a failing history fetch or fillMissing (in dry-run and live runs a
   * ReplayFeed's fetch too). Default 3.
   */
  readonly maxRetries?: number;
  /**
   * How long one history provider call (`fetch`, `coverage`, `fillMissing`; in dry-run and live
   * runs a ReplayFeed's too) may take, in ms, before the run fails with `QMTL_TIMEOUT` naming the
   * call, the stream and the range (not retried). A PollingFeed's fetch has as long too, else it
   * counts as a failed fetch. Default 300,000 (5 min); `Infinity` waits forever.
   */
  readonly historyTimeoutMs?: number;
  /** Bars of the finest interval fetched per history window (default 65,536). */
  readonly windowBars?: number;
  /** Called once per history window with the progress of the replay. */
  readonly onProgress?: (progress: ReplayProgress) => void;
}

/** {@link RunOptions} checked and normalised. */
export interface ResolvedRunOptions {
  readonly mode: RunMode;
  readonly gatewayUrl: string | null;
  readonly token: string | null;
  readonly topicBus: TopicBus | null;
  readonly busDsn: string | null;
  readonly consumerGroup: string | null;
  readonly workers: number;
  readonly broker: Broker | null;
  readonly paper: PaperBrokerOptions;
  readonly positions: ReadonlyMap<string, number>;
  readonly priceStreams: ReadonlyMap<StreamInput, string> | null;
  readonly start: number | null;
  readonly end: number | null;
  readonly onMissing: OnMissing;
  readonly keepOutputs: KeepOutputs;
  readonly outputLimit: number;
  readonly trackReads: boolean;
  readonly maxRetries: number;
  readonly historyTimeoutMs: number;
  readonly windowBars: number;
  readonly onProgress: ((progress: ReplayProgress) => void) | null;
}

const KEYS = [
  'startTime',
  'endTime',
  'onMissing',
  'keepOutputs',
  'outputLimit',
  'gatewayUrl',
  'token',
  'topicBus',
  'busDsn',
  'consumerGroup',
  'workers',
  'broker',
  'paper',
  'positions',
  'priceStreams',
  'trackReads',
  'maxRetries',
  'historyTimeoutMs',
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
  if (!Object.values(RunMode).includes(mode))
    throw invalid(`mode must be one of ${Object.values(RunMode).join(', ')}, got ${quote(mode)}`);
  const gatewayUrl = optionalText(options.gatewayUrl, 'gatewayUrl');
  if (gatewayUrl !== null && !/^https?:\/\/[^/]/.test(gatewayUrl))
    throw invalid(`gatewayUrl must be an http(s) URL, got ${quote(gatewayUrl)}`);
  if (gatewayUrl !== null && mode === RunMode.Offline)
    throw invalid(
      `an offline run uses no services; drop gatewayUrl ${quote(gatewayUrl)} or use another mode`,
    );
  const topicBus = options.topicBus ?? null;
  if (topicBus !== null && (typeof topicBus !== 'object' || typeof topicBus.publish !== 'function'))
    throw invalid(`topicBus must be a TopicBus (publish, subscribe, lastMessage, …), got ${quote(topicBus)}`);
  const busDsn = optionalText(options.busDsn, 'busDsn');
  if (busDsn !== null) checkBusDsn(busDsn, 'busDsn (--bus-dsn)');
  // Checked here, before the Runner registers the strategies at the Gateway.
  if (
    (mode === RunMode.DryRun || mode === RunMode.Live) &&
    gatewayUrl !== null &&
    topicBus === null &&
    busDsn === null
  )
    throw invalid(
      'a dry-run or live run with a gatewayUrl (--gateway-url) needs the topic bus the other Runners use: give busDsn (--bus-dsn), e.g. "redis://127.0.0.1:6379" or "kafka://127.0.0.1:9092", or topicBus',
    );
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
    gatewayUrl,
    token: optionalText(options.token, 'token'),
    topicBus,
    busDsn,
    consumerGroup: optionalText(options.consumerGroup, 'consumerGroup'),
    workers: nonNegativeInteger(options.workers ?? 0, 'workers'),
    broker: brokerOf(mode, options.broker),
    paper: options.paper ?? {},
    positions: positionsOf(mode, options.positions),
    priceStreams: options.priceStreams ?? null,
    start,
    end,
    onMissing,
    keepOutputs,
    outputLimit: outputLimitOf(mode, options.outputLimit),
    trackReads: optionalBoolean(options.trackReads, 'trackReads'),
    maxRetries: nonNegativeInteger(options.maxRetries ?? DEFAULT_HISTORY_MAX_RETRIES, 'maxRetries'),
    historyTimeoutMs: historyTimeoutOf(options.historyTimeoutMs),
    windowBars: nonNegativeInteger(options.windowBars ?? 65_536, 'windowBars') || 1,
    onProgress: optionalFunction(options.onProgress, 'onProgress'),
  };
}

function historyTimeoutOf(ms: unknown): number {
  if (ms === undefined) return DEFAULT_HISTORY_TIMEOUT_MS;
  validateTimeout(ms, 'historyTimeoutMs');
  return ms as number;
}

function optionalBoolean(value: unknown, name: string): boolean {
  if (value === undefined || typeof value === 'boolean') return value ?? false;
  throw invalid(`${name} must be true or false, got ${quote(value)}`);
}

function optionalFunction<F>(value: F | undefined, name: string): F | null {
  if (value === undefined || typeof value === 'function') return value ?? null;
  throw invalid(`${name} must be a function, got ${quote(value)}`);
}

function outputLimitOf(mode: RunMode, limit: unknown): number {
  if (limit === undefined) return mode === RunMode.DryRun || mode === RunMode.Live ? 100_000 : Infinity;
  if (limit === Infinity || (typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0))
    return limit;
  throw invalid(`outputLimit must be a positive integer or Infinity, got ${quote(limit)}`);
}

function brokerOf(mode: RunMode, broker: Broker | undefined): Broker | null {
  if (broker === undefined) return null;
  if (mode !== RunMode.Live)
    throw invalid(
      `broker (--broker-url) is the venue of a live run; a ${mode} run trades on a simulated PaperBroker, set with paper (--fee-bps, --slippage-bps), so drop broker or use mode live`,
    );
  return broker;
}

function positionsOf(mode: RunMode, positions: unknown): ReadonlyMap<string, number> {
  if (positions === undefined) return new Map();
  if (typeof positions !== 'object' || positions === null || Array.isArray(positions))
    throw invalid(`positions must be an object of symbol → quantity, got ${quote(positions)}`);
  if (mode !== RunMode.Live && Object.keys(positions).length > 0)
    throw invalid(
      `positions are what a live venue already holds; a ${mode} run's simulated broker starts flat, so drop positions ${quote(positions)}`,
    );
  const entries = Object.entries(positions as Record<string, unknown>);
  for (const [symbol, quantity] of entries) {
    if (typeof quantity !== 'number' || !Number.isFinite(quantity))
      throw invalid(`positions.${symbol} must be a finite number, got ${quote(quantity)}`);
  }
  return new Map(entries as [string, number][]);
}

function optionalText(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw invalid(`${name} must be a non-empty string, got ${quote(value)}`);
}

function nonNegativeInteger(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw invalid(`${name} must be a non-negative integer, got ${quote(value)}`);
}

function invalid(message: string): QmtlError {
  return new QmtlError(ErrorCode.InvalidArgument, message);
}
