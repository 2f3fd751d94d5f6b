/**
 * The worked example of docs/adding-an-indicator.md, kept compiling and passing here. Each
 * `// #region <name>` below appears verbatim in the guide; the last test checks that it still does.
 */
import { readFileSync } from 'node:fs';
import { MOM as ReferenceMOM } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import type { IndicatorBenchCase } from '../../bench/indicator-cases/case.js';
import { ErrorCode } from '../common/errors.js';
import { MemoryHistoryProvider } from '../sdk/history/memory-history-provider.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import type { Node } from '../sdk/node.js';
import { Runner } from '../sdk/runner/runner.js';
import { StreamInput } from '../sdk/stream-input.js';
import { Strategy } from '../sdk/strategy.js';
import { assertInput, assertPeriod } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  testIndicatorContract,
} from './indicator-contract.test-kit.js';
import { indicatorNode, type IndicatorNode, type IndicatorNodeOptions } from './indicator-node.js';

// #region momentum.ts
/**
 * Momentum: the change over `period` inputs, `x[t] − x[t−period]`; `null` until `period + 1`
 * inputs. The last `period` inputs sit in a `Float64Array` ring, so each update is O(1).
 *
 * @example
 * const momentum = new Momentum(2);
 * [1, 2, 4, 7].map((x) => momentum.update(x)); // [null, null, 3, 5]
 */
export class Momentum implements StreamingIndicator {
  readonly warmupPeriod: number;
  private readonly period: number;
  /** The last `period` inputs. */
  private readonly window: Float64Array;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  /** The ring slot the next input goes to; once full it holds the input `period` back. */
  private next = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousEvicted = 0;
  private previousResult: number | null = null;

  /** @param period how many inputs back to compare with; a positive integer. */
  constructor(period = 10) {
    this.period = assertPeriod('Momentum', period);
    this.warmupPeriod = this.period + 1;
    this.window = new Float64Array(this.period);
  }

  /** The latest change, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `period + 1` inputs have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new change (or `null` while warming up). */
  update(value: number): number | null {
    assertInput('Momentum', value);
    const before = this.window[this.next]!;
    this.previousEvicted = before;
    this.previousResult = this.current;
    this.window[this.next] = value;
    this.next = this.next + 1 === this.period ? 0 : this.next + 1;
    this.count += 1;
    this.current = this.count > this.period ? value - before : null;
    return this.current;
  }

  /** Replaces the newest input (a late correction) and returns the recomputed change. */
  replace(value: number): number | null {
    assertInput('Momentum', value);
    if (this.count === 0) return this.update(value);
    this.next = this.next === 0 ? this.period - 1 : this.next - 1;
    this.window[this.next] = this.previousEvicted;
    this.count -= 1;
    this.current = this.previousResult;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.window.fill(0);
    this.count = 0;
    this.next = 0;
    this.current = null;
    this.previousEvicted = 0;
    this.previousResult = null;
  }
}
// #endregion

// #region momentum-node.ts
/**
 * A node computing the momentum of `source` over `period` bars (default 10); it emits from bar
 * `period + 1`.
 * @example const change = momentum(price, { period: 10, field: 'close' });
 */
export function momentum(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number } = {},
): IndicatorNode {
  const { period = 10, ...rest } = options;
  return indicatorNode(
    { indicator: 'Momentum', indicatorClass: Momentum, create: (p) => new Momentum(p.period) },
    source,
    { period },
    rest,
  );
}
// #endregion

// #region momentum.test.ts
testIndicatorContract('Momentum(1)', () => new Momentum(1), { warmupPeriod: 2 });
testIndicatorContract('Momentum()', () => new Momentum(), { warmupPeriod: 11 });

describe('Momentum', () => {
  it('subtracts the input period steps back', () => {
    expect(feed(new Momentum(2), [1, 2, 4, 7, 7])).toEqual([null, null, 3, 5, 3]);
  });

  it('rejects a period that is not a positive integer, naming it and the value', () => {
    expect(() => new Momentum(0)).toThrow('Momentum period must be a positive integer, got 0');
    expect(() => new Momentum(1.5)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  // trading-signals' MOM(n) has the same definition and warm-up: x[t] − x[t−n] from input n + 1.
  it('agrees with trading-signals MOM on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [1, 5, 20]) {
      const comparison = compareWithReference(new Momentum(period), new ReferenceMOM(period), inputs);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
// #endregion

// #region bench-case
const cases: IndicatorBenchCase[] = [
  {
    name: 'Momentum(10)',
    input: 'value',
    ours: () => {
      const x = new Momentum(10);
      return (v) => x.update(v);
    },
    peers: {
      'trading-signals MOM': () => {
        const x = new ReferenceMOM(10);
        return (v) => x.add(v);
      },
    },
  },
];
// #endregion

describe('the adding-an-indicator guide', () => {
  it('runs its node factory in a backtest, emitting what the class returns', async () => {
    const rows: HistoryRow[] = randomWalk(40, 3).map((close, k) => ({ ts: (k + 1) * 60, close }));
    let node!: IndicatorNode;
    const result = await Runner.backtest(
      new (class extends Strategy {
        setup(): void {
          const price = new StreamInput({
            tags: ['px'],
            interval: 60,
            period: 1,
            historyProvider: new MemoryHistoryProvider(rows),
          });
          node = momentum(price, { period: 5, field: 'close' });
          this.addNodes([price, node]);
        }
      })({ defaultInterval: 60, defaultPeriod: 1 }),
      { startTime: 60, endTime: 40 * 60 },
    );
    const reference = new Momentum(5);
    const expected = rows.flatMap((row) => {
      const value = reference.update(row['close'] as number);
      return value === null ? [] : [[row.ts, value]];
    });
    expect(result.outputs<number>(node).toArray()).toEqual(expected);
    expect(node.name).toBe('momentum_5');
    expect(node.period).toBe(6);
  });

  it('has a bench case whose steps run', () => {
    for (const c of cases) {
      const step = c.ours();
      const peers = Object.values(c.peers).map((make) => make());
      for (const x of randomWalk(30, 4)) {
        const value = step(x);
        expect(typeof value === 'number' || value === null).toBe(true);
        for (const peer of peers) peer(x);
      }
    }
  });

  it('shows the code of this file verbatim', () => {
    const guide = readFileSync(new URL('../../docs/adding-an-indicator.md', import.meta.url), 'utf8');
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const regions = [...source.matchAll(/^\/\/ #region (\S+)\n([\s\S]*?)^\/\/ #endregion$/gm)];
    expect(regions.map(([, name]) => name)).toEqual([
      'momentum.ts',
      'momentum-node.ts',
      'momentum.test.ts',
      'bench-case',
    ]);
    for (const [, name, code] of regions) expect(guide, `region ${name}`).toContain(code);
  });

  it('shows VWAP’s input check as vwap.ts has it', () => {
    const guide = readFileSync(new URL('../../docs/adding-an-indicator.md', import.meta.url), 'utf8');
    const vwap = readFileSync(new URL('./vwap.ts', import.meta.url), 'utf8');
    const check = /^function checkedTypicalPrice[\s\S]*?^}$/m.exec(vwap)?.[0];
    expect(check).toBeDefined();
    expect(guide).toContain(check);
  });
});
