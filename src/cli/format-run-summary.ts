import { quote } from '../common/errors.js';
import { formatTime } from '../common/time.js';
import type { DedupReport } from '../sdk/runner/execution-graph.js';
import type { HistoryGap } from '../sdk/runner/history-loader.js';
import type { NodeStats } from '../sdk/runner/node-stats.js';
import type { ReplayProgress } from '../sdk/runner/replay.js';
import type { RunResult, RunTiming } from '../sdk/runner/run-result.js';
import { LiveRun } from '../sdk/live/live-run.js';
import type { ExecutionReport } from '../sdk/execution/broker.js';

/** The series a leaf node emitted: how long it is and its newest entry. */
export interface LeafOutput {
  readonly nodeId: string;
  readonly name: string;
  readonly nodeType: string;
  readonly length: number;
  /** The newest `[t, v]`, or null when the node emitted nothing. */
  readonly last: readonly [time: number, value: unknown] | null;
}

/** What `qmtl run` reports about a finished run, as plain data. */
export interface RunSummary {
  readonly strategies: readonly string[];
  readonly mode: string;
  /** First and last bucket replayed (epoch seconds), or null when nothing was replayed. */
  readonly startTime: number | null;
  readonly endTime: number | null;
  readonly bars: number;
  readonly ticks: number;
  readonly barsPerSecond: number;
  readonly timing: RunTiming;
  readonly nodeStats: readonly NodeStats[];
  readonly dedup: DedupReport;
  readonly historyGaps: readonly HistoryGap[];
  /** One entry per leaf node (whose outputs a run keeps by default), in topological order. */
  readonly outputs: readonly LeafOutput[];
  /** A dry-run or live run with a Gateway: the topic of each node it published and of each it consumed. */
  readonly topics?: {
    readonly produced: Readonly<Record<string, string>>;
    readonly consumed: Readonly<Record<string, string>>;
  };
  /** What the run's order nodes did (orders, fills, positions, PnL), when it has any. */
  readonly execution?: ExecutionReport;
  /** A dry-run or live run with a Gateway: messages published and consumed. */
  readonly published?: number;
  readonly received?: number;
  /** A dry-run or live run with a Gateway: outputs the topic bus did not take before the run stopped. */
  readonly unpublished?: number;
}

/** Collects the summary of a run; its leaves are the nodes no other node of the same strategy consumes. */
export function summarizeRun(result: RunResult): RunSummary {
  const leafIds = new Set<string>();
  for (const strategy of result.strategies) {
    const consumed = new Set(strategy.nodes.flatMap((node) => node.inputs.map((input) => input.nodeId)));
    for (const node of strategy.nodes) if (!consumed.has(node.nodeId)) leafIds.add(node.nodeId);
  }
  const nodeStats = result.nodeStats;
  const outputs = nodeStats
    .filter((stats) => leafIds.has(stats.nodeId))
    .map((stats): LeafOutput => {
      const series = result.outputs(stats.nodeId);
      return {
        nodeId: stats.nodeId,
        name: stats.name,
        nodeType: stats.nodeType,
        length: series.length,
        last: series.at(-1) ?? null,
      };
    });
  return {
    strategies: result.strategies.map((strategy) => strategy.name),
    mode: result.mode,
    startTime: result.startTime,
    endTime: result.endTime,
    bars: result.bars,
    ticks: result.ticks,
    barsPerSecond: result.barsPerSecond,
    timing: result.timing,
    nodeStats,
    dedup: result.dedup,
    historyGaps: result.historyGaps,
    outputs,
    ...(result.execution !== null && { execution: result.execution }),
    ...(result instanceof LiveRun &&
      result.strategyIds.length > 0 && {
        topics: {
          produced: Object.fromEntries(result.roles.produced),
          consumed: Object.fromEntries(result.roles.consumed),
        },
        published: result.published,
        received: result.received,
        unpublished: result.unpublished,
      }),
  };
}

const counts = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function isLive(summary: RunSummary): boolean {
  return summary.mode === 'dryrun' || summary.mode === 'live';
}

/** The buckets a run covered; a dry-run or live run without an end time ran until stopped or until its feeds ended. */
function formatRange(summary: RunSummary): string {
  const { startTime, endTime } = summary;
  if (startTime === null) return 'nothing to replay';
  if (endTime !== null) return `${formatTime(startTime)} .. ${formatTime(endTime)}`;
  return isLive(summary) ? `${formatTime(startTime)} .. (no end time)` : 'nothing to replay';
}

/**
 * The text report of `qmtl run`: strategies, mode, range, throughput, a table of node counters and
 * the newest value of every leaf series. Ends with a newline.
 */
