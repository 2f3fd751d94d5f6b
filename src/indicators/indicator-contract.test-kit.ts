import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { SeededRandom } from '../generators/random.js';
import type { StreamingIndicator } from './indicator.js';

/** Options of {@link testIndicatorContract}. */
export interface IndicatorContractOptions {
  /** The `warmupPeriod` the indicator must report. */
  readonly warmupPeriod: number;
  /** Inputs that drive the checks; defaults to a seeded random walk of `3 × warmupPeriod + 40`. */
  readonly inputs?: readonly number[];
}

/** A seeded random walk of `length` prices starting at 100 (steps ~ N(0, 1)). */
export function randomWalk(length: number, seed = 1): number[] {
  const random = new SeededRandom(seed);
  const prices: number[] = [];
  let price = 100;
  for (let i = 0; i < length; i += 1) {
    price += random.normal();
    prices.push(price);
  }
  return prices;
}

/** `|actual − expected| / max(|expected|, 1e-300)`: the relative error of `actual`. */
export function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
}

/** An indicator with trading-signals' interface: `add(x)` then `getResult()` (`null` until stable). */
export interface ReferenceIndicator {
  add(value: number): unknown;
  getResult(): number | null;
}

/** How an indicator compares with a reference over a series; see {@link compareWithReference}. */
export interface ReferenceComparison {
  /** Inputs after which exactly one of the two had a result. */
  readonly warmupMismatches: number;
  /** Largest relative error over the results compared. */
  readonly worstRelativeError: number;
  /** Number of results compared. */
  readonly compared: number;
}

/** Feeds `inputs` to both; compares warm-up everywhere and results from input index `from` on. */
export function compareWithReference(
  indicator: StreamingIndicator,
  reference: ReferenceIndicator,
  inputs: readonly number[],
  from = 0,
): ReferenceComparison {
  let warmupMismatches = 0;
  let worstRelativeError = 0;
  let compared = 0;
  inputs.forEach((x, i) => {
    const actual = indicator.update(x);
    reference.add(x);
    const expected = reference.getResult();
    if ((actual === null) !== (expected === null)) warmupMismatches += 1;
    else if (actual !== null && expected !== null && i >= from) {
      worstRelativeError = Math.max(worstRelativeError, relativeError(actual, expected));
      compared += 1;
    }
  });
  return { warmupMismatches, worstRelativeError, compared };
}

/** Feeds `inputs` to `indicator` and returns what each `update` returned. */
export function feed(indicator: StreamingIndicator, inputs: readonly number[]): (number | null)[] {
  return inputs.map((x) => indicator.update(x));
}

/** The shape of an indicator's own state: field names plus the length of any array-like field. */
function stateShape(indicator: StreamingIndicator): string {
  return Object.entries(indicator)
    .map(([key, value]) => {
      const length =
        ArrayBuffer.isView(value) || Array.isArray(value) ? (value as ArrayLike<unknown>).length : '';
      return `${key}${length === '' ? '' : `[${length}]`}`;
    })
    .join(',');
}

/**
 * The contract every {@link StreamingIndicator} passes: warm-up, `update` ≡ `result`, `reset`,
 * exact `replace` (also while warming up and repeated), determinism, input validation and a
 * state that does not grow. Call it from the indicator's own test file.
 *
 * @example
 * testIndicatorContract('SMA(5)', () => new SMA(5), { warmupPeriod: 5 });
 */
export function testIndicatorContract(
  name: string,
  create: () => StreamingIndicator,
  options: IndicatorContractOptions,
): void {
  const { warmupPeriod } = options;
  const inputs = options.inputs ?? randomWalk(3 * warmupPeriod + 40, 7);
  const corrections = randomWalk(inputs.length, 11);

  describe(`${name} follows the StreamingIndicator contract`, () => {
    it('reports its warm-up period', () => {
      expect(create().warmupPeriod).toBe(warmupPeriod);
    });

    it('returns null until warm and a number from input warmupPeriod on', () => {
      const indicator = create();
      expect(indicator.result).toBeNull();
      expect(indicator.isWarm).toBe(false);
      inputs.forEach((x, i) => {
        const value = indicator.update(x);
        if (i < warmupPeriod - 1) {
          expect(value).toBeNull();
          expect(indicator.isWarm).toBe(false);
        } else {
          expect(typeof value).toBe('number');
          expect(Number.isFinite(value)).toBe(true);
          expect(indicator.isWarm).toBe(true);
        }
      });
    });

    it('returns from update the same value as result', () => {
      const indicator = create();
      for (const x of inputs) expect(indicator.update(x)).toBe(indicator.result);
      expect(indicator.replace(1)).toBe(indicator.result);
    });

    it('gives identical results after reset', () => {
      const indicator = create();
      const first = feed(indicator, inputs);
      indicator.replace(corrections[0]!);
      indicator.reset();
      expect(indicator.result).toBeNull();
      expect(indicator.isWarm).toBe(false);
      expect(feed(indicator, inputs)).toEqual(first);
    });

    it('is deterministic', () => {
      expect(feed(create(), inputs)).toEqual(feed(create(), inputs));
    });

    it('replaces the newest input exactly, while warming up and after', () => {
      for (let length = 1; length <= inputs.length; length += 1) {
        const corrected = [...inputs.slice(0, length - 1), corrections[length - 1]!];
        const indicator = create();
        feed(indicator, inputs.slice(0, length));
        const replaced = indicator.replace(corrections[length - 1]!);
        const expected = create();
        expect(replaced).toBe(feed(expected, corrected).at(-1));
        expect(indicator.result).toBe(expected.result);
        expect(indicator.isWarm).toBe(expected.isWarm);
      }
    });

    it('replaces repeatedly and keeps updating from the corrected state', () => {
      const indicator = create();
      const expected = create();
      inputs.forEach((x, i) => {
        indicator.update(x + 5);
        indicator.replace(x - 3);
        indicator.replace(corrections[i]!);
        expect(indicator.replace(x)).toBe(expected.update(x));
        expect(indicator.result).toBe(expected.result);
      });
    });

    it('behaves like update when replacing before any update', () => {
      const indicator = create();
      const expected = create();
      expect(indicator.replace(inputs[0]!)).toBe(expected.update(inputs[0]!));
      expect(feed(indicator, inputs.slice(1))).toEqual(feed(expected, inputs.slice(1)));
    });

    it('rejects non-finite inputs and keeps its state', () => {
      const indicator = create();
      const expected = create();
      feed(indicator, inputs.slice(0, warmupPeriod));
      feed(expected, inputs.slice(0, warmupPeriod));
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        expect(() => indicator.update(bad)).toThrow(
          expect.objectContaining({ code: ErrorCode.InvalidArgument }),
        );
        expect(() => indicator.replace(bad)).toThrow(String(bad));
      }
      expect(indicator.result).toBe(expected.result);
      expect(feed(indicator, inputs.slice(warmupPeriod))).toEqual(feed(expected, inputs.slice(warmupPeriod)));
    });

    it('keeps a constant-size state', () => {
      const indicator = create();
      feed(indicator, inputs);
      const shape = stateShape(indicator);
      feed(indicator, randomWalk(10_000, 3));
      expect(stateShape(indicator)).toBe(shape);
    });
  });
}
