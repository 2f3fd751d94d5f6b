import { ROC as TiROC } from 'technicalindicators';
import { ROC as TsROC } from 'trading-signals';
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
import { RateOfChange } from './rate-of-change.js';

testIndicatorContract('RateOfChange(1)', () => new RateOfChange(1), { warmupPeriod: 2 });
testIndicatorContract('RateOfChange(5)', () => new RateOfChange(5), { warmupPeriod: 6 });
testIndicatorContract('RateOfChange(30)', () => new RateOfChange(30), { warmupPeriod: 31 });

/** technicalindicators' ROC through the reference interface (`nextValue` is undefined until ready). */
function tiRoc(period: number): ReferenceIndicator<number, number> {
  const roc = new TiROC({ period, values: [] });
  let last: number | undefined;
  return { add: (x) => (last = roc.nextValue(x)), getResult: () => last ?? null };
}

describe('RateOfChange', () => {
  it('gives the change over period inputs as a fraction of the older value', () => {
    expect(feed(new RateOfChange(2), [100, 105, 110, 84, 121])).toEqual([null, null, 0.1, -0.2, 0.1]);
    expect(feed(new RateOfChange(), [4, 5, 2])).toEqual([null, 0.25, -0.6]);
    expect(feed(new RateOfChange(), [-2, -1])).toEqual([null, -0.5]);
  });

  it('gives null (and is not warm) for an input whose base is 0, then resumes', () => {
    const roc = new RateOfChange(2);
    expect(feed(roc, [100, 0, 110, 5])).toEqual([null, null, 0.1, null]);
    expect(roc.isWarm).toBe(false);
    expect(roc.update(121)).toBe(0.1);
    expect(roc.isWarm).toBe(true);
  });

  it('defaults to a period of 1', () => {
    expect(new RateOfChange().warmupPeriod).toBe(2);
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new RateOfChange(0)).toThrow('RateOfChange period must be a positive integer, got 0');
    expect(() => new RateOfChange(2.5)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new RateOfChange().update(Number.NaN)).toThrow(
      'RateOfChange input must be a finite number, got NaN',
    );
  });

  it('matches the batch formula on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [1, 2, 14, 100]) {
      const actual = feed(new RateOfChange(period), inputs);
      actual.forEach((value, i) => {
        if (i < period) expect(value).toBeNull();
        else {
          const base = inputs[i - period]!;
          expect(relativeError(value!, (inputs[i]! - base) / base)).toBeLessThan(1e-9);
        }
      });
    }
  });

  // trading-signals' ROC(n) is the same fraction, from input n + 1.
  it('agrees with trading-signals ROC on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [1, 2, 14, 100]) {
      const comparison = compareWithReference(new RateOfChange(period), new TsROC(period), inputs);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // technicalindicators' ROC is the same change in percent: ours × 100.
  it('agrees with technicalindicators ROC (in percent) on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [1, 2, 14, 100]) {
      const comparison = compareWithReference(new RateOfChange(period), tiRoc(period), inputs, {
        select: (fraction) => [100 * fraction],
      });
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
