import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { SeededRandom } from '../generators/random.js';
import type { PriceBar, StreamingIndicator } from './indicator.js';

/** Options of {@link testIndicatorContract}. Bar indicators pass `inputs`, `corrections` and `badInputs`. */
export interface IndicatorContractOptions<In> {
  /** The `warmupPeriod` the indicator must report. */
  readonly warmupPeriod: number;
  /** Inputs that drive the checks; defaults to a seeded random walk of `3 × warmupPeriod + 40`. */
  readonly inputs?: readonly In[];
  /** Replacement inputs, as many as `inputs`; defaults to another seeded random walk. */
  readonly corrections?: readonly In[];
  /** Inputs `update` and `replace` must reject; defaults to NaN and ±Infinity. */
  readonly badInputs?: readonly In[];
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

/**
 * `length` seeded OHLCV bars one minute apart (`time` = 60·i): closes follow a random walk from
 * 100, `open` is the previous close, `high`/`low` extend past both, volume in [500, 1500).
 */
export function randomBars(length: number, seed = 1): PriceBar[] {
  const random = new SeededRandom(seed);
  const bars: PriceBar[] = [];
  let close = 100;
  for (let i = 0; i < length; i += 1) {
    const open = close;
    close = Math.max(1, close + random.normal());
    const high = Math.max(open, close) + Math.abs(random.normal()) * 0.5;
    const low = Math.max(0.5, Math.min(open, close) - Math.abs(random.normal()) * 0.5);
    bars.push({ open, high, low, close, volume: 500 + 1000 * random.next(), time: 60 * i });
  }
  return bars;
}

/** Bars with one non-finite or missing field each: what bar indicators must reject. */
export function badBars(fields: readonly (keyof PriceBar)[]): PriceBar[] {
  const good: PriceBar = { open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, time: 0 };
  return fields.flatMap((field): PriceBar[] => [
    { ...good, [field]: Number.NaN },
    { ...good, [field]: Number.POSITIVE_INFINITY },
    { ...good, [field]: undefined },
  ]);
}

/** True for a finite number, or a record whose values are all finite numbers. */
export function isFiniteResult(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** `|actual − expected| / max(|expected|, 1e-300)`: the relative error of `actual`. */
export function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
}

/** An indicator with trading-signals' interface: `add(x)` then `getResult()` (`null` until stable). */
export interface ReferenceIndicator<RefIn = number, RefOut = number> {
  add(value: RefIn): unknown;
  getResult(): RefOut | null;
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

/** How to line up an indicator with a reference of another shape. */
export interface CompareOptions<In, Out, RefIn, RefOut> {
  /** First input index whose results are compared (warm-up is compared everywhere). Default 0. */
  readonly from?: number;
  /** Turns our input into the reference's. Default: the same value. */
  readonly adapt?: (value: In) => RefIn;
  /** The numbers to compare, ours and the reference's, in the same order. Default: the result. */
  readonly select?: (result: Out) => readonly number[];
  readonly selectReference?: (result: RefOut) => readonly number[];
}

/**
 * Feeds `inputs` to both; compares warm-up everywhere and results from input index `from` on.
 * @example compareWithReference(new ATR(14), new ReferenceATR(14), bars, { adapt: (b) => b })
 */
export function compareWithReference<In, Out, RefIn = In, RefOut = Out>(
  indicator: StreamingIndicator<In, Out>,
  reference: ReferenceIndicator<RefIn, RefOut>,
  inputs: readonly In[],
  fromOrOptions: number | CompareOptions<In, Out, RefIn, RefOut> = {},
): ReferenceComparison {
  const options = typeof fromOrOptions === 'number' ? { from: fromOrOptions } : fromOrOptions;
  const { from = 0 } = options;
  const adapt = options.adapt ?? ((x: In) => x as unknown as RefIn);
  const select = options.select ?? ((r: Out) => [r as unknown as number]);
  const selectReference = options.selectReference ?? ((r: RefOut) => [r as unknown as number]);
  let warmupMismatches = 0;
  let worstRelativeError = 0;
  let compared = 0;
  inputs.forEach((x, i) => {
    const actual = indicator.update(x);
    reference.add(adapt(x));
    const expected = reference.getResult();
    if ((actual === null) !== (expected === null)) warmupMismatches += 1;
    else if (actual !== null && expected !== null && i >= from) {
      const ours = select(actual);
      const theirs = selectReference(expected);
      ours.forEach((value, k) => {
        worstRelativeError = Math.max(worstRelativeError, relativeError(value, Number(theirs[k])));
      });
      compared += 1;
    }
  });
  return { warmupMismatches, worstRelativeError, compared };
}

/** Feeds `inputs` to `indicator` and returns what each `update` returned. */
export function feed<In, Out>(indicator: StreamingIndicator<In, Out>, inputs: readonly In[]): (Out | null)[] {
  return inputs.map((x) => indicator.update(x));
}

/** The shape of an indicator's own state: field names plus the length of any array-like field. */
function stateShape(indicator: object): string {
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
export function testIndicatorContract<In = number, Out = number>(
  name: string,
  create: () => StreamingIndicator<In, Out>,
  options: IndicatorContractOptions<In>,
): void {
  const { warmupPeriod } = options;
  const inputs = options.inputs ?? (randomWalk(3 * warmupPeriod + 40, 7) as In[]);
  const corrections = options.corrections ?? (randomWalk(inputs.length, 11) as In[]);
  const badInputs =
    options.badInputs ?? ([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] as In[]);
  const correction = (i: number): In => corrections[i % corrections.length]!;

  describe(`${name} follows the StreamingIndicator contract`, () => {
    it('reports its warm-up period', () => {
      expect(create().warmupPeriod).toBe(warmupPeriod);
    });

    it('returns null until warm and finite results from input warmupPeriod on', () => {
      const indicator = create();
      expect(indicator.result).toBeNull();
      expect(indicator.isWarm).toBe(false);
      inputs.forEach((x, i) => {
        const value = indicator.update(x);
        if (i < warmupPeriod - 1) {
          expect(value).toBeNull();
          expect(indicator.isWarm).toBe(false);
        } else {
          expect(isFiniteResult(value), `result ${JSON.stringify(value)} after input ${i}`).toBe(true);
          expect(indicator.isWarm).toBe(true);
        }
      });
    });

    it('returns from update the same value as result', () => {
      const indicator = create();
      for (const x of inputs) expect(indicator.update(x)).toBe(indicator.result);
      expect(indicator.replace(correction(0))).toBe(indicator.result);
    });

    it('gives identical results after reset', () => {
      const indicator = create();
      const first = feed(indicator, inputs);
      indicator.replace(correction(0));
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
        const corrected = [...inputs.slice(0, length - 1), correction(length - 1)];
        const indicator = create();
        feed(indicator, inputs.slice(0, length));
        const replaced = indicator.replace(correction(length - 1));
        const expected = create();
        expect(replaced).toEqual(feed(expected, corrected).at(-1));
        expect(indicator.result).toEqual(expected.result);
        expect(indicator.isWarm).toBe(expected.isWarm);
      }
    });

    it('replaces repeatedly and keeps updating from the corrected state', () => {
      const indicator = create();
      const expected = create();
      inputs.forEach((x, i) => {
        indicator.update(correction(i + 1));
        indicator.replace(correction(i + 2));
        indicator.replace(correction(i));
        expect(indicator.replace(x)).toEqual(expected.update(x));
        expect(indicator.result).toEqual(expected.result);
      });
    });

    it('behaves like update when replacing before any update', () => {
      const indicator = create();
      const expected = create();
      expect(indicator.replace(inputs[0]!)).toEqual(expected.update(inputs[0]!));
      expect(feed(indicator, inputs.slice(1))).toEqual(feed(expected, inputs.slice(1)));
    });

    it('rejects non-finite inputs and keeps its state', () => {
      const indicator = create();
      const expected = create();
      feed(indicator, inputs.slice(0, warmupPeriod));
      feed(expected, inputs.slice(0, warmupPeriod));
      for (const bad of badInputs) {
        const invalid: unknown = expect.objectContaining({ code: ErrorCode.InvalidArgument });
        expect(() => indicator.update(bad)).toThrow(invalid);
        expect(() => indicator.replace(bad)).toThrow(invalid);
        if (typeof bad === 'number') expect(() => indicator.update(bad)).toThrow(String(bad));
      }
      expect(indicator.result).toEqual(expected.result);
      expect(feed(indicator, inputs.slice(warmupPeriod))).toEqual(feed(expected, inputs.slice(warmupPeriod)));
    });

    it('keeps a constant-size state', () => {
      const indicator = create();
      feed(indicator, inputs);
      const shape = stateShape(indicator);
      feed(
        indicator,
        Array.from({ length: 10_000 }, (_, i) => inputs[i % inputs.length]!),
      );
      expect(stateShape(indicator)).toBe(shape);
    });
  });
}
