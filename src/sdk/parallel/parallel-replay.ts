import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { HistoryRow } from '../history/protocols.js';
import type { ExecutionGraph } from '../runner/execution-graph.js';
import type { HistorySource } from '../runner/history-loader.js';
import type { NodeRuntime } from '../runner/node-runtime.js';
import {
  BucketMerge,
  historyWindows,
  replay,
  type ReplayOptions,
  type ReplayTotals,
} from '../runner/replay.js';
import { TickEngine, type OnMissing } from '../runner/tick-engine.js';
import { checkThreads, createComputePool, type ComputePool } from './compute-pool.js';
import { StagePipeline } from './stage-pipeline.js';
import { splitStages } from './stage-plan.js';
import { checkWorkerModules } from './worker-modules.js';

/** Options of {@link replayParallel}. */
export interface ParallelReplayOptions extends ReplayOptions {
  readonly pool: ComputePool;
  readonly onMissing: OnMissing;
  /** Successive buckets of a node sent to a thread as one task (default 8): shares the cost of a round trip. */
  readonly bucketsPerTask?: number;
  /** Buckets submitted to the pool and not yet applied, at most (default 4 × threads × bucketsPerTask). */
  readonly maxInFlight?: number;
}

/**
 * {@link replay} with the buckets of pure nodes that declare a `worker` computed on a pool of
 * worker threads (SPEC §3.5, `--workers N`). Successive buckets of one such node compute
 * concurrently, since a pure compute depends only on its view; the rest of the graph runs as in
 * a serial replay, so outputs, warm-up, gaps, skips, every counter and every `onEmit` call are
 * the serial run's. A graph without such nodes replays serially.
 *
 * Before replaying, each worker module is imported and its export checked to be the node's
 * `computeFn`. Outputs of offloaded nodes cross threads by structured clone (plain data: class
 * instances arrive as plain objects). A replay that fails throws the error the serial replay
 * would; the nodes' state after a failure is not the serial one (stage 1 runs ahead). Reads by
 * offloaded computes are not counted in `cache_read_total`.
 *
 * @example
 * const pool = await createComputePool(2);
 * try {
 *   const totals = await replayParallel(graph, sources, start, end, { pool, onMissing: 'skip' });
 * } finally {
 *   await pool.close();
 * }
 */
export async function replayParallel(
  graph: ExecutionGraph,
  sources: readonly HistorySource[],
  start: number,
  end: number,
  options: ParallelReplayOptions,
): Promise<ReplayTotals> {
  const { offloaded } = splitStages(graph.order);
  if (offloaded.length === 0)
    return replay(new TickEngine(graph.order, options.onMissing), sources, start, end, options);
  await checkWorkerModules(offloaded);
  if (sources.length === 0 || start > end) return { bars: 0, ticks: 0 };
  const bucketsPerTask = positiveInteger(options.bucketsPerTask ?? 8, 'bucketsPerTask');
  const pipeline = new StagePipeline(graph.order, {
    pool: options.pool,
    onMissing: options.onMissing,
    bucketsPerTask,
    maxInFlight: positiveInteger(
      options.maxInFlight ?? 4 * options.pool.threads * bucketsPerTask,
      'maxInFlight',
    ),
    onProgress: options.onProgress,
  });
  let bars = 0;
  let ticks = 0;
  for await (const { windows, progress } of historyWindows(sources, start, end, options.windowBars)) {
    const totals = await replayWindow(pipeline, sources, windows);
    bars += totals.bars;
    ticks += totals.ticks;
    pipeline.progress({ bars, ...progress });
  }
  await pipeline.finish();
  return { bars, ticks };
}

/**
 * {@link replayParallel} on a pool of `workers` threads started for this replay and stopped after
 * it; no pool is started when no node declares a `worker` (the replay is serial).
 *
 * @example
 * const totals = await replayWithWorkers(graph, sources, start, end, { workers: 2, onMissing: 'skip' });
 */
export async function replayWithWorkers(
  graph: ExecutionGraph,
  sources: readonly HistorySource[],
  start: number,
  end: number,
  options: Omit<ParallelReplayOptions, 'pool'> & { readonly workers: number },
): Promise<ReplayTotals> {
  checkThreads(options.workers);
  if (splitStages(graph.order).offloaded.length === 0)
    return replay(new TickEngine(graph.order, options.onMissing), sources, start, end, options);
  const pool = await createComputePool(options.workers);
  try {
    return await replayParallel(graph, sources, start, end, { ...options, pool });
  } finally {
    await pool.close();
  }
}

/** One history window through the pipeline: rows of all sources merged by bucket, as `replay` does. */
async function replayWindow(
  pipeline: StagePipeline,
  sources: readonly HistorySource[],
  windows: readonly (readonly HistoryRow[])[],
): Promise<ReplayTotals> {
  const merge = new BucketMerge(sources, windows);
  const emit = (runtime: NodeRuntime, bucket: number, row: HistoryRow): void =>
    pipeline.emit(runtime, bucket, row);
  let ticks = 0;
  for (let tick = merge.next(emit); tick !== Infinity; tick = merge.next(emit)) {
    ticks++;
    const wait = pipeline.tick(tick);
    if (wait !== null) await wait;
  }
  return { bars: merge.bars, ticks };
}

function positiveInteger(value: number, name: string): number {
  if (Number.isInteger(value) && value > 0) return value;
  throw new QmtlError(ErrorCode.InvalidArgument, `${name} must be a positive integer, got ${quote(value)}`);
}
