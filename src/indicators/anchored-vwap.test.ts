import { VWAP as ReferenceVWAP } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { AnchoredVWAP, type AnchoredVwapBar } from './anchored-vwap.js';
import type { PriceBar } from './indicator.js';
import {
  badBars,
  compareWithReference,
  feed,
  randomBars,
  relativeError,
  testIndicatorContract,
} from './indicator-contract.test-kit.js';
import { VWAP } from './vwap.js';

const negativeVolume: PriceBar = { open: 1, high: 2, low: 0.5, close: 1.5, volume: -1, time: 0 };
// randomBars puts bar i at time 60·i, so an anchor at or before 0 covers every bar: the warm-up is
// then 1 bar, as the contract requires. Bars before the anchor are tested separately below.
const contract = {
  warmupPeriod: 1,
  inputs: randomBars(100, 3),
  corrections: randomBars(100, 4),
  badInputs: [...badBars(['high', 'low', 'close', 'volume', 'time']), negativeVolume],
};
testIndicatorContract('AnchoredVWAP(0), anchored at the first bar', () => new AnchoredVWAP(0), contract);
testIndicatorContract('AnchoredVWAP(-1e9), anchored long before', () => new AnchoredVWAP(-1e9), contract);

/** Σ tp·v / Σ v over the bars at or after `anchor` among `bars[0..to]`, summed directly. */
function directAnchoredVwap(bars: readonly AnchoredVwapBar[], anchor: number, to: number): number | null {
  let priceVolume = 0;
  let volume = 0;
  let last: number | null = null;
  for (let i = 0; i <= to; i += 1) {
    const bar = bars[i]!;
    if (bar.time < anchor) continue;
    last = (bar.high + bar.low + bar.close) / 3;
    priceVolume += last * bar.volume;
    volume += bar.volume;
  }
  return last === null || volume === 0 ? last : priceVolume / volume;
}

