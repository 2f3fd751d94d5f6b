import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  failAt,
  gatedSpread,
  MODULE_URL,
  weightedMean,
} from '../../../tests/fixtures/compute/pure-functions.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import type { HistoryRow } from '../history/protocols.js';
import { Node } from '../node.js';
import { ProcessingNode } from '../processing-node.js';
import { StreamInput } from '../stream-input.js';
import { Strategy } from '../strategy.js';
import { createComputePool, type ComputePool } from './compute-pool.js';
import { countingPool, replayOutcome, type ReplayCase } from './parallel.test-kit.js';

const worker = (name: string) => ({ module: MODULE_URL, export: name });
const latestValue = (view: { input(k?: number): { latest(): unknown } }) =>
  (view.input().latest() as { value: number }).value;

/** Stream "a": 300 one-minute bars with bar 20 missing and a late correction of bar 50. */
function rowsA(): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (let i = 0; i < 300; i++)
    if (i !== 20) rows.push({ ts: 60 * (i + 1), value: 100 + Math.sin(i / 7) * 9 });
  rows.push({ ts: 60 * 51 + 30, value: 42 });
  return rows;
}

/** Stream "b": starts at bar 6, so nodes reading it warm up later. */
function rowsB(): HistoryRow[] {
  return Array.from({ length: 290 }, (_, i) => ({ ts: 60 * (i + 7), value: 50 + ((i * 37) % 11) }));
}

function strategyOf(build: (s: Strategy) => void, name: string): Strategy {
  const strategy = new (class extends Strategy {
    setup(): void {
      build(this);
    }
  })({ defaultInterval: 60, defaultPeriod: 1 });
  Object.defineProperty(strategy.constructor, 'name', { value: name });
  return strategy;
}

/** Rows of the two streams (the fixed sets above, or generated ones). */
interface StreamRows {
  readonly a: HistoryRow[];
  readonly b: HistoryRow[];
}

/** The two streams of these tests: `a` and `b`, one-minute bars from their row sets. */
function streams(rows: StreamRows = { a: rowsA(), b: rowsB() }): { a: StreamInput; b: StreamInput } {
  const stream = (tag: string, of: HistoryRow[]): StreamInput =>
    new StreamInput({
      tags: [tag],
      interval: 60,
      period: 1,
      historyProvider: new MemoryHistoryProvider(of),
    });
  return { a: stream('a', rows.a), b: stream('b', rows.b) };
}

/**
 * Two strategies over two streams, sharing nodes. Offloaded: `spread` (records, sometimes null),
 * `smooth` and `guard`. Behind them: `blend` (reads a stage-1 node too), `resmooth` and `checked`
 * (worker nodes fed by worker nodes: inline), a pass-through, `leaf` and `other` (read a stream).
 * `checked` and `guard` throw at the bucket `failing` gives them.
 */
function strategies(failing: { checked?: number; guard?: number } = {}, rows?: StreamRows): Strategy[] {
  const { a, b } = streams(rows);
  // No output every 11th bar: its consumers in both stages must not count a gap.
  const priceB = new ProcessingNode({
    name: 'priceB',
    input: b,
    computeFn: (view) => (latestValue(view) === 55 ? null : latestValue(view)),
  });
  const spread = new ProcessingNode({
    name: 'spread',
    input: [a, priceB],
    period: 8,
    params: { every: 3 },
    computeFn: gatedSpread,
    worker: worker('gatedSpread'),
  });
  const smooth = new ProcessingNode({
    name: 'smooth',
    input: priceB,
    period: 5,
    params: { decay: 0.8 },
    computeFn: weightedMean,
    worker: worker('weightedMean'),
  });
  const blend = new ProcessingNode({
    name: 'blend',
    input: [spread, priceB],
    period: 2,
    computeFn: (view) => (view.input<{ spread: number }>(0).latest()!.spread + view.input(1).at(0)!) / 2,
  });
  const resmooth = new ProcessingNode({
    name: 'resmooth',
    input: blend,
    period: 4,
    params: { decay: 0.5 },
    computeFn: weightedMean,
    worker: worker('weightedMean'),
  });
  const checked = new ProcessingNode({
    name: 'checked',
    input: smooth,
    params: { failAt: failing.checked ?? -1 },
    computeFn: failAt,
    worker: worker('failAt'),
  });
  const passed = new Node({ name: 'passed', input: checked });
  const leaf = new ProcessingNode({
    name: 'leaf',
    input: [resmooth, passed, a],
    computeFn: (view) =>
      view.input(0).latest()! - view.input(1).latest()! + latestValue({ input: () => view.input(2) }),
  });
  const guard = new ProcessingNode({
    name: 'guard',
    input: priceB,
    params: { failAt: failing.guard ?? -1 },
    computeFn: failAt,
    worker: worker('failAt'),
  });
  const other = new ProcessingNode({
    name: 'other',
    input: [smooth, guard, a],
    computeFn: (view) => view.input(0).latest()! * 2 + view.input(1).latest()!,
  });
  return [
    strategyOf(
      (s) => s.addNodes([a, b, priceB, spread, smooth, blend, resmooth, checked, passed, leaf]),
      'First',
    ),
    strategyOf((s) => s.addNodes([a, b, priceB, smooth, guard, other]), 'Second'),
  ];
}

