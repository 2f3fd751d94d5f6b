import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { formatTime } from '../../common/time.js';
import { sdkMetrics } from '../metrics.js';
import { Strategy } from '../strategy.js';
import { TagQueryNode } from '../tag-query-node.js';
import { ExecutionGraph } from './execution-graph.js';
import { coveredSpan, ensureHistory, historySources, type HistorySource } from './history-loader.js';
import { replay, type ReplayProgress } from './replay.js';
import type { NodeRuntime } from './node-runtime.js';
import { RunResult } from './run-result.js';
import { resolveRunOptions, RunMode, type ResolvedRunOptions, type RunOptions } from './run-options.js';
import { TickEngine } from './tick-engine.js';
import { orderRouting } from './order-routing.js';
import { replayWithWorkers } from '../parallel/parallel-replay.js';
import { GatewayLink } from '../live/gateway-link.js';
import { startLiveRun, type LiveRun } from '../live/live-run.js';

/** A strategy class (constructed with no arguments) or an instance. */
export type StrategyInput = Strategy | (new () => Strategy);

/**
 * Runs strategies (SPEC §3.5). Several strategies in one call share every node with the same
 * NodeID: it is computed once and its outputs fan out to each consumer.
 *
 * @example
 * const result = await Runner.backtest(MyStrategy, { startTime: '2024-01-01T00:00:00Z', endTime: '2024-02-01T00:00:00Z' });
 * console.log(result.outputs(result.strategy.nodes.at(-1)!).toArray());
 */
export class Runner {
  /** Replays `[startTime, endTime]` of every stream's history through the strategies. */
  static backtest(
    strategies: StrategyInput | readonly StrategyInput[],
    options: RunOptions,
  ): Promise<RunResult> {
    return Runner.run(strategies, { ...options, mode: RunMode.Backtest });
  }

  /** Runs locally, no services: replays `[startTime, endTime]`, or everything the providers hold. */
  static offline(
    strategies: StrategyInput | readonly StrategyInput[],
    options: RunOptions = {},
  ): Promise<RunResult> {
    return Runner.run(strategies, { ...options, mode: RunMode.Offline });
  }

  /**
   * Dry-run (paper trading): warms up from history, then runs on the streams' live feeds until
   * `endTime` or `stop()`. With a `gatewayUrl`, nodes another process produces are consumed from
   * their topics and the nodes computed here are published. Resolves once live.
   */
  static dryrun(
    strategies: StrategyInput | readonly StrategyInput[],
    options: RunOptions = {},
  ): Promise<LiveRun> {
    return Runner.run(strategies, { ...options, mode: RunMode.DryRun }) as Promise<LiveRun>;
  }

  /** Live trading: as {@link dryrun}, with `run_type: live` at the Gateway. Resolves once live. */
  static live(
    strategies: StrategyInput | readonly StrategyInput[],
    options: RunOptions = {},
  ): Promise<LiveRun> {
    return Runner.run(strategies, { ...options, mode: RunMode.Live }) as Promise<LiveRun>;
  }

  /** Runs several strategies in one process in the given mode (default `backtest`). */
  static async run(
    strategies: StrategyInput | readonly StrategyInput[],
    options: RunOptions & { readonly mode?: RunMode },
  ): Promise<RunResult> {
    const { mode = RunMode.Backtest, ...rest } = options ?? {};
    const resolved = resolveRunOptions(mode, rest);
    const instances = (Array.isArray(strategies) ? strategies : [strategies]).map(instantiate);
    if (instances.length === 0)
      throw new QmtlError(ErrorCode.InvalidArgument, 'Runner.run needs at least one strategy');
    const graph = new ExecutionGraph(
      instances,
      resolved.keepOutputs,
      resolved.trackReads ? trackRead : undefined,
      resolved.outputLimit,
    );
    if (resolved.mode === RunMode.DryRun || resolved.mode === RunMode.Live)
      return startLiveRun(instances, graph, resolved);
    if (resolved.gatewayUrl === null) return replayRun(instances, graph, resolved);
    // A backtest with a Gateway registers its DAGs, computes everything here, then stops them.
    const link = await GatewayLink.open(instances, {
      gatewayUrl: resolved.gatewayUrl,
      runType: 'backtest',
      ...(resolved.token !== null && { token: resolved.token }),
    });
    try {
      return await replayRun(instances, graph, resolved);
    } finally {
      await link.close();
    }
  }
}