describe('AnchoredVWAP', () => {
  it('refuses an inconsistent bar (high < low, close outside the range), naming it', () => {
    const vwap = new AnchoredVWAP(0);
    expect(() => vwap.update({ high: 9, low: 11, close: 10, volume: 1, time: 0 })).toThrow(
      'AnchoredVWAP input is not a consistent bar: low 11 is above high 9',
    );
    expect(() => vwap.update({ high: 11, low: 9, close: 12, volume: 1, time: 0 })).toThrow(
      'AnchoredVWAP input is not a consistent bar: close 12 is outside [low 9, high 11]',
    );
    expect(vwap.update({ high: 11, low: 9, close: 11, volume: 1, time: 0 })).toBe(31 / 3);
  });

  it('ignores the bars before the anchor and averages those from it on', () => {
    const avwap = new AnchoredVWAP(120);
    const bars = [
      { time: 60, high: 11, low: 9, close: 10, volume: 100 },
      { time: 120, high: 13, low: 11, close: 12, volume: 300 },
      { time: 180, high: 15, low: 13, close: 14, volume: 100 },
    ];
    expect(avwap.update(bars[0]!)).toBeNull();
    expect(avwap.isWarm).toBe(false);
    expect(feed(avwap, bars.slice(1))).toEqual([12, 12.5]);
    expect(avwap.isWarm).toBe(true);
    expect(avwap.anchorTime).toBe(120);
  });

  it('gives the newest anchored typical price while the anchored bars have no volume', () => {
    const bars = [
      { time: 0, high: 9, low: 9, close: 9, volume: 50 },
      { time: 60, high: 12, low: 12, close: 12, volume: 0 },
      { time: 120, high: 13, low: 13, close: 13, volume: 0 },
      { time: 180, high: 10, low: 10, close: 10, volume: 10 },
      { time: 240, high: 16, low: 16, close: 16, volume: 0 },
    ];
    expect(feed(new AnchoredVWAP(60), bars)).toEqual([null, 12, 13, 10, 10]);
  });

  it('equals VWAP() over the bars from the anchor on, exactly', () => {
    const bars = randomBars(5_000, 41);
    const anchor = 60 * 1_234;
    const anchored = feed(new AnchoredVWAP(anchor), bars);
    expect(anchored.slice(0, 1_234).every((x) => x === null)).toBe(true);
    expect(anchored.slice(1_234)).toEqual(feed(new VWAP(), bars.slice(1_234)));
  });

  it('matches the batch formula on 5,000 random bars to 1e-9, for anchors before, inside and after', () => {
    const bars = randomBars(5_000, 42);
    for (const anchor of [-60, 0, 90, 60 * 2_500, 60 * 4_999, 60 * 5_000]) {
      const values = feed(new AnchoredVWAP(anchor), bars);
      values.forEach((value, i) => {
        const expected = directAnchoredVwap(bars, anchor, i);
        if (expected === null) expect(value).toBeNull();
        else expect(relativeError(value!, expected)).toBeLessThan(1e-9);
      });
    }
  });

  // trading-signals has no anchored VWAP; its cumulative VWAP fed only the bars from the anchor on
  // is the same definition.
  it('agrees with trading-signals VWAP fed the bars from the anchor on, to 1e-9', () => {
    const bars = randomBars(10_000, 43);
    const comparison = compareWithReference(
      new AnchoredVWAP(60 * 3_000),
      new ReferenceVWAP(),
      bars.slice(3_000),
    );
    expect(comparison).toMatchObject({ warmupMismatches: 0, compared: 7_000 });
    expect(comparison.worstRelativeError).toBeLessThan(1e-9);
  });

  it('replaces the newest bar exactly before, at and after the anchor, also across it', () => {
    const bars = randomBars(60, 44);
    const corrections = randomBars(60, 45);
    const anchor = 60 * 30;
    for (let length = 1; length <= bars.length; length += 1) {
      const newest = corrections[length - 1]!;
      // A correction that moves the bar across the anchor, in either direction.
      const moved = { ...newest, time: newest.time < anchor ? anchor : anchor - 60 };
      for (const correction of [newest, moved]) {
        const indicator = new AnchoredVWAP(anchor);
        feed(indicator, bars.slice(0, length));
        const expected = new AnchoredVWAP(anchor);
        const values = feed(expected, [...bars.slice(0, length - 1), correction]);
        expect(indicator.replace(correction)).toEqual(values.at(-1));
        expect(indicator.isWarm).toBe(expected.isWarm);
        expect(feed(indicator, bars.slice(length))).toEqual(feed(expected, bars.slice(length)));
      }
    }
  });

  it('ignores a bar older than the anchor that arrives after anchored ones', () => {
    const avwap = new AnchoredVWAP(60);
    avwap.update({ time: 60, high: 10, low: 10, close: 10, volume: 5 });
    expect(avwap.update({ time: 0, high: 99, low: 99, close: 99, volume: 5 })).toBe(10);
  });

  it('rejects an anchor that is not a finite number, naming it and the value', () => {
    expect(() => new AnchoredVWAP(Number.NaN)).toThrow(
      'AnchoredVWAP anchorTime must be a finite number of epoch seconds, got NaN',
    );
    expect(() => new AnchoredVWAP('2024-01-01' as never)).toThrow('got "2024-01-01"');
    expect(() => new AnchoredVWAP(Number.POSITIVE_INFINITY)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });

  it('rejects a bar without a finite time or with a negative volume', () => {
    const avwap = new AnchoredVWAP(0);
    const bar = { time: 0, high: 2, low: 1, close: 1.5, volume: 5 };
    expect(() => avwap.update({ ...bar, time: Number.NaN })).toThrow(
      'AnchoredVWAP input time must be a finite number, got NaN',
    );
    expect(() => avwap.update({ ...bar, volume: -5 })).toThrow(
      'AnchoredVWAP input volume must be ≥ 0, got -5',
    );
    expect(avwap.result).toBeNull();
  });
});

describe('AnchoredVWAP overflow', () => {
  it('refuses a bar whose typical price times volume overflows, as VWAP does', () => {
    const avwap = new AnchoredVWAP(0);
    expect(() => avwap.update({ time: 0, high: 1e300, low: 1e300, close: 1e300, volume: 1e300 })).toThrow(
      /AnchoredVWAP input overflows: typical price × volume is not finite/,
    );
    expect(avwap.result).toBeNull();
  });
});