export function formatRunSummary(summary: RunSummary): string {
  const lines = [
    `Strategy: ${summary.strategies.join(', ')}`,
    `Mode:     ${summary.mode}`,
    `Range:    ${formatRange(summary)}`,
    isLive(summary)
      ? `Bars:     ${counts.format(summary.bars)} live (${counts.format(summary.ticks)} ticks; ${counts.format(summary.received ?? 0)} consumed from topics)`
      : `Bars:     ${counts.format(summary.bars)} (${counts.format(summary.ticks)} ticks, ${counts.format(summary.barsPerSecond)} bars/s; replay ${formatMs(summary.timing.replayMs)}, total ${formatMs(summary.timing.totalMs)})`,
  ];
  const { dedup } = summary;
  if (dedup.nodesInDags > dedup.nodesComputed) {
    lines.push(
      `Sharing:  ${dedup.nodesInDags} nodes in ${dedup.strategies} DAG(s), ${dedup.nodesComputed} computed; ${counts.format(dedup.computeCallsSaved)} compute calls saved`,
    );
  }
  for (const gap of summary.historyGaps) {
    lines.push(
      `History gap: ${gap.name} (${gap.nodeId.slice(0, 8)}) ${gap.ranges.map(([from, to]) => `${formatTime(from)} .. ${formatTime(to)}`).join(', ')}`,
    );
  }
  lines.push('', ...formatNodeTable(summary.nodeStats));
  if (summary.topics !== undefined) {
    const produced = Object.keys(summary.topics.produced).length;
    const consumed = Object.keys(summary.topics.consumed).length;
    const unpublished = summary.unpublished ?? 0;
    const lost =
      unpublished > 0 ? `; ${counts.format(unpublished)} not published, the topic bus did not take them` : '';
    lines.push(
      `Topics:   ${produced} node(s) published (${counts.format(summary.published ?? 0)} messages${lost}), ${consumed} consumed (${counts.format(summary.received ?? 0)} messages)`,
    );
  }
  if (summary.execution !== undefined) lines.push(formatExecution(summary.execution));
  if (summary.outputs.length > 0) lines.push('', 'Outputs:', ...formatOutputs(summary.outputs));
  return `${lines.join('\n')}\n`;
}

/** One line on the run's trading: orders, fills, fees, PnL and equity. */
function formatExecution(report: ExecutionReport): string {
  const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `Orders:   ${report.orders.length} orders, ${report.fills.length} fills, fees ${money.format(report.fees)}; PnL realized ${money.format(report.realizedPnl)}, unrealized ${money.format(report.unrealizedPnl)}; equity ${money.format(report.equity)}`;
}

/** The node-stats table: one row per node, counters right-aligned. */
export function formatNodeTable(nodeStats: readonly NodeStats[]): string[] {
  const header = ['node', 'type', 'id', 'computes', 'emitted', 'warm-up', 'skips', 'gaps'];
  const rows = nodeStats.map((s) => [
    s.name,
    s.nodeType,
    s.nodeId.slice(0, 8),
    ...[s.computeCalls, s.outputs, s.warmupBars, s.skips, s.gaps].map(String),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const textColumns = 3;
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column < textColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [render(header), ...rows.map(render)];
}

function formatOutputs(outputs: readonly LeafOutput[]): string[] {
  const width = Math.max(...outputs.map((output) => output.name.length));
  return outputs.map((output) => {
    const last =
      output.last === null
        ? 'no values'
        : `last ${formatValue(output.last[1])} at ${formatTime(output.last[0])}`;
    return `  ${output.name.padEnd(width)}  ${output.nodeId.slice(0, 8)}  ${counts.format(output.length)} values, ${last}`;
  });
}

/** A value for a one-line report: numbers to 8 significant digits, anything else quoted and cut short. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number')
    return Number.isInteger(value) || !Number.isFinite(value)
      ? String(value)
      : String(Number(value.toPrecision(8)));
  return quote(value);
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${counts.format(ms)} ms`;
}

/** The `--json` report of `qmtl run`: one JSON object, times as ISO-8601 strings. */
export function runSummaryJson(summary: RunSummary): string {
  const iso = (time: number | null) => (time === null ? null : formatTime(time));
  const report = {
    strategies: summary.strategies,
    mode: summary.mode,
    start: iso(summary.startTime),
    end: iso(summary.endTime),
    bars: summary.bars,
    ticks: summary.ticks,
    barsPerSecond: summary.barsPerSecond,
    timing: summary.timing,
    nodeStats: summary.nodeStats,
    dedup: summary.dedup,
    historyGaps: summary.historyGaps.map((gap) => ({
      ...gap,
      ranges: gap.ranges.map(([from, to]) => ({ start: iso(from), end: iso(to) })),
    })),
    outputs: summary.outputs.map((output) => ({
      ...output,
      last: output.last === null ? null : { time: iso(output.last[0]), value: output.last[1] },
    })),
    ...(summary.execution !== undefined && { execution: summary.execution }),
    ...(summary.topics !== undefined && {
      topics: summary.topics,
      published: summary.published,
      received: summary.received,
      unpublished: summary.unpublished,
    }),
  };
  // Node outputs may hold bigints, which JSON cannot represent.
  return JSON.stringify(report, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

/** The one-line progress of a replay, redrawn in place on a terminal. */
export function formatProgress(progress: ReplayProgress): string {
  return `replaying: ${(progress.fraction * 100).toFixed(0).padStart(3)}%  ${counts.format(progress.bars)} bars  up to ${formatTime(progress.time)}`;
}
