import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../common/hash.js';
import {
  NULL_CODE_HASH,
  codeHash,
  computeNodeId,
  isValidNodeId,
  nodeIdPreimage,
  objectHash,
  type NodeIdentity,
} from './node-id.js';

const IDENTITY: NodeIdentity = {
  nodeType: 'type',
  codeHash: 'code',
  configHash: 'cfg',
  schemaHash: 'schema',
};
const SHA256_ID = '2756979378779e6e44f3518a7c1eee4ba13042a290ac28c95452c541f558a2be';
// python3: hashlib.sha3_256(b'type:code:cfg:schema').hexdigest()
const SHA3_ID = '6240f1c128f451726def20ace5226f6b14441d68ae034ce9f504445d6dece32e';

describe('NULL_CODE_HASH', () => {
  it('is sha256("null") from the SPEC test vector', () => {
    expect(NULL_CODE_HASH).toBe('74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b');
  });
});

describe('nodeIdPreimage', () => {
  it('joins the four identity fields with colons in SPEC order', () => {
    expect(nodeIdPreimage(IDENTITY)).toBe('type:code:cfg:schema');
  });
});

describe('computeNodeId', () => {
  it('matches the SPEC test vector', () => {
    expect(computeNodeId(IDENTITY)).toBe(SHA256_ID);
  });

  it('keeps the sha256 id when the id is not taken by another node', () => {
    expect(computeNodeId(IDENTITY, () => false)).toBe(SHA256_ID);
  });

  it('falls back to SHA3-256 of the same string when the id is taken by another node', () => {
    const asked: string[] = [];
    const id = computeNodeId(IDENTITY, (candidate) => {
      asked.push(candidate);
      return true;
    });
    expect(id).toBe(SHA3_ID);
    expect(asked).toEqual([SHA256_ID]);
  });

  it('returns 64 lowercase hex characters for both digests', () => {
    expect(computeNodeId(IDENTITY)).toMatch(/^[0-9a-f]{64}$/);
    expect(computeNodeId(IDENTITY, () => true)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['nodeType', { ...IDENTITY, nodeType: 'other' }],
    ['codeHash', { ...IDENTITY, codeHash: 'other' }],
    ['configHash', { ...IDENTITY, configHash: 'other' }],
    ['schemaHash', { ...IDENTITY, schemaHash: 'other' }],
  ])('changes when %s changes', (_field, identity) => {
    expect(computeNodeId(identity)).not.toBe(SHA256_ID);
  });
});

describe('isValidNodeId', () => {
  it('accepts the sha256 id', () => {
    expect(isValidNodeId(SHA256_ID, IDENTITY)).toBe(true);
  });

  it('accepts the SHA3-256 fallback id', () => {
    expect(isValidNodeId(SHA3_ID, IDENTITY)).toBe(true);
  });

  it.each([
    ['an id of another identity', computeNodeId({ ...IDENTITY, configHash: 'cfg2' })],
    ['the id in upper case', SHA256_ID.toUpperCase()],
    ['a truncated id', SHA256_ID.slice(0, 63)],
    ['an empty string', ''],
    ['sha256 of the preimage with a different separator', sha256Hex('type|code|cfg|schema')],
  ])('rejects %s', (_label, nodeId) => {
    expect(isValidNodeId(nodeId, IDENTITY)).toBe(false);
  });
});

describe('codeHash', () => {
  it('is sha256 of the trimmed source text of a function', () => {
    const compute = (values: number[]): number => values.reduce((sum, v) => sum + v, 0);
    expect(codeHash(compute)).toBe(sha256Hex(Function.prototype.toString.call(compute).trim()));
  });

  it('hashes the source text, not an overridden toString', () => {
    function compute(): number {
      return 1;
    }
    const source = Function.prototype.toString.call(compute).trim();
    compute.toString = (): string => 'something else';
    expect(codeHash(compute)).toBe(sha256Hex(source));
  });

  it('differs for functions with different source text', () => {
    expect(codeHash(() => 1)).not.toBe(codeHash(() => 2));
  });

  it('is NULL_CODE_HASH for null and undefined', () => {
    expect(codeHash(null)).toBe(NULL_CODE_HASH);
    expect(codeHash(undefined)).toBe(NULL_CODE_HASH);
  });
});

describe('objectHash', () => {
  it('is sha256 of the canonical JSON', () => {
    expect(objectHash({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    expect(objectHash({ b: 1, a: [2] })).toBe(sha256Hex('{"a":[2],"b":1}'));
  });

  it('does not depend on key order at any depth', () => {
    const first = objectHash({ interval: 60, params: { window: 20, alpha: 0.5 }, inputs: ['x'] });
    const second = objectHash({ inputs: ['x'], params: { alpha: 0.5, window: 20 }, interval: 60 });
    expect(first).toBe(second);
  });

  it('depends on the order of array items', () => {
    expect(objectHash({ inputs: ['a', 'b'] })).not.toBe(objectHash({ inputs: ['b', 'a'] }));
  });
});
