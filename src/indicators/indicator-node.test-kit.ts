import type { HistoryRow } from '../sdk/history/protocols.js';
import { MemoryHistoryProvider } from '../sdk/history/memory-history-provider.js';
import type { Node } from '../sdk/node.js';
import { Runner } from '../sdk/runner/runner.js';
import { Strategy } from '../sdk/strategy.js';
import { StreamInput } from '../sdk/stream-input.js';
import type { StreamingIndicator } from './indicator.js';

/** The bar interval of the node-factory tests, in seconds. */
export const INTERVAL = 60;

/** A strategy built from a function, so each test states its DAG inline. */
export function strategyOf(build: (s: Strategy) => void): Strategy {
  return new (class extends Strategy {
    setup(): void {
      build(this);
    }
  })({ defaultInterval: INTERVAL, defaultPeriod: 1 });
}

/** A StreamInput serving `rows` from memory. */
export function stream(rows: readonly HistoryRow[], tags: readonly string[] = ['px']): StreamInput {
  return new StreamInput({
    tags,
    interval: INTERVAL,
    period: 1,
    historyProvider: new MemoryHistoryProvider(rows),
  });
}

/**
 * Backtests `stream(rows)` followed by the nodes `build` wires onto it, over every row (or
 * `range`), and returns the outputs of the last of those nodes.
 */
export async function runNodes<T = number>(
  rows: readonly HistoryRow[],
  build: (source: Node) => readonly Node[],
  range: { startTime: number; endTime: number } = { startTime: rows[0]!.ts, endTime: rows.at(-1)!.ts },
): Promise<Array<[number, T]>> {
  let last!: Node;
  const result = await Runner.backtest(
    strategyOf((s) => {
      const source = stream(rows);
      const nodes = build(source);
      last = nodes.at(-1)!;
      s.addNodes([source, ...nodes]);
    }),
    range,
  );
  return result.outputs<T>(last).toArray();
}

/** What `indicator` returns fed `input(row)` for each row, as [ts, result] for every non-null result. */
export function fedDirectly<In, Out>(
  indicator: StreamingIndicator<In, Out>,
  rows: readonly HistoryRow[],
  input: (row: HistoryRow) => In,
): Array<[number, Out]> {
  const out: Array<[number, Out]> = [];
  for (const row of rows) {
    const value = indicator.update(input(row));
    if (value !== null) out.push([row.ts, value]);
  }
  return out;
}
