/**
 * Not product code: the best case of a column-at-a-time backtest engine, to size what a redesign of
 * the runner could gain. StreamInput → EMA(20) → signal over N bars, like
 * bench/backtest-throughput.ts, but each history window is run node by node: the source rows go
 * into one column, the EMA node runs over the whole column (its evaluator still called per bar
 * through a view, as every node's compute function must be), then the signal node runs over the
 * columns, its outputs appended to an `OutputSeries`. No gap, correction, warm-up or error checks
 * at all, so a real engine of this shape would be slower still. The hand-written loop is the same
 * as in bench/backtest-throughput.ts; the two alternate for `runs` rounds, medians reported.
 *   node --import tsx bench/column-engine-prototype.ts [bars=1000000] [runs=11]
 */
import { EMA } from '../src/indicators/ema.js';
import { OutputSeries } from '../src/sdk/runner/output-series.js';
import { closeRows, handLoop, type CloseRow } from './ema-signal-baseline.js';

const bars = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 11);
const windowBars = 65_536;
const rows = closeRows(bars);
type Row = CloseRow;

/** One node's outputs over a window: a column of values, read through a movable end. */
class Column<T> {
  readonly values: T[] = [];
  /** The entries a view sees are those before `end`. */
  end = 0;
  latest(): T {
    return this.values[this.end - 1]!;
  }
}

/** What a compute function gets: its input columns. */
class View {
  constructor(private readonly columns: Column<unknown>[]) {}
  input<T>(index: number): Column<T> {
    return this.columns[index] as Column<T>;
  }
}

function columnEngine(): Float64Array {
  const average = new EMA(20);
  const outputs = new OutputSeries<number>();
  const source = new Column<Row>();
  const emaColumn = new Column<number>();
  const emaView = new View([source]);
  const signalView = new View([source, emaColumn]);
  const emaNode = (view: View): number | null => average.update(view.input<Row>(0).latest().close);
  const signalNode = (view: View): number =>
    view.input<Row>(0).latest().close > view.input<number>(1).latest() ? 1 : -1;
  const emaTimes: number[] = [];
  const emaAt = new Int32Array(windowBars);
  for (let from = 0; from < rows.length; from += windowBars) {
    const n = Math.min(rows.length, from + windowBars) - from;
    for (let k = 0; k < n; k++) source.values[k] = rows[from + k]!;
    let emitted = 0;
    for (let k = 0; k < n; k++) {
      source.end = k + 1;
      const value = emaNode(emaView);
      if (value !== null) {
        emaColumn.values[emitted] = value;
        emaTimes[emitted] = source.values[k]!.ts;
        emitted++;
      }
      emaAt[k] = emitted;
    }
    for (let k = 0; k < n; k++) {
      if (k > 0 ? emaAt[k] === emaAt[k - 1] : emaAt[k] === 0) continue;
      source.end = k + 1;
      emaColumn.end = emaAt[k]!;
      outputs.push(source.values[k]!.ts, signalNode(signalView));
    }
  }
  return outputs.values();
}

const timed = (fn: () => Float64Array): [number, Float64Array] => {
  const t0 = performance.now();
  const out = fn();
  return [performance.now() - t0, out];
};
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const hand: number[] = [];
const column: number[] = [];
let identical = true;
for (let r = 0; r < runs; r++) {
  const [handMs, expected] = timed(() => handLoop(rows));
  const [columnMs, actual] = timed(columnEngine);
  hand.push(handMs);
  column.push(columnMs);
  identical &&= expected.length === actual.length && expected.every((v, i) => v === actual[i]);
}
console.log(
  `column-engine prototype: ${bars.toLocaleString('en-US')} bars, median of ${runs} alternating runs`,
);
console.log(`  hand-written loop    ${median(hand).toFixed(1).padStart(8)} ms`);
console.log(`  column prototype     ${median(column).toFixed(1).padStart(8)} ms`);
console.log(`  ratio ${(median(column) / median(hand)).toFixed(2)}x   identical signals: ${identical}`);
