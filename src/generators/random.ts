import { ErrorCode, QmtlError, quote } from '../common/errors.js';

const TWO_POW_26 = 67_108_864;
const TWO_POW_53 = 9_007_199_254_740_992;
const TWO_POW_MINUS_31 = 1 / 2_147_483_648;
const MASK_64 = (1n << 64n) - 1n;

/** One step of splitmix64 (Steele, Lea & Flood), the seeding Vigna recommends for xoshiro. */
function splitmix64(state: bigint): { state: bigint; output: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK_64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return { state: next, output: z ^ (z >> 31n) };
}

/**
 * A seeded pseudo-random generator: xoshiro128** (Blackman & Vigna) with its 128-bit state
 * filled from the seed by splitmix64. Pure 32-bit integer arithmetic (`Math.imul`, shifts), so a
 * seed gives the same `nextUint32()`/`next()` sequence on every platform; `normal()` adds only
 * `Math.sqrt` (exact in IEEE 754) and `Math.log` (the same fdlibm port in every Node build).
 *
 * @example
 * const random = new SeededRandom(42);
 * random.next();   // uniform in [0, 1)
 * random.normal(); // standard normal
 */
export class SeededRandom {
  /** The seed this generator started from. */
  readonly seed: number;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = 0;
  private hasSpare = false;

  /**
   * @param seed any safe integer (negative seeds are taken modulo 2^64).
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` when the seed is not a safe integer.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      const shown = typeof seed === 'number' ? String(seed) : quote(seed);
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `SeededRandom seed must be a safe integer, got ${shown}`,
      );
    }
    this.seed = seed;
    this.reset();
  }

  /** Restarts the sequence from the seed. */
  reset(): void {
    // State words: low then high 32 bits of the first two splitmix64 outputs.
    const first = splitmix64(BigInt.asUintN(64, BigInt(this.seed)));
    const second = splitmix64(first.state);
    this.s0 = Number(first.output & 0xffffffffn) | 0;
    this.s1 = Number(first.output >> 32n) | 0;
    this.s2 = Number(second.output & 0xffffffffn) | 0;
    this.s3 = Number(second.output >> 32n) | 0;
    this.hasSpare = false;
    this.spare = 0;
  }

  /** The next raw 32-bit output, an integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const rotated = Math.imul(s1, 5);
    const result = Math.imul((rotated << 7) | (rotated >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits (two 32-bit outputs). */
  next(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * TWO_POW_26 + low) / TWO_POW_53;
  }

  /** A standard normal draw (Marsaglia's polar method; the second value of each pair is cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    // One 32-bit output per coordinate (a 2^-31 grid) keeps this fast; the tails still reach ~9σ.
    do {
      u = this.nextUint32() * TWO_POW_MINUS_31 - 1;
      v = this.nextUint32() * TWO_POW_MINUS_31 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const scale = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * scale;
    this.hasSpare = true;
    return u * scale;
  }
}
