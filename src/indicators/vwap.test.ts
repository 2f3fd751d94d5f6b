import { VWAP as TiVWAP } from 'technicalindicators';
import { VWAP as ReferenceVWAP } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import type { PriceBar } from './indicator.js';
import {
  badBars,
  compareWithReference,
  feed,
  randomBars,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';
import { VWAP, type VwapBar } from './vwap.js';

const READS = ['high', 'low', 'close', 'volume'] as const;
const negativeVolume: PriceBar = { open: 1, high: 2, low: 0.5, close: 1.5, volume: -1, time: 0 };
const contract = {
  warmupPeriod: 1,
  inputs: randomBars(100, 3),
  corrections: randomBars(100, 4),
  badInputs: [...badBars([...READS]), negativeVolume],
};

testIndicatorContract('VWAP()', () => new VWAP(), contract);
testIndicatorContract('VWAP(1)', () => new VWAP(1), contract);
testIndicatorContract('VWAP(5)', () => new VWAP(5), contract);
testIndicatorContract('VWAP(20)', () => new VWAP(20), contract);

// Every third bar without volume, so windows with no traded bar occur and are corrected into and out of.
const sparseBars = (length: number, seed: number): PriceBar[] =>
  randomBars(length, seed).map((bar, i) => (i % 3 === 0 || i % 7 < 3 ? { ...bar, volume: 0 } : bar));
testIndicatorContract('VWAP(3) with zero-volume bars', () => new VWAP(3), {
  ...contract,
  inputs: sparseBars(100, 5),
  corrections: sparseBars(100, 6),
});

const typicalPrice = (bar: VwapBar): number => (bar.high + bar.low + bar.close) / 3;

/** Σ tp·v / Σ v over `bars[from..to]`, summed directly (the typical price when Σ v = 0). */
function directVwap(bars: readonly VwapBar[], from: number, to: number): number {
  let priceVolume = 0;
  let volume = 0;
  for (let i = Math.max(0, from); i <= to; i += 1) {
    priceVolume += typicalPrice(bars[i]!) * bars[i]!.volume;
    volume += bars[i]!.volume;
  }
  return volume === 0 ? typicalPrice(bars[to]!) : priceVolume / volume;
}

/** Pairwise summation of `f(i)` for i in [from, to): error O(ε·log n), a batch reference for long sums. */
function pairwiseSum(f: (i: number) => number, from: number, to: number): number {
  if (to - from <= 16) {
    let sum = 0;
    for (let i = from; i < to; i += 1) sum += f(i);
    return sum;
  }
  const middle = (from + to) >>> 1;
  return pairwiseSum(f, from, middle) + pairwiseSum(f, middle, to);
}

/** technicalindicators' VWAP through the reference interface. */
function technicalIndicatorsVwap(): ReferenceIndicator<PriceBar> {
  const indicator = new TiVWAP({ high: [], low: [], close: [], volume: [] });
  let last: number | null = null;
  return {
    add: (bar) => (last = indicator.nextValue(bar) ?? null),
    getResult: () => last,
  };
}

describe('VWAP', () => {
  const bars = [
    { high: 11, low: 9, close: 10, volume: 100 }, // tp 10
    { high: 13, low: 11, close: 12, volume: 300 }, // tp 12
    { high: 15, low: 13, close: 14, volume: 100 }, // tp 14
    { high: 10, low: 10, close: 10, volume: 500 }, // tp 10
  ];

  it('weights the typical price by volume over the last period bars', () => {
    expect(feed(new VWAP(2), bars)).toEqual([10, 11.5, 12.5, 32 / 3]);
    expect(feed(new VWAP(1), bars)).toEqual([10, 12, 14, 10]);
  });

  it('refuses an inconsistent bar (high < low, close outside the range), naming it', () => {
    for (const vwap of [new VWAP(), new VWAP(3)]) {
      expect(() => vwap.update({ high: 9, low: 11, close: 10, volume: 1 })).toThrow(
        'VWAP input is not a consistent bar: low 11 is above high 9',
      );
      expect(() => vwap.update({ high: 11, low: 9, close: 12, volume: 1 })).toThrow(
        'VWAP input is not a consistent bar: close 12 is outside [low 9, high 11]',
      );
      expect(vwap.update({ high: 11, low: 9, close: 11, volume: 1 })).toBe(31 / 3);
    }
  });

  it('weights every bar since the first without a period', () => {
    // (1000 + 3600 + 1400 + 5000) / 1000
    expect(feed(new VWAP(), bars)).toEqual([10, 11.5, 12, 11]);
    expect(new VWAP().period).toBeNull();
    expect(new VWAP(7).period).toBe(7);
  });

  it('gives the newest typical price when the bars summed have no volume', () => {
    const zero = [
      { high: 12, low: 12, close: 12, volume: 0 },
      { high: 11, low: 9, close: 10, volume: 100 },
      { high: 13, low: 11, close: 12, volume: 0 },
      { high: 15, low: 13, close: 14, volume: 0 },
      { high: 16, low: 16, close: 16, volume: 0 },
    ];
    expect(feed(new VWAP(2), zero)).toEqual([12, 10, 10, 14, 16]);
    expect(feed(new VWAP(), zero)).toEqual([12, 10, 10, 10, 10]);
  });

  it('matches the batch formula on 10,000 random bars to 1e-9, also with zero-volume bars', () => {
    for (const input of [randomBars(10_000, 31), sparseBars(10_000, 32)]) {
      for (const period of [1, 2, 14, 50]) {
        const values = feed(new VWAP(period), input);
        let worst = 0;
        values.forEach((value, i) => {
          worst = Math.max(worst, relativeError(value!, directVwap(input, i - period + 1, i)));
        });
        expect(worst, `VWAP(${period})`).toBeLessThan(1e-9);
      }
    }
  });

  // Both peers define the cumulative VWAP of the typical price, as ours without a period.
  it('agrees with trading-signals VWAP on 10,000 random bars to 1e-9', () => {
    const input = randomBars(10_000, 33);
    const comparison = compareWithReference(new VWAP(), new ReferenceVWAP(), input);
    expect(comparison).toMatchObject({ warmupMismatches: 0, compared: input.length });
    expect(comparison.worstRelativeError).toBeLessThan(1e-9);
  });

  it('agrees with technicalindicators VWAP on 10,000 random bars to 1e-9', () => {
    const input = randomBars(10_000, 34);
    const comparison = compareWithReference(new VWAP(), technicalIndicatorsVwap(), input);
    expect(comparison).toMatchObject({ warmupMismatches: 0, compared: input.length });
    expect(comparison.worstRelativeError).toBeLessThan(1e-9);
  });

  it('does not drift over 1,000,000 bars, rolling or cumulative', () => {
    const input = randomBars(1_000_000, 35);
    const rolling = new VWAP(30);
    const cumulative = new VWAP();
    let worst = 0;
    input.forEach((bar, i) => {
      const r = rolling.update(bar)!;
      const c = cumulative.update(bar)!;
      if (i % 49_999 !== 0 && i !== input.length - 1) return;
      worst = Math.max(worst, relativeError(r, directVwap(input, i - 29, i)));
      const priceVolume = pairwiseSum((k) => typicalPrice(input[k]!) * input[k]!.volume, 0, i + 1);
      const volume = pairwiseSum((k) => input[k]!.volume, 0, i + 1);
      worst = Math.max(worst, relativeError(c, priceVolume / volume));
    });
    expect(worst).toBeLessThan(1e-9);
  });

  it('keeps full precision after bars of huge price and volume leave the window', () => {
    // After the ~1e6-price, ~1e6-volume bars leave the window, a plain running Σ tp·v keeps their
    // rounding (≈ ε·1e12 per bar) and ends about 1e-7 off on this series; ours stays within 1e-12.
    const input = randomBars(200_000, 36).map((bar, i) =>
      i < 100_000
        ? {
            ...bar,
            high: bar.high * 1e4,
            low: bar.low * 1e4,
            close: bar.close * 1e4,
            volume: bar.volume * 1e3,
          }
        : bar,
    );
    const vwap = new VWAP(20);
    feed(vwap, input);
    expect(relativeError(vwap.result!, directVwap(input, input.length - 20, input.length - 1))).toBeLessThan(
      1e-12,
    );
  });

  it('rejects a period that is not a positive integer, naming it and the value', () => {
    expect(() => new VWAP(0)).toThrow('VWAP period must be a positive integer, got 0');
    expect(() => new VWAP(2.5)).toThrow('VWAP period must be a positive integer, got 2.5');
    expect(() => new VWAP(Number.NaN)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('rejects a negative volume and a non-finite price, naming the field and value', () => {
    const vwap = new VWAP(3);
    expect(() => vwap.update({ high: 2, low: 1, close: 1.5, volume: -5 })).toThrow(
      'VWAP input volume must be ≥ 0, got -5',
    );
    expect(() => vwap.update({ high: 2, low: Number.NaN, close: 1.5, volume: 5 })).toThrow(
      'VWAP input low must be a finite number, got NaN',
    );
    expect(vwap.result).toBeNull();
  });

  it('rejects a bar that is not a record of numbers, whatever the fast check lets through', () => {
    const vwap = new VWAP();
    expect(() => vwap.update({ high: 2, low: 1, close: 1.5, volume: '5' } as never)).toThrow(
      'VWAP input volume must be a finite number, got "5"',
    );
    expect(() => vwap.update(null as never)).toThrow(
      'VWAP input must be a bar with high, low, close, volume',
    );
    expect(() => vwap.replace({ high: 2, low: 1, close: 1.5, volume: Number.POSITIVE_INFINITY })).toThrow(
      'VWAP input volume must be a finite number, got Infinity',
    );
    expect(vwap.result).toBeNull();
  });

  it('rejects a bar whose typical price times volume overflows', () => {
    expect(() => new VWAP().update({ high: 1e300, low: 1e300, close: 1e300, volume: 1e300 })).toThrow(
      /VWAP input overflows: typical price × volume is not finite for \{"high":1e\+300/,
    );
  });
});
