import { describe, expect, it } from 'vitest';
import { crc32, crc32OfList } from './crc32.js';
import { sha256Hex } from './hash.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('crc32', () => {
  it('matches the standard check value for "123456789"', () => {
    expect(crc32(utf8('123456789'))).toBe(0xcbf43926);
  });

  it('returns 0 for no bytes', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('continues from a previous crc exactly as over the concatenation', () => {
    const head = utf8('hello, ');
    const tail = utf8('wörld');
    expect(crc32(tail, crc32(head))).toBe(crc32(utf8('hello, wörld')));
  });

  it('returns an unsigned 32-bit integer', () => {
    // zlib.crc32(b'a') = 3904355907, above 2^31, so a signed result would be negative.
    const value = crc32(utf8('a'));
    expect(value).toBe(3904355907);
    expect(Number.isInteger(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThan(2 ** 32);
  });
});

describe('crc32OfList', () => {
  // Expected values: python3 zlib.crc32(''.join(ids).encode())
  it.each([
    [['a'], 3904355907],
    [['A', 'B'], 812207111],
    [['hello', 'world'], 4192936109],
    [['node-α', 'ノード', '📈'], 1152852678],
    [
      [
        '6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b',
        'd4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35',
        '4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce',
      ],
      2312021635,
    ],
  ])('equals zlib.crc32 of the concatenated UTF-8 of %j', (ids, expected) => {
    expect(crc32OfList(ids)).toBe(expected);
  });

  it('gives ["A", "B"] the same crc as ["AB"]', () => {
    expect(crc32OfList(['A', 'B'])).toBe(crc32OfList(['AB']));
  });

  it('depends on the order of the ids', () => {
    expect(crc32OfList(['A', 'B'])).not.toBe(crc32OfList(['B', 'A']));
  });

  it('returns 0 for an empty list', () => {
    expect(crc32OfList([])).toBe(0);
  });

  it('accepts any iterable of strings', () => {
    function* ids(): Generator<string> {
      yield 'hello';
      yield 'world';
    }
    expect(crc32OfList(ids())).toBe(4192936109);
  });

  it('always returns an unsigned 32-bit integer', () => {
    for (let i = 0; i < 200; i++) {
      const value = crc32OfList([sha256Hex(String(i)), `node-${i}`]);
      expect(Number.isInteger(value) && value >= 0 && value < 2 ** 32).toBe(true);
    }
  });
});
