import { OBV as TiOBV } from 'technicalindicators';
import { OBV as ReferenceOBV } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import type { PriceBar } from './indicator.js';
import {
  badBars,
  compareWithReference,
  feed,
  randomBars,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';
import { OBV, type ObvBar } from './obv.js';

const negativeVolume: PriceBar = { open: 1, high: 2, low: 0.5, close: 1.5, volume: -1, time: 0 };

testIndicatorContract('OBV()', () => new OBV(), {
  warmupPeriod: 1,
  inputs: randomBars(80, 3),
  corrections: randomBars(80, 4),
  badInputs: [...badBars(['close', 'volume']), negativeVolume],
});

// Closes rounded to whole numbers, so that unchanged closes (which leave OBV as it is) occur often.
const flatBars = (length: number, seed: number): PriceBar[] =>
  randomBars(length, seed).map((bar) => ({ ...bar, close: Math.round(bar.close / 2) }));

testIndicatorContract('OBV() on closes with repeats', () => new OBV(), {
  warmupPeriod: 1,
  inputs: flatBars(80, 3),
  corrections: flatBars(80, 4),
  badInputs: badBars(['close', 'volume']),
});

/** 2^70: every volume of these tests (≥ 2^-10 or 0) is a whole number of 2^-70 units. */
const UNIT = 2 ** 70;

/** A volume in exact units of 2^-70 (scaling by a power of 2 is exact). */
function units(volume: number): bigint {
  const scaled = volume * UNIT;
  if (!Number.isInteger(scaled)) throw new Error(`volume ${volume} is not a whole number of units`);
  return BigInt(scaled);
}

/**
 * The textbook OBV of every prefix of `bars`, summed exactly (in BigInt units of 2^-70) and rounded
 * once (`Number` of a BigInt rounds to nearest; dividing by a power of 2 is exact).
 */
function batchObv(bars: readonly ObvBar[]): number[] {
  const out: number[] = [];
  let total = 0n;
  bars.forEach((bar, i) => {
    const previous = bars[i - 1];
    if (previous !== undefined) {
      if (bar.close > previous.close) total += units(bar.volume);
      else if (bar.close < previous.close) total -= units(bar.volume);
    }
    out.push(Number(total) / UNIT);
  });
  return out;
}

/** technicalindicators' OBV through the reference interface (`nextValue` gives undefined until ready). */
function technicalIndicatorsObv(): ReferenceIndicator<PriceBar> {
  const indicator = new TiOBV({ close: [], volume: [] });
  let last: number | null = null;
  return {
    add: (bar) => (last = indicator.nextValue(bar) ?? null),
    getResult: () => last,
  };
}

describe('OBV', () => {
  it('starts at 0 and adds, subtracts or keeps the volume as the close rises, falls or holds', () => {
    const bars = [
      { close: 10, volume: 100 },
      { close: 11, volume: 200 },
      { close: 10.5, volume: 50 },
      { close: 10.5, volume: 70 },
      { close: 12, volume: 30 },
    ];
    expect(feed(new OBV(), bars)).toEqual([0, 200, 150, 150, 180]);
  });

  it('ignores the first bar’s volume and any bar fields it does not read', () => {
    expect(feed(new OBV(), [{ close: 5, volume: 1e6, high: Number.NaN } as ObvBar])).toEqual([0]);
  });

  it('matches the exactly summed batch formula on 10,000 random bars, with and without repeated closes', () => {
    for (const bars of [randomBars(10_000, 21), flatBars(10_000, 22)]) {
      expect(feed(new OBV(), bars)).toEqual(batchObv(bars));
    }
  });

  // Both peers have no value on the first bar (they need a previous close) and start their totals
  // from 0 as we do, so from the second bar on the values are the same up to the rounding of their
  // plain running sums (ours is compensated).
  it('agrees with trading-signals OBV(2) from the second bar on to 1e-9', () => {
    for (const bars of [randomBars(10_000, 23), flatBars(10_000, 24)]) {
      const comparison = compareWithReference(new OBV(), new ReferenceOBV(2), bars);
      expect(comparison).toMatchObject({ warmupMismatches: 1, compared: bars.length - 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  it('agrees with technicalindicators OBV from the second bar on to 1e-9', () => {
    for (const bars of [randomBars(10_000, 25), flatBars(10_000, 26)]) {
      const comparison = compareWithReference(new OBV(), technicalIndicatorsObv(), bars);
      expect(comparison).toMatchObject({ warmupMismatches: 1, compared: bars.length - 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // Volumes with three decimals: a plain running sum drifted to 951259.4970000207 for 951259.497
  // over 1,000,000 bars in the cross-check.
  it('does not drift over 1,000,000 bars: every total is the exact one, rounded', () => {
    const bars = randomBars(1_000_000, 27).map((bar) => ({
      close: bar.close,
      volume: Math.round(bar.volume * 1000) / 1000,
    }));
    const actual = feed(new OBV(), bars);
    const expected = batchObv(bars);
    let mismatches = 0;
    let worst = 0;
    actual.forEach((value, i) => {
      if (value === expected[i]) return;
      mismatches += 1;
      worst = Math.max(worst, Math.abs(value! - expected[i]!));
    });
    expect({ mismatches, worst }).toEqual({ mismatches: 0, worst: 0 });
  });

  it('rejects a negative volume and a non-finite close, naming the field and value', () => {
    const obv = new OBV();
    expect(() => obv.update({ close: 1, volume: -5 })).toThrow('OBV input volume must be ≥ 0, got -5');
    expect(() => obv.update({ close: Number.NaN, volume: 5 })).toThrow(
      'OBV input close must be a finite number, got NaN',
    );
    expect(() => obv.replace({ close: 1, volume: -5 })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
    expect(obv.result).toBeNull();
  });

  it('accepts zero volume', () => {
    expect(
      feed(new OBV(), [
        { close: 1, volume: 0 },
        { close: 2, volume: 0 },
      ]),
    ).toEqual([0, 0]);
  });
});
