/**
 * Sharing over generated strategies: two to four strategies drawn from one pool of node specs
 * (random DAG shapes, periods, 60 or 120 s intervals, nodes that sometimes have no output), so
 * they share some nodes. Run together, every strategy's leaf gives exactly what it gives when the
 * strategy runs alone, and every shared node is computed once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import type { HistoryRow } from '../history/protocols.js';
import type { Node } from '../node.js';
import { ProcessingNode } from '../processing-node.js';
import { StreamInput } from '../stream-input.js';
import { Strategy } from '../strategy.js';
import { Runner } from './runner.js';

interface NodeSpec {
  /** Indices of earlier nodes (sources first) this node reads. */
  readonly inputs: number[];
  readonly period: number;
  readonly interval: 60 | 120;
  /** 0: sum of the inputs' newest values, 1: the same but no output on every third bucket, 2: window mean. */
  readonly kind: 0 | 1 | 2;
}

const SOURCES = 2;

/** The newest numeric value of input k (a source row's `value`, or a node's number). */
function newest(view: { input<T>(k: number): { latest(): T | null } }, k: number): number {
  const v = view.input<number | { value: number }>(k).latest();
  return typeof v === 'number' ? v : (v?.value ?? 0);
}

const COMPUTE = [
  (view: Parameters<typeof newest>[0] & { params: { n: number } }) =>
    Array.from({ length: view.params.n }, (_, k) => newest(view, k)).reduce((a, b) => a + b, 0),
  (view: Parameters<typeof newest>[0] & { params: { n: number }; time: number }) =>
    (view.time / 60) % 3 === 0 ? null : newest(view, 0) * 2 + view.params.n,
  (view: { input<T>(k: number): { values(): ArrayLike<T>; length: number } }) => {
    const values = Array.from(view.input<number | { value: number }>(0).values(), (v) =>
      typeof v === 'number' ? v : v.value,
    );
    return values.reduce((a, b) => a + b, 0) / values.length;
  },
];

const nodeSpecs = (count: number): fc.Arbitrary<NodeSpec[]> =>
  fc.tuple(
    ...Array.from({ length: count }, (_, i) =>
      fc.record({
        inputs: fc.uniqueArray(fc.integer({ min: 0, max: SOURCES + i - 1 }), { minLength: 1, maxLength: 2 }),
        period: fc.integer({ min: 1, max: 4 }),
        interval: fc.constantFrom(60 as const, 120 as const),
        kind: fc.constantFrom(0 as const, 1 as const, 2 as const),
      }),
    ),
  );

const rowsOf = (values: number[], skip: number): HistoryRow[] =>
  values.flatMap((value, i) => (skip > 0 && i % skip === skip - 1 ? [] : [{ ts: 600 + 60 * i, value }]));

/** Builds node `index` and its ancestors (each spec always gives the same NodeID). */
function build(
  specs: readonly NodeSpec[],
  providers: MemoryHistoryProvider[],
  index: number,
  made: Map<number, Node>,
): Node {
  const existing = made.get(index);
  if (existing !== undefined) return existing;
  let node: Node;
  if (index < SOURCES) {
    node = new StreamInput({
      tags: [`s${index}`],
      interval: 60,
      period: 1,
      historyProvider: providers[index]!,
    });
  } else {
    const spec = specs[index - SOURCES]!;
    const inputs = spec.inputs.map((k) => build(specs, providers, k, made));
    const interval = Math.max(spec.interval, ...inputs.map((n) => n.interval!));
    node = new ProcessingNode({
      input: inputs,
      period: spec.kind === 2 ? spec.period : 1,
      interval,
      params: { n: inputs.length },
      computeFn: COMPUTE[spec.kind]! as never,
    });
  }
  made.set(index, node);
  return node;
}

function strategyWithLeaf(
  specs: readonly NodeSpec[],
  providers: MemoryHistoryProvider[],
  leaf: number,
): Strategy {
  return new (class extends Strategy {
    setup(): void {
      const made = new Map<number, Node>();
      build(specs, providers, leaf, made);
      this.addNodes([...made.entries()].sort(([a], [b]) => a - b).map(([, node]) => node));
    }
  })({ defaultInterval: 60, defaultPeriod: 1 });
}

describe('sharing over generated strategies', () => {
  it('gives each strategy the same leaf outputs together as alone, computing shared nodes once', async () => {
    await fc.assert(
      fc.asyncProperty(
        nodeSpecs(6),
        fc.uniqueArray(fc.integer({ min: SOURCES, max: SOURCES + 5 }), { minLength: 2, maxLength: 4 }),
        fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 10, maxLength: 60 }),
        fc.integer({ min: 0, max: 7 }),
        async (specs, leaves, values, skip) => {
          const providers = [
            rowsOf(values, skip),
            rowsOf(
              values.map((v) => v * 3 + 1),
              0,
            ),
          ].map((rows) => new MemoryHistoryProvider(rows));
          const options = { startTime: 600, endTime: 600 + 60 * values.length, onMissing: 'skip' as const };
          const strategies = leaves.map((leaf) => strategyWithLeaf(specs, providers, leaf));
          const together = await Runner.run(strategies, options);
          let alone = 0;
          let unshared = 0;
          for (const strategy of strategies) {
            const single = await Runner.backtest(
              strategyWithLeaf(specs, providers, leaves[strategies.indexOf(strategy)]!),
              options,
            );
            const leaf = strategy.nodes.at(-1)!;
            expect(together.outputs(leaf).toArray()).toEqual(
              single.outputs(single.strategy.nodes.at(-1)!).toArray(),
            );
            alone += single.dedup.computeCalls;
            unshared += single.dedup.computeCalls + single.dedup.computeCallsSaved;
          }
          // What every declared node computing for itself would cost is the same either way.
          expect(together.dedup.computeCalls).toBeLessThanOrEqual(alone);
          expect(together.dedup.computeCalls + together.dedup.computeCallsSaved).toBe(unshared);
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
