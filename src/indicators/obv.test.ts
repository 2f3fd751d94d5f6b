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

/** The textbook OBV of every prefix of `bars`, recomputed from scratch. */
function batchObv(bars: readonly ObvBar[]): number[] {
  const out: number[] = [];
  let total = 0;
  bars.forEach((bar, i) => {
    const previous = bars[i - 1];
    if (previous !== undefined) total += Math.sign(bar.close - previous.close) * bar.volume;
    out.push(total);
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

  it('matches the batch formula on 10,000 random bars, with and without repeated closes', () => {
    for (const bars of [randomBars(10_000, 21), flatBars(10_000, 22)]) {
      expect(feed(new OBV(), bars)).toEqual(batchObv(bars));
    }
  });

  // Both peers have no value on the first bar (they need a previous close) and start their totals
  // from 0 as we do, so from the second bar on the values are the same: not even rounding differs,
  // since all three add the same volumes in the same order.
  it('agrees with trading-signals OBV(2) from the second bar on, exactly', () => {
    for (const bars of [randomBars(10_000, 23), flatBars(10_000, 24)]) {
      const comparison = compareWithReference(new OBV(), new ReferenceOBV(2), bars);
      expect(comparison).toEqual({ warmupMismatches: 1, worstRelativeError: 0, compared: bars.length - 1 });
    }
  });

  it('agrees with technicalindicators OBV from the second bar on, exactly', () => {
    for (const bars of [randomBars(10_000, 25), flatBars(10_000, 26)]) {
      const comparison = compareWithReference(new OBV(), technicalIndicatorsObv(), bars);
      expect(comparison).toEqual({ warmupMismatches: 1, worstRelativeError: 0, compared: bars.length - 1 });
    }
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
