import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex, sha3Hex } from './hash.js';

describe('sha256Hex', () => {
  it('matches the SPEC test vector for "null"', () => {
    expect(sha256Hex('null')).toBe('74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b');
  });

  it('matches the known digest of "{}"', () => {
    expect(sha256Hex('{}')).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('hashes the UTF-8 bytes of non-ASCII text', () => {
    // python3: hashlib.sha256('héllo wörld ✓'.encode()).hexdigest()
    expect(sha256Hex('héllo wörld ✓')).toBe(
      'c2a59c71097b678dc5af2eb1f98ddc575b63948b0fa6740071a945673aaada4d',
    );
  });

  it('returns 64 lowercase hex characters', () => {
    expect(sha256Hex('anything')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('sha3Hex', () => {
  it('matches Python hashlib.sha3_256 of the NodeID preimage', () => {
    // python3: hashlib.sha3_256(b'type:code:cfg:schema').hexdigest()
    expect(sha3Hex('type:code:cfg:schema')).toBe(
      '6240f1c128f451726def20ace5226f6b14441d68ae034ce9f504445d6dece32e',
    );
  });

  it('matches the FIPS 202 vectors for "" and "abc"', () => {
    expect(sha3Hex('')).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
    expect(sha3Hex('abc')).toBe('3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532');
  });

  it('hashes the UTF-8 bytes of non-ASCII text', () => {
    // python3: hashlib.sha3_256('héllo wörld ✓'.encode()).hexdigest()
    expect(sha3Hex('héllo wörld ✓')).toBe('db0e4856740aa94d6a79035032864ee8ee0a646f54a351c25cbe0d419292277d');
  });

  it('differs from sha256Hex of the same text', () => {
    expect(sha3Hex('type:code:cfg:schema')).not.toBe(sha256Hex('type:code:cfg:schema'));
  });
});

describe('canonicalJson', () => {
  it('encodes scalars like JSON', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(-2.5)).toBe('-2.5');
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
  });

  it('writes every string, key or value, exactly as JSON.stringify does', () => {
    const strings = [
      '',
      'plain ASCII ~!',
      'a\\b',
      'tab\tnew\nline',
      '\u0000\u001f\u007f',
      'é✓😀',
      '\ud800 lone',
      '</script>',
    ];
    for (const text of strings) {
      expect(canonicalJson(text)).toBe(JSON.stringify(text));
      expect(canonicalJson({ [text]: text })).toBe(`{${JSON.stringify(text)}:${JSON.stringify(text)}}`);
    }
  });

  it('sorts keys at every depth and writes no whitespace', () => {
    const value = { b: 1, a: { d: [1, 2], c: { z: true, y: null } } };
    expect(canonicalJson(value)).toBe('{"a":{"c":{"y":null,"z":true},"d":[1,2]},"b":1}');
  });

  it('gives the same text whatever the key order', () => {
    const first = { interval: 60, params: { window: 20, alpha: 0.5 }, inputs: ['x', 'y'] };
    const second = { inputs: ['x', 'y'], params: { alpha: 0.5, window: 20 }, interval: 60 };
    expect(canonicalJson(first)).toBe(canonicalJson(second));
  });

  it('keeps the order of array items', () => {
    expect(canonicalJson(['b', 'a', 'c'])).toBe('["b","a","c"]');
    expect(canonicalJson(['b', 'a'])).not.toBe(canonicalJson(['a', 'b']));
  });

  it('drops undefined object members', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('writes undefined array items as null, like JSON.stringify', () => {
    expect(canonicalJson([1, undefined, 2])).toBe('[1,null,2]');
  });

  it('writes a Date as its ISO string', () => {
    expect(canonicalJson({ at: new Date(Date.UTC(2024, 0, 1)) })).toBe('{"at":"2024-01-01T00:00:00.000Z"}');
  });

  it('accepts the same object referenced twice when it is not circular', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['a nested NaN', { a: [1, { b: NaN }] }],
    ['a function', { fn: () => 1 }],
    ['a bigint', { n: 10n }],
    ['a symbol', [Symbol('s')]],
    ['a top-level undefined', undefined],
  ])('throws a TypeError for %s', (_label, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });

  it('refuses a Map, Set, typed array or class instance, which would hash as its own keys', () => {
    class Window {
      constructor(readonly size: number) {}
    }
    expect(() => canonicalJson({ m: new Map([[1, 2]]) })).toThrow(
      /cannot encode a Map \(use plain objects and arrays\)/,
    );
    expect(() => canonicalJson([new Set([1])])).toThrow(/a Set/);
    expect(() => canonicalJson({ w: new Float64Array(2) })).toThrow(/a Float64Array/);
    expect(() => canonicalJson({ w: new Window(3) })).toThrow(/a Window/);
    expect(canonicalJson(Object.assign(Object.create(null), { a: 1 }))).toBe('{"a":1}');
  });

  it('throws a TypeError for a circular object', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular['self'] = { back: circular };
    expect(() => canonicalJson(circular)).toThrow(/circular/);
  });

  it('throws a TypeError for a circular array', () => {
    const circular: unknown[] = [1];
    circular.push(circular);
    expect(() => canonicalJson(circular)).toThrow(/circular/);
  });

  // Expected texts come from python3:
  //   json.dumps(x, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
  // (Python's default ensure_ascii=True would escape non-ASCII as \uXXXX; canonicalJson writes UTF-8.)
  it.each([
    [
      { zeta: { b: [3, { y: 'ü', x: '日本語' }], a: true }, alpha: null, Émile: 'naïve café' },
      '{"alpha":null,"zeta":{"a":true,"b":[3,{"x":"日本語","y":"ü"}]},"Émile":"naïve café"}',
    ],
    [
      { name: 'momentum 📈', params: { window: 20, source: 'Zürich' }, inputs: ['b', 'a'], interval: 60 },
      '{"inputs":["b","a"],"interval":60,"name":"momentum 📈","params":{"source":"Zürich","window":20}}',
    ],
    [
      { b: { d: { f: 'ß', e: [] }, c: {} }, a: [{ z: 1, y: -2.5 }], é: 'e', e: 'é' },
      '{"a":[{"y":-2.5,"z":1}],"b":{"c":{},"d":{"e":[],"f":"ß"}},"e":"é","é":"e"}',
    ],
    [
      { quote: 'say "hi"\n\ttab\\ \u0001', list: [{ b: 2, a: 1 }, 'x', null, false] },
      '{"list":[{"a":1,"b":2},"x",null,false],"quote":"say \\"hi\\"\\n\\ttab\\\\ \\u0001"}',
    ],
  ])('matches Python json.dumps(sort_keys=True) for %j', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});