async function replayRun(
  strategies: Strategy[],
  graph: ExecutionGraph,
  options: ResolvedRunOptions,
): Promise<RunResult> {
  const started = performance.now();
  warnOfIdleTagQueries(graph);
  // Before the history loads: an order node that cannot trade fails the run at once.
  const routing = orderRouting(graph, options);
  const sources = historySources(graph.sources, {
    maxRetries: options.maxRetries,
    timeoutMs: options.historyTimeoutMs,
  });
  const span = await resolveSpan(sources, options);
  logger.info(
    {
      mode: options.mode,
      strategies: strategies.map((s) => s.name),
      start: span && formatTime(span[0]),
      end: span && formatTime(span[1]),
      on_missing: options.onMissing,
    },
    `[${options.mode.toUpperCase()}] ${strategies.map((s) => s.name).join(', ')}`,
  );
  const historyGaps = span ? await ensureHistory(sources, span[0], span[1]) : [];
  const replayStarted = performance.now();
  const engine = new TickEngine(graph.order, options.onMissing);
  routing?.attach();
  const publishMetrics = nodeMetricsPublisher(graph.order);
  const replayOptions = {
    windowBars: options.windowBars,
    // Node metrics follow the replay window by window, so /metrics shows a long run's progress.
    onProgress: (progress: ReplayProgress) => {
      publishMetrics();
      options.onProgress?.(progress);
    },
  };
  const totals =
    span === null
      ? { bars: 0, ticks: 0 }
      : options.workers > 0
        ? await replayWithWorkers(graph, sources, span[0], span[1], {
            ...replayOptions,
            workers: options.workers,
            onMissing: options.onMissing,
          })
        : await replay(engine, sources, span[0], span[1], replayOptions);
  await routing?.close();
  const finished = performance.now();
  publishMetrics();
  return new RunResult({
    mode: options.mode,
    strategies,
    graph,
    startTime: span?.[0] ?? null,
    endTime: span?.[1] ?? null,
    totals,
    timing: {
      historyMs: replayStarted - started,
      replayMs: finished - replayStarted,
      totalMs: finished - started,
    },
    historyGaps,
    ...(routing && { execution: () => routing.report() }),
  });
}

/** Backtests replay exactly `[start, end]`; offline runs fill whatever bound is missing from the providers' coverage. */
async function resolveSpan(
  sources: readonly HistorySource[],
  options: ResolvedRunOptions,
): Promise<readonly [number, number] | null> {
  if (options.start !== null && options.end !== null) return [options.start, options.end];
  const covered = await coveredSpan(sources);
  if (covered === null) {
    logger.warn('no history provider holds any data; nothing to replay');
    return null;
  }
  const start = options.start ?? covered[0];
  const end = options.end ?? covered[1];
  if (start <= end) return [start, end];
  logger.warn(
    { start: formatTime(start), end: formatTime(end), held: covered.map(formatTime) },
    "the providers hold no data in the asked span (it ends before it starts once open ends take the data's bounds); nothing to replay",
  );
  return null;
}

function instantiate(input: StrategyInput, index: number): Strategy {
  let strategy: unknown = input;
  if (typeof input === 'function') {
    if (!(input.prototype instanceof Strategy)) {
      throw new QmtlError(
        ErrorCode.InvalidStrategy,
        `strategy ${index} (${quote(input)}) is not a subclass of Strategy`,
      );
    }
    strategy = new input();
  }
  if (!(strategy instanceof Strategy)) {
    throw new QmtlError(
      ErrorCode.InvalidStrategy,
      `strategy ${index} must be a Strategy subclass or instance, got ${quote(input)}`,
    );
  }
  return strategy.prepare();
}

function trackRead(upstreamId: string, interval: number): void {
  const labels = { upstream_id: upstreamId, interval: String(interval) };
  sdkMetrics.cacheReadTotal.inc(labels);
  sdkMetrics.cacheLastReadTimestamp.set(labels, Date.now() / 1000);
}

/**
 * A replay has no queues for tag queries to resolve to (they name live topics, SPEC §3.6), so a
 * TagQueryNode never computes in it: say so once per node, since its results are silently absent.
 */
function warnOfIdleTagQueries(graph: ExecutionGraph): void {
  for (const runtime of graph.order) {
    if (!(runtime.node instanceof TagQueryNode)) continue;
    logger.warn(
      { node_id: runtime.id, name: runtime.node.name, query_tags: runtime.node.queryTags },
      'TagQueryNode has no queues in a backtest or offline run (tag queries resolve to live queues through a Gateway), so it never computes here; to backtest its logic, give a ProcessingNode the matching streams as inputs',
    );
  }
}

/**
 * Returns a function that adds each node's compute calls and skips since its last call to the
 * SDK metrics and sets its resident bytes.
 */
function nodeMetricsPublisher(order: readonly NodeRuntime[]): () => void {
  const computed = new Float64Array(order.length);
  const skipped = new Float64Array(order.length);
  return () => {
    order.forEach((runtime, i) => {
      const labels = { node_id: runtime.id };
      sdkMetrics.nodecacheResidentBytes.set(labels, runtime.cache.residentBytes);
      if (runtime.computeCalls > computed[i]!)
        sdkMetrics.nodeComputeTotal.inc(labels, runtime.computeCalls - computed[i]!);
      if (runtime.skips > skipped[i]!) sdkMetrics.nodeSkipTotal.inc(labels, runtime.skips - skipped[i]!);
      computed[i] = runtime.computeCalls;
      skipped[i] = runtime.skips;
    });
  };
}
