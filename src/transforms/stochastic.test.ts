import { Stochastic as TiStochastic } from 'technicalindicators';
import { StochasticOscillator } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from '../indicators/indicator-contract.test-kit.js';
import { Stochastic } from './stochastic.js';

testIndicatorContract('Stochastic(1)', () => new Stochastic(1), { warmupPeriod: 1 });
testIndicatorContract('Stochastic(3)', () => new Stochastic(3), { warmupPeriod: 3 });
testIndicatorContract('Stochastic()', () => new Stochastic(), { warmupPeriod: 14 });

/** A peer stochastic of bars, fed bars whose high, low and close are all the one value. */
function ofValues(stochOf: (bar: { high: number; low: number; close: number }) => number | null) {
  let result: number | null = null;
  const reference: ReferenceIndicator<number, number> = {
    add: (x) => (result = stochOf({ high: x, low: x, close: x })),
    getResult: () => result,
  };
  return reference;
}

describe('Stochastic', () => {
  it('places the newest input within the range of the last period inputs, in percent', () => {
    expect(feed(new Stochastic(3), [1, 3, 2, 2, 4, 0])).toEqual([null, null, 50, 0, 100, 0]);
    expect(feed(new Stochastic(4), [10, 20, 12.5, 15])).toEqual([null, null, null, 50]);
  });

  it('gives 0 on a flat window, and always 0 with period 1', () => {
    expect(feed(new Stochastic(3), [2, 2, 2, 3])).toEqual([null, null, 0, 100]);
    expect(feed(new Stochastic(1), [5, 7])).toEqual([0, 0]);
  });

  it('stays within [0, 100] and reaches both ends exactly', () => {
    const values = feed(new Stochastic(5), randomWalk(5_000, 3)).filter((x) => x !== null);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(100);
  });

  it('defaults to a period of 14', () => {
    expect(new Stochastic().warmupPeriod).toBe(14);
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new Stochastic(0)).toThrow('Stochastic period must be a positive integer, got 0');
    expect(() => new Stochastic(-2)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new Stochastic().replace(Number.NEGATIVE_INFINITY)).toThrow(
      'Stochastic input must be a finite number, got -Infinity',
    );
  });

  it('matches the batch formula on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42).map((x) => Math.round(x * 4) / 4); // ties and flat windows
    for (const period of [1, 2, 14, 100]) {
      const actual = feed(new Stochastic(period), inputs);
      actual.forEach((value, i) => {
        if (i + 1 < period) return expect(value).toBeNull();
        const window = inputs.slice(i + 1 - period, i + 1);
        const [max, min] = [Math.max(...window), Math.min(...window)];
        const expected = max === min ? 0 : ((inputs[i]! - min) / (max - min)) * 100;
        expect(relativeError(value!, expected)).toBeLessThan(1e-9);
      });
    }
  });

  // trading-signals' StochasticOscillator is a stochastic of bars; with high = low = close = x,
  // kSlowingPeriod 1 and dPeriod 1, its stochK is this %K (also 0 on a flat window).
  it('agrees with trading-signals StochasticOscillator’s raw %K on a random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42).map((x) => Math.round(x * 4) / 4);
    for (const period of [1, 2, 14, 100]) {
      const peer = new StochasticOscillator({ kPeriod: period, kSlowingPeriod: 1, dPeriod: 1 });
      const reference = ofValues((bar) => (peer.add(bar), peer.getResult()?.stochK ?? null));
      const comparison = compareWithReference(new Stochastic(period), reference, inputs);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // technicalindicators' Stochastic likewise, fed high = low = close = x; 0 on a flat window too.
  it('agrees with technicalindicators Stochastic’s %K on a random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42).map((x) => Math.round(x * 4) / 4);
    for (const period of [1, 2, 14, 100]) {
      const peer = new TiStochastic({ period, signalPeriod: 1, high: [], low: [], close: [] });
      // Its nextValue is typed as taking arrays but reads one { high, low, close } bar.
      const next = peer.nextValue.bind(peer) as unknown as (bar: object) => { k: number } | undefined;
      const comparison = compareWithReference(
        new Stochastic(period),
        ofValues((bar) => next(bar)?.k ?? null),
        inputs,
      );
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
