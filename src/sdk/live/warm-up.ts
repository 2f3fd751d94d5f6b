import { logger } from '../../common/logger.js';
import { formatTime } from '../../common/time.js';
import { listenToEmits } from '../runner/emit-listeners.js';
import type { ExecutionGraph } from '../runner/execution-graph.js';
import { ensureHistory, historySources, type HistoryCallOptions } from '../runner/history-loader.js';
import type { Edge, NodeRuntime } from '../runner/node-runtime.js';
import { replay } from '../runner/replay.js';
import type { TickEngine } from '../runner/tick-engine.js';
import { StreamInput } from '../stream-input.js';

/**
 * Replays the last bars up to `end` of `streams` from their history providers through the engine:
 * as many as the longest chain of periods in the graph needs (SPEC §3.5, dry-run and live).
 */
export async function warmUp(
  engine: TickEngine,
  graph: ExecutionGraph,
  streams: readonly NodeRuntime[],
  end: number,
  history: HistoryCallOptions,
): Promise<void> {
  const sources = historySources(streams, history);
  if (sources.length === 0) return;
  const longest = Math.max(...sources.map((s) => s.key.interval));
  const start = end + 1 - warmupBars(graph.order) * longest;
  await ensureHistory(sources, start, end);
  const totals = await replay(engine, sources, start, end);
  logger.info(
    { bars: totals.bars, start: formatTime(start), end: formatTime(end) },
    'warmed up from history',
  );
}

/**
 * Warms up nodes a process takes over without disturbing the nodes that already run there. A
 * promoted computed node does not emit what its readers have (its `emitAfter`); a promoted
 * stream's replayed rows go only to promoted nodes: its edges to the others are held during the
 * replay, and the rows those have not seen are delivered to them afterwards, in bucket order.
 */
export async function warmUpPromoted(
  engine: TickEngine,
  graph: ExecutionGraph,
  promoted: ReadonlySet<NodeRuntime>,
  streams: readonly NodeRuntime[],
  end: number,
  history: HistoryCallOptions,
): Promise<void> {
  const held: { parent: NodeRuntime; edge: Edge; missed: [number, unknown][] }[] = [];
  const restore: (() => void)[] = [];
  for (const parent of streams) {
    for (let e = parent.children.length - 1; e >= 0; e--) {
      const edge = parent.children[e]!;
      if (promoted.has(edge.target)) continue;
      parent.children.splice(e, 1);
      const entry = { parent, edge, missed: [] as [number, unknown][] };
      held.push(entry);
      const seen = edge.ring.lastBucket;
      restore.push(
        listenToEmits(parent, (bucket, value) => {
          if (!(bucket <= seen)) entry.missed.push([bucket, value]);
        }),
      );
    }
  }
  try {
    await warmUp(engine, graph, streams, end, history);
  } finally {
    for (const undo of restore.reverse()) undo();
    for (const { parent, edge } of held) parent.children.push(edge);
  }
  const missed = held.flatMap(({ parent, edge, missed }) =>
    missed.map(([bucket, value]) => ({ parent, edge, bucket, value })),
  );
  missed.sort((a, b) => a.bucket - b.bucket);
  for (let i = 0; i < missed.length;) {
    const bucket = missed[i]!.bucket;
    for (; i < missed.length && missed[i]!.bucket === bucket; i++) {
      const { parent, edge, value } = missed[i]!;
      engine.deliver(parent.id, edge, bucket, value);
    }
    engine.runTick(bucket);
  }
}

/**
 * Bars of history a live run replays before its first live bucket so that every node is warm: the
 * largest sum of periods along any path from a stream to a node (a chain EMA(20) → SMA(10) needs 29),
 * and at least each stream's own `period` (SPEC §3.5: "the last `period` bars"). A stream emits
 * each row as it comes, its first output on its first bar: its period is a floor on the window,
 * not a delay its readers add theirs to (a stream of period 20 read by an SMA(5) replays 20, not 24).
 */
function warmupBars(order: readonly NodeRuntime[]): number {
  const need = new Map<string, number>();
  let most = 1;
  for (const runtime of order) {
    const isStream = runtime.node instanceof StreamInput;
    let upstream = 0;
    for (const input of runtime.node.inputs) upstream = Math.max(upstream, need.get(input.nodeId) ?? 0);
    const own = isStream ? 1 : runtime.period;
    const bars = upstream === 0 ? own : upstream + runtime.period - 1;
    need.set(runtime.id, bars);
    most = Math.max(most, bars, isStream ? runtime.period : 1);
  }
  return most;
}
