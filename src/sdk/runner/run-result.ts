import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { Node } from '../node.js';
import type { ExecutionReport } from '../execution/broker.js';
import type { Strategy } from '../strategy.js';
import type { DedupReport, ExecutionGraph } from './execution-graph.js';
import type { HistoryGap } from './history-loader.js';
import type { NodeStats } from './node-stats.js';
import type { OutputSeries } from './output-series.js';
import type { RunMode } from './run-options.js';

/** Wall-clock timings of a run, in milliseconds. */
export interface RunTiming {
  /** Coverage checks and gap filling. */
  readonly historyMs: number;
  /** Fetching windows and computing. */
  readonly replayMs: number;
  readonly totalMs: number;
}

/** Counters of a run, read live by {@link RunResult}. */
export interface RunTotals {
  readonly bars: number;
  readonly ticks: number;
}

/**
 * What a run returns (SPEC §3.5): the strategy instances, the series nodes emitted, per-node
 * stats, and how much sharing saved.
 */
export class RunResult {
  readonly mode: RunMode;
  readonly strategies: readonly Strategy[];
  /** First and last bucket replayed, or null when there was nothing to replay. */
  readonly startTime: number | null;
  readonly endTime: number | null;
  readonly timing: RunTiming;
  /** History ranges providers could not fill. */
  readonly historyGaps: readonly HistoryGap[];
  readonly #graph: ExecutionGraph;
  readonly #totals: RunTotals;
  readonly #execution: () => ExecutionReport | null;

  constructor(fields: {
    mode: RunMode;
    strategies: readonly Strategy[];
    graph: ExecutionGraph;
    startTime: number | null;
    endTime: number | null;
    /** Read on every access: a live run keeps counting. */
    totals: RunTotals;
    timing: RunTiming;
    historyGaps: readonly HistoryGap[];
    /** The orders, fills, positions and PnL of the run's order nodes (null without any). */
    execution?: () => ExecutionReport | null;
  }) {
    this.mode = fields.mode;
    this.strategies = fields.strategies;
    this.#graph = fields.graph;
    this.startTime = fields.startTime;
    this.endTime = fields.endTime;
    this.#totals = fields.totals;
    this.#execution = fields.execution ?? (() => null);
    this.timing = fields.timing;
    this.historyGaps = fields.historyGaps;
  }

  /**
   * Bars fed to the run (history replayed, live bars received): one per input stream and bucket,
   * so rows that correct a bucket (a repeated timestamp) do not count again, as the node cache
   * holds them in one slot. Per-node `outputs` counts every emission instead.
   */
  get bars(): number {
    return this.#totals.bars;
  }

  /**
   * Distinct ticks (bucket timestamps) processed, all input streams together: a bucket counts once
   * however many streams or rows deliver it. In a backtest, the buckets replayed; in a dry-run or
   * live run, the buckets of live data (feed bars and consumed topic messages; the warm-up is not
   * counted), whatever order the streams deliver them in.
   */
  get ticks(): number {
    return this.#totals.ticks;
  }

  /**
   * What the run's order nodes did: orders, fills, positions, cash and PnL (simulated in backtests,
   * paper in dry-runs, the venue's acks in live runs; one format). Null when no node trades.
   */
  get execution(): ExecutionReport | null {
    return this.#execution();
  }

  /** The first strategy instance. */
  get strategy(): Strategy {
    return this.strategies[0]!;
  }

  /** Bars replayed per second of replay time. */
  get barsPerSecond(): number {
    return this.timing.replayMs > 0 ? (this.bars * 1000) / this.timing.replayMs : 0;
  }

  /** The [t, v] series `node` emitted. Kept for leaf nodes by default; see `keepOutputs`. */
  outputs<T = unknown>(node: Node | string): OutputSeries<T> {
    const runtime = this.#runtime(node);
    if (runtime.outputs === null) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `outputs of node ${quote(runtime.node.name)} were not kept: only leaf nodes keep their outputs by default; pass keepOutputs: 'all' or a list that includes it`,
      );
    }
    return runtime.outputs as OutputSeries<T>;
  }

  /** The counters of one node. */
  stats(node: Node | string): NodeStats {
    return this.#runtime(node).stats();
  }

  /** The counters of every node computed, in topological order. */
  get nodeStats(): NodeStats[] {
    return this.#graph.order.map((runtime) => runtime.stats());
  }

  /** How many nodes and compute calls sharing saved. */
  get dedup(): DedupReport {
    return this.#graph.dedupReport();
  }

  /** Bytes held by all node caches at the end of the run. */
  get cacheResidentBytes(): number {
    return this.#graph.order.reduce((sum, runtime) => sum + runtime.cache.residentBytes, 0);
  }

  /** A finished replay has nothing left to stop; present for symmetry with live runs. */
  stop(): Promise<void> {
    return Promise.resolve();
  }

  #runtime(node: Node | string) {
    const runtime = this.#graph.runtimeOf(node);
    if (!runtime) {
      const id = typeof node === 'string' ? node : node.nodeId;
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `node ${quote(typeof node === 'string' ? id : node.name)} (${quote(id)}) is not part of this run`,
      );
    }
    return runtime;
  }
}