const range = { start: 60, end: 60 * 300 };
let pool: ComputePool;
beforeAll(async () => {
  pool = await createComputePool(2);
});
afterAll(() => pool.close());

describe('replayParallel', () => {
  it.each<[string, Partial<ReplayCase>]>([
    ['one window', {}],
    ['windows of 7 bars', { windowBars: 7 }],
    ['one bucket in flight', { maxInFlight: 1 }],
    ['one bucket per task', { bucketsPerTask: 1 }],
  ])('ends exactly as a serial replay: outputs, warm-up, gaps, skips, counters (%s)', async (_, options) => {
    const serial = await replayOutcome(strategies(), { ...range, ...options }, null);
    const counting = countingPool(pool);
    const parallel = await replayOutcome(strategies(), { ...range, ...options }, counting);
    expect(parallel).toStrictEqual(serial);
    const stats = Object.fromEntries(serial.stats.map((s) => [s.name, s]));
    expect(stats['spread']).toMatchObject({ gaps: 1, skips: 1, corrections: 1 });
    expect(stats['spread']!.warmupBars).toBeGreaterThan(5);
    expect(stats['spread']!.emptyOutputs).toBeGreaterThan(10);
    expect(stats['spread']!.outputs).toBeGreaterThan(10);
    expect(stats['priceB']!.emptyOutputs).toBeGreaterThan(20);
    expect(stats['blend']!.gaps).toBe(0);
    expect(stats['leaf']!.computeCalls).toBeGreaterThan(200);
    // Only the nodes no worker node feeds go to the pool; `resmooth` and `checked` compute inline.
    expect(counting.buckets).toBe(
      stats['spread']!.computeCalls + stats['smooth']!.computeCalls + stats['guard']!.computeCalls,
    );
  });

  it('ends exactly as a serial replay over generated histories, windows and task sizes', async () => {
    /** Per bar: missing, or one or two rows (a late correction), values from a small range. */
    const rowsOf = (bars: (number[] | null)[], firstBar: number): HistoryRow[] =>
      bars.flatMap((values, i) =>
        (values ?? []).map((value, n) => ({ ts: 60 * (firstBar + i) + n * 7, value: 50 + value })),
      );
    const bars = fc.array(
      fc.oneof(
        { weight: 1, arbitrary: fc.constant(null) },
        { weight: 8, arbitrary: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 2 }) },
      ),
      { minLength: 5, maxLength: 60 },
    );
    await fc.assert(
      fc.asyncProperty(
        bars,
        bars,
        fc.integer({ min: 1, max: 8 }),
        fc.record({
          windowBars: fc.integer({ min: 1, max: 40 }),
          bucketsPerTask: fc.integer({ min: 1, max: 6 }),
          maxInFlight: fc.integer({ min: 1, max: 12 }),
        }),
        fc.integer({ min: 0, max: 59 }),
        async (barsA, barsB, firstB, options, offGrid) => {
          const rows = { a: rowsOf(barsA, 1), b: rowsOf(barsB, firstB) };
          const replayCase = { start: 60 + offGrid, end: 60 * 70 + offGrid, ...options };
          const serial = await replayOutcome(strategies({}, rows), replayCase, null);
          const parallel = await replayOutcome(strategies({}, rows), replayCase, pool);
          expect(parallel).toStrictEqual(serial);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  // A failed replay is judged by its error: stage 1 may have run ahead of the failing tick.
  it('fails with the serial error when onMissing is "fail"', async () => {
    const serial = await replayOutcome(strategies(), { ...range, onMissing: 'fail' }, null);
    const parallel = await replayOutcome(strategies(), { ...range, onMissing: 'fail' }, pool);
    expect(serial.error).toMatch(/QMTL_MISSING_DATA: node "other" .*expected bucket 1970-01-01T00:11:00Z/);
    expect(parallel.error).toBe(serial.error);
  });

  it.each([
    ['behind the pool, ranked first', true],
    ['in stage 1, ranked first', false],
  ])(
    'names the node the serial replay names when both stages fail in one tick (%s)',
    async (_, behindFirst) => {
      const build = () => {
        const { a, b } = streams();
        const offloaded = new ProcessingNode({
          name: 'offloaded',
          input: b,
          params: { failAt: -1 },
          computeFn: failAt,
          worker: worker('failAt'),
        });
        const behind = new ProcessingNode({ name: 'behind', input: [offloaded, a], computeFn: latestValue });
        const ahead = new ProcessingNode({ name: 'ahead', input: a, computeFn: latestValue });
        const nodes = behindFirst ? [a, b, offloaded, behind, ahead] : [a, b, offloaded, ahead, behind];
        return [strategyOf((s) => s.addNodes(nodes), 'BothFail')];
      };
      const serial = await replayOutcome(build(), { ...range, onMissing: 'fail' }, null);
      const parallel = await replayOutcome(build(), { ...range, onMissing: 'fail' }, pool);
      expect(serial.error).toMatch(
        new RegExp(`node "${behindFirst ? 'behind' : 'ahead'}" .*got 1970-01-01T00:22:00Z`),
      );
      expect(parallel.error).toBe(serial.error);
    },
  );

  it.each([
    ['a node computed inline behind the pool', 'checked'],
    ['an offloaded node', 'guard'],
  ])('fails with the serial error when %s throws', async (_, name) => {
    const serial = await replayOutcome(strategies({ [name]: 60 * 120 }), range, null);
    const parallel = await replayOutcome(strategies({ [name]: 60 * 120 }), range, pool);
    expect(serial.error).toMatch(
      new RegExp(
        `QMTL_COMPUTE_FAILED: node "${name}" .* failed computing bucket 1970-01-01T02:00:00Z: refusing bucket 7200`,
      ),
    );
    expect(parallel.error).toBe(serial.error);
  });

  it('starts and stops a pool of its own with replayWithWorkers, and checks the thread count', async () => {
    const serial = await replayOutcome(strategies(), range, null);
    expect(await replayOutcome(strategies(), range, 1)).toStrictEqual(serial);
    expect((await replayOutcome(strategies(), range, 0)).error).toBe(
      'QMTL_INVALID_ARGUMENT: workers must be a positive integer (worker threads), got 0',
    );
  });

  it('replays serially, without the pool, when no node declares a worker', async () => {
    const price = new StreamInput({
      tags: ['p'],
      interval: 60,
      period: 1,
      historyProvider: new MemoryHistoryProvider(rowsB()),
    });
    const echo = new ProcessingNode({ name: 'echo', input: price, computeFn: latestValue });
    const plain = () => [strategyOf((s) => s.addNodes([price, echo]), 'Plain')];
    const counting = countingPool(pool);
    const parallel = await replayOutcome(plain(), range, counting);
    expect(parallel).toStrictEqual(await replayOutcome(plain(), range, null));
    expect(counting.buckets).toBe(0);
  });

  it('rejects, before replaying, worker declarations that do not match the computeFn', async () => {
    const price = new StreamInput({
      tags: ['p'],
      interval: 60,
      period: 1,
      historyProvider: new MemoryHistoryProvider(rowsB()),
    });
    const miswired = [
      new ProcessingNode({
        name: 'wrongExport',
        input: price,
        computeFn: weightedMean,
        params: { decay: 1 },
        worker: worker('gatedSpread'),
      }),
      new ProcessingNode({
        name: 'noExport',
        input: price,
        computeFn: failAt,
        params: { failAt: 0 },
        worker: worker('nothing'),
      }),
      new ProcessingNode({
        name: 'noModule',
        input: price,
        computeFn: latestValue,
        worker: { module: new URL('./missing.js', MODULE_URL).href, export: 'x' },
      }),
    ];
    const outcome = await replayOutcome(
      [strategyOf((s) => s.addNodes([price, ...miswired]), 'Miswired')],
      range,
      pool,
    );
    expect(outcome.error).toMatch(/^QMTL_INVALID_NODE: nodes cannot run on workers as declared:/);
    expect(outcome.error).toMatch(
      /node "wrongExport" .*: worker.export "gatedSpread" of ".*pure-functions.ts" is not the node's computeFn/,
    );
    expect(outcome.error).toMatch(
      /node "noExport" .*: worker.export "nothing" is not a function exported by .*\(its function exports: .*failAt/,
    );
    expect(outcome.error).toMatch(/node "noModule" .*: worker.module ".*missing.js" cannot be imported/);
    expect(outcome.totals).toBeNull();
  });
});
