import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { SeededRandom } from './random.js';

function draws(random: SeededRandom, count: number, draw: (r: SeededRandom) => number): number[] {
  return Array.from({ length: count }, () => draw(random));
}

describe('SeededRandom', () => {
  // Reference: Vigna's xoshiro128starstar.c with s[0..3] = low/high 32 bits of the first two
  // outputs of splitmix64.c seeded with the seed (as an unsigned 64-bit integer), built with gcc.
  it('matches the reference C xoshiro128** seeded by splitmix64', () => {
    const expected: Record<number, number[]> = {
      0: [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774],
      1: [1695105466, 1423115009, 634581793, 1068227753, 716759206, 4186505319],
      42: [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222],
      [-1]: [477689756, 2493998634, 555695776, 607808419, 61340979, 301466976],
      [Number.MAX_SAFE_INTEGER]: [1233166643, 1287031142, 661813442, 2960669951, 2601079046, 1036114921],
    };
    for (const [seed, outputs] of Object.entries(expected)) {
      expect(draws(new SeededRandom(Number(seed)), 6, (r) => r.nextUint32())).toEqual(outputs);
    }
  });

  it('repeats the same sequence for the same seed, and after reset', () => {
    const a = new SeededRandom(123);
    const b = new SeededRandom(123);
    const first = draws(a, 1_000, (r) => r.normal());
    expect(draws(b, 1_000, (r) => r.normal())).toEqual(first);
    a.reset();
    expect(draws(a, 1_000, (r) => r.normal())).toEqual(first);
  });

  it('gives different sequences for different seeds', () => {
    const a = draws(new SeededRandom(1), 100, (r) => r.next());
    const b = draws(new SeededRandom(2), 100, (r) => r.next());
    expect(a).not.toEqual(b);
    expect(draws(new SeededRandom(2 ** 32), 4, (r) => r.nextUint32())).not.toEqual(
      draws(new SeededRandom(0), 4, (r) => r.nextUint32()),
    );
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const random = new SeededRandom(9);
    let sum = 0;
    let sumSquares = 0;
    let outside = 0;
    const count = 1_000_000;
    for (let i = 0; i < count; i += 1) {
      const u = random.next();
      if (!(u >= 0 && u < 1)) outside += 1;
      sum += u;
      sumSquares += u * u;
    }
    const mean = sum / count;
    expect(outside).toBe(0);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.002);
    expect(Math.abs(sumSquares / count - mean * mean - 1 / 12)).toBeLessThan(0.001);
  });

  it('draws standard normals: mean 0, variance 1, no skew, kurtosis 3 over 1,000,000 draws', () => {
    const random = new SeededRandom(2024);
    const count = 1_000_000;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (let i = 0; i < count; i += 1) {
      const z = random.normal();
      m1 += z;
      m2 += z * z;
      m3 += z * z * z;
      m4 += z * z * z * z;
    }
    expect(Math.abs(m1 / count)).toBeLessThan(0.005);
    expect(Math.abs(m2 / count - 1)).toBeLessThan(0.01);
    expect(Math.abs(m3 / count)).toBeLessThan(0.02);
    expect(Math.abs(m4 / count - 3)).toBeLessThan(0.05);
  });

  it('rejects a seed that is not a safe integer', () => {
    expect(() => new SeededRandom(1.5)).toThrow('SeededRandom seed must be a safe integer, got 1.5');
    expect(() => new SeededRandom(Number.NaN)).toThrow('got NaN');
    expect(() => new SeededRandom(2 ** 60)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });
});
