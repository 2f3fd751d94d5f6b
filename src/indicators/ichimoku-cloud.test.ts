import { IchimokuCloud as TiIchimokuCloud } from 'technicalindicators';
import { IchimokuCloud as TsIchimokuCloud } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { IchimokuCloud, type IchimokuResult } from './ichimoku-cloud.js';
import {
  badBars,
  compareWithReference,
  feed,
  randomBars,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';
import type { RangeBar } from './atr.js';

const contract = (warmupPeriod: number) => ({
  warmupPeriod,
  inputs: randomBars(3 * warmupPeriod + 40, 7),
  corrections: randomBars(3 * warmupPeriod + 40, 11),
  badInputs: badBars(['high', 'low', 'close']),
});
testIndicatorContract('IchimokuCloud(1, 1, 1, 0)', () => new IchimokuCloud(1, 1, 1, 0), contract(1));
testIndicatorContract('IchimokuCloud(2, 3, 5, 2)', () => new IchimokuCloud(2, 3, 5, 2), contract(7));
testIndicatorContract('IchimokuCloud(6, 4, 2, 1)', () => new IchimokuCloud(6, 4, 2, 1), contract(7));
testIndicatorContract('IchimokuCloud()', () => new IchimokuCloud(), contract(78));

const select = (r: IchimokuResult) => [r.tenkan, r.kijun, r.senkouA, r.senkouB, r.chikou];

/** Ichimoku over a whole series from its definition, the spans shifted `displacement` bars ahead. */
function batchIchimoku(
  bars: readonly RangeBar[],
  [tenkan, kijun, senkouB, displacement]: readonly [number, number, number, number],
): (IchimokuResult | null)[] {
  const midRange = (i: number, period: number): number | null => {
    if (i + 1 < period) return null;
    const window = bars.slice(i + 1 - period, i + 1);
    return (Math.max(...window.map((b) => b.high)) + Math.min(...window.map((b) => b.low))) / 2;
  };
  const lines = bars.map((_, i) => ({
    tenkan: midRange(i, tenkan),
    kijun: midRange(i, kijun),
    spanB: midRange(i, senkouB),
  }));
  return bars.map((bar, i) => {
    const { tenkan: t, kijun: k } = lines[i]!;
    const then = lines[i - displacement];
    if (t === null || k === null || then?.tenkan == null || then.kijun === null || then.spanB === null)
      return null;
    return {
      tenkan: t,
      kijun: k,
      senkouA: (then.tenkan + then.kijun) / 2,
      senkouB: then.spanB,
      chikou: bar.close,
    };
  });
}

interface PeerLines {
  conversion: number;
  base: number;
  spanA: number;
  spanB: number;
}

/** A peer without displacement, its spans delayed by `displacement` bars here. */
function displaced(
  linesOf: (bar: RangeBar) => PeerLines | null,
  displacement: number,
): ReferenceIndicator<RangeBar, IchimokuResult> {
  const history: PeerLines[] = [];
  let result: IchimokuResult | null = null;
  return {
    add: (bar) => {
      const lines = linesOf(bar);
      if (lines === null) return;
      history.push(lines);
      const then = history[history.length - 1 - displacement];
      if (then === undefined) return;
      result = {
        tenkan: lines.conversion,
        kijun: lines.base,
        senkouA: then.spanA,
        senkouB: then.spanB,
        chikou: bar.close,
      };
    },
    getResult: () => result,
  };
}

const PARAMS = [
  [9, 26, 52, 26],
  [9, 26, 52, 0],
  [3, 5, 8, 25],
  [20, 10, 5, 3],
] as const;

describe('IchimokuCloud', () => {
  it('gives tenkan and kijun of the bar, the spans of displacement bars ago and the close', () => {
    const ichimoku = new IchimokuCloud(1, 2, 2, 1);
    expect(ichimoku.update({ high: 10, low: 8, close: 9 })).toBeNull();
    // Spans computed now: tenkan (12+9)/2 = 10.5, kijun (12+8)/2 = 10 → A 10.25; B 10.
    expect(ichimoku.update({ high: 12, low: 9, close: 11 })).toBeNull();
    const result = ichimoku.update({ high: 11, low: 10, close: 10 });
    expect(result).toEqual({ tenkan: 10.5, kijun: 10.5, senkouA: 10.25, senkouB: 10, chikou: 10 });
    expect(Object.isFrozen(result)).toBe(true);
  });

  it('does not overflow on finite bars near 1e308: (high + low)/2 would be Infinity', () => {
    const ichimoku = new IchimokuCloud(1, 2, 2, 1);
    const bar = { high: 1.6e308, low: 1e308, close: 1.2e308 };
    const values = [bar, bar, bar].map((b) => ichimoku.update(b));
    expect(values.at(-1)).toEqual({
      tenkan: 1.3e308,
      kijun: 1.3e308,
      senkouA: 1.3e308,
      senkouB: 1.3e308,
      chikou: 1.2e308,
    });
  });

  it('warms up after the longest look-back plus the displacement (78 with the defaults)', () => {
    expect(new IchimokuCloud().warmupPeriod).toBe(78);
    expect(new IchimokuCloud(9, 26, 52, 0).warmupPeriod).toBe(52);
    expect(new IchimokuCloud(30, 10, 20, 5).warmupPeriod).toBe(35);
    expect(new IchimokuCloud().displacement).toBe(26);
  });

  it('rejects look-backs that are not positive integers and a negative displacement', () => {
    expect(() => new IchimokuCloud(0)).toThrow('IchimokuCloud tenkan must be a positive integer, got 0');
    expect(() => new IchimokuCloud(9, 2.5)).toThrow(
      'IchimokuCloud kijun must be a positive integer, got 2.5',
    );
    expect(() => new IchimokuCloud(9, 26, -1)).toThrow(
      'IchimokuCloud senkouB must be a positive integer, got -1',
    );
    expect(() => new IchimokuCloud(9, 26, 52, -1)).toThrow(
      'IchimokuCloud displacement must be a non-negative integer, got -1',
    );
    expect(() => new IchimokuCloud(9, 26, 52, Number.NaN)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });

  it('names itself, the field and the value when a bar field is not finite', () => {
    expect(() => new IchimokuCloud().update({ high: Number.POSITIVE_INFINITY, low: 1, close: 1 })).toThrow(
      'IchimokuCloud input high must be a finite number, got Infinity',
    );
  });

  it('matches the batch formula on 5,000 random bars to 1e-9', () => {
    const bars = randomBars(5_000, 42);
    for (const params of PARAMS) {
      const expected = batchIchimoku(bars, params);
      const actual = feed(new IchimokuCloud(...params), bars);
      expect(actual.map((x) => x === null)).toEqual(expected.map((x) => x === null));
      const errors = actual.flatMap((x, i) =>
        x === null ? [] : select(x).map((value, n) => relativeError(value, select(expected[i]!)[n]!)),
      );
      expect(errors.length).toBe(5 * (bars.length - Math.max(...params.slice(0, 3)) - params[3] + 1));
      expect(Math.max(...errors)).toBeLessThan(1e-9);
    }
  });

  // trading-signals' IchimokuCloud applies no displacement: its spanA/spanB at bar t are the spans
  // ours puts in effect at bar t + displacement, so they are delayed here before comparing.
  it('agrees with trading-signals IchimokuCloud, its spans displaced, to 1e-9', () => {
    const bars = randomBars(5_000, 42);
    for (const [tenkan, kijun, senkouB, displacement] of PARAMS) {
      const peer = new TsIchimokuCloud({
        conversionInterval: tenkan,
        baseInterval: kijun,
        spanBInterval: senkouB,
      });
      const reference = displaced((bar) => (peer.add(bar), peer.getResult()), displacement);
      const comparison = compareWithReference(
        new IchimokuCloud(tenkan, kijun, senkouB, displacement),
        reference,
        bars,
        {
          select,
          selectReference: select,
        },
      );
      const warmup = Math.max(tenkan, kijun, senkouB) + displacement;
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: bars.length - warmup + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // technicalindicators' IchimokuCloud computes the same lines unshifted (its `displacement` only
  // delays its first result), so it gets displacement 0 and its spans are delayed here.
  it('agrees with technicalindicators IchimokuCloud, its spans displaced, to 1e-9', () => {
    const bars = randomBars(5_000, 42);
    for (const [tenkan, kijun, senkouB, displacement] of PARAMS) {
      const peer = new TiIchimokuCloud({
        conversionPeriod: tenkan,
        basePeriod: kijun,
        spanPeriod: senkouB,
        displacement: 0,
        high: [],
        low: [],
      });
      const reference = displaced((bar) => peer.nextValue(bar) ?? null, displacement);
      const comparison = compareWithReference(
        new IchimokuCloud(tenkan, kijun, senkouB, displacement),
        reference,
        bars,
        {
          select,
          selectReference: select,
        },
      );
      const warmup = Math.max(tenkan, kijun, senkouB) + displacement;
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: bars.length - warmup + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
