import { DEFAULT_HISTORY_TIMEOUT_MS } from '../history/backfill-engine.js';
import { QmtlError } from '../../common/errors.js';
import { ExecutionGraph, type DedupReport, type KeepOutputs } from '../runner/execution-graph.js';
import { historySources, type HistorySource } from '../runner/history-loader.js';
import type { NodeRuntime } from '../runner/node-runtime.js';
import type { NodeStats } from '../runner/node-stats.js';
import { replay, type ReplayProgress, type ReplayTotals } from '../runner/replay.js';
import { OnMissing, TickEngine } from '../runner/tick-engine.js';
import type { Strategy } from '../strategy.js';
import type { ComputePool } from './compute-pool.js';
import { replayParallel, replayWithWorkers } from './parallel-replay.js';

/** The range and options of a replay under test. */
export interface ReplayCase {
  readonly start: number;
  readonly end: number;
  readonly onMissing?: OnMissing;
  readonly windowBars?: number;
  readonly keepOutputs?: KeepOutputs;
  readonly maxInFlight?: number;
  readonly bucketsPerTask?: number;
}

/** Everything a replay leaves behind; a serial and a parallel replay must agree on all of it. */
export interface ReplayOutcome {
  readonly totals: ReplayTotals | null;
  /** `code: message` of the error the replay failed with, or null. */
  readonly error: string | null;
  readonly stats: NodeStats[];
  /** Kept series by `name id-prefix`. */
  readonly outputs: Record<string, [number, unknown][]>;
  /** What each node handed to `onEmit` (what a live run publishes), by `name id-prefix`. */
  readonly published: Record<string, [number, unknown][]>;
  readonly residentBytes: number[];
  readonly progress: ReplayProgress[];
  readonly dedup: DedupReport;
}

/**
 * Builds an execution graph from `strategies` (as the Runner does) and replays `replayCase`
 * through it: serially through a TickEngine when `workers` is null, with {@link replayParallel}
 * on a given pool, or with {@link replayWithWorkers} given a thread count.
 */
export async function replayOutcome(
  strategies: readonly Strategy[],
  replayCase: ReplayCase,
  workers: ComputePool | number | null,
): Promise<ReplayOutcome> {
  const graph = new ExecutionGraph(
    strategies.map((strategy) => strategy.prepare()),
    replayCase.keepOutputs ?? 'all',
  );
  const sources = historySources(graph.sources, { maxRetries: 0, timeoutMs: DEFAULT_HISTORY_TIMEOUT_MS });
  const published: Record<string, [number, unknown][]> = {};
  for (const runtime of graph.order) {
    const series: [number, unknown][] = (published[label(runtime)] = []);
    runtime.onEmit = (bucket, value) => series.push([bucket, value]);
  }
  const progress: ReplayProgress[] = [];
  let totals: ReplayTotals | null = null;
  let error: string | null = null;
  try {
    totals = await runReplay(graph, sources, replayCase, workers, (p) => progress.push(p));
  } catch (caught) {
    error = caught instanceof QmtlError ? `${caught.code}: ${caught.message}` : String(caught);
  }
  const kept = graph.order.filter((runtime) => runtime.outputs !== null);
  return {
    totals,
    error,
    stats: graph.order.map((runtime) => runtime.stats()),
    outputs: Object.fromEntries(kept.map((runtime) => [label(runtime), runtime.outputs!.toArray()])),
    published,
    residentBytes: graph.order.map((runtime) => runtime.cache.residentBytes),
    progress,
    dedup: graph.dedupReport(),
  };
}

function runReplay(
  graph: ExecutionGraph,
  sources: readonly HistorySource[],
  replayCase: ReplayCase,
  workers: ComputePool | number | null,
  onProgress: (progress: ReplayProgress) => void,
): Promise<ReplayTotals> {
  const { start, end } = replayCase;
  const onMissing = replayCase.onMissing ?? OnMissing.Skip;
  const options = {
    ...(replayCase.windowBars !== undefined && { windowBars: replayCase.windowBars }),
    onProgress,
  };
  if (workers === null) return replay(new TickEngine(graph.order, onMissing), sources, start, end, options);
  const parallel = {
    ...options,
    onMissing,
    ...(replayCase.maxInFlight !== undefined && { maxInFlight: replayCase.maxInFlight }),
    ...(replayCase.bucketsPerTask !== undefined && { bucketsPerTask: replayCase.bucketsPerTask }),
  };
  return typeof workers === 'number'
    ? replayWithWorkers(graph, sources, start, end, { ...parallel, workers })
    : replayParallel(graph, sources, start, end, { ...parallel, pool: workers });
}

function label(runtime: NodeRuntime): string {
  return `${runtime.node.name} ${runtime.id.slice(0, 8)}`;
}

/** A pool that counts the buckets sent to `pool`. */
export function countingPool(pool: ComputePool): ComputePool & { readonly buckets: number } {
  let buckets = 0;
  return {
    threads: pool.threads,
    get buckets() {
      return buckets;
    },
    run: (batch) => {
      buckets += batch.buckets.length;
      return pool.run(batch);
    },
    close: () => pool.close(),
  };
}
