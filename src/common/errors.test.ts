import { describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError, quote, shortId, type Problem } from './errors.js';

describe('QmtlError', () => {
  it('is an Error with a name, a code and no problems by default', () => {
    const error = new QmtlError(ErrorCode.InvalidNode, 'broken');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('QmtlError');
    expect(error.code).toBe('QMTL_INVALID_NODE');
    expect(error.message).toBe('broken');
    expect(error.problems).toEqual([]);
    expect(error.cause).toBeUndefined();
  });

  it('keeps the cause it is given', () => {
    const cause = new Error('root');
    expect(new QmtlError(ErrorCode.ComputeFailed, 'failed', { cause }).cause).toBe(cause);
  });

  describe('fromProblems', () => {
    const problems: Problem[] = [
      {
        code: ErrorCode.InvalidInterval,
        message: 'node "a": interval must look like "60s", got "bad"',
        nodeId: 'a',
      },
      { code: ErrorCode.UnknownInput, message: 'node "b" references unknown input "zz"' },
      { code: ErrorCode.DuplicateNodeId, message: 'node "c": node_id "c" appears more than once' },
    ];

    it('lists every problem message under the summary', () => {
      const error = QmtlError.fromProblems('invalid DAG', problems);
      expect(error.message).toBe(
        [
          'invalid DAG:',
          '  - node "a": interval must look like "60s", got "bad"',
          '  - node "b" references unknown input "zz"',
          '  - node "c": node_id "c" appears more than once',
        ].join('\n'),
      );
    });

    it("takes the first problem's code", () => {
      expect(QmtlError.fromProblems('invalid DAG', problems).code).toBe(ErrorCode.InvalidInterval);
      expect(QmtlError.fromProblems('invalid DAG', problems.slice(1)).code).toBe(ErrorCode.UnknownInput);
    });

    it('carries every problem', () => {
      expect(QmtlError.fromProblems('invalid DAG', problems).problems).toEqual(problems);
    });

    it('falls back to QMTL_INVALID_ARGUMENT when there are no problems', () => {
      const error = QmtlError.fromProblems('nothing', []);
      expect(error.code).toBe(ErrorCode.InvalidArgument);
      expect(error.problems).toEqual([]);
    });
  });
});

describe('quote', () => {
  it('puts strings in double quotes, escaping as JSON', () => {
    expect(quote('momentum')).toBe('"momentum"');
    expect(quote('')).toBe('""');
    expect(quote('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });

  it('writes other values as compact JSON', () => {
    expect(quote(42)).toBe('42');
    expect(quote(-1.5)).toBe('-1.5');
    expect(quote(null)).toBe('null');
    expect(quote(true)).toBe('true');
    expect(quote({ a: 1, b: [2, 'x'] })).toBe('{"a":1,"b":[2,"x"]}');
    expect(quote([])).toBe('[]');
  });

  it('writes undefined and bigints readably', () => {
    expect(quote(undefined)).toBe('undefined');
    expect(quote(12n)).toBe('12n');
  });

  it('names functions', () => {
    function computeMomentum(): number {
      return 1;
    }
    expect(quote(computeMomentum)).toBe('function computeMomentum');
    expect(quote([() => 1][0])).toBe('function (anonymous)');
  });

  it('shortens long strings to 80 characters before quoting', () => {
    const long = 'x'.repeat(200);
    expect(quote(long)).toBe(`"${'x'.repeat(77)}..."`);
    expect(quote('y'.repeat(80))).toBe(`"${'y'.repeat(80)}"`);
  });

  it('shortens long JSON to 80 characters', () => {
    const text = quote({ tags: Array.from({ length: 40 }, (_, i) => `tag-${i}`) });
    expect(text).toHaveLength(80);
    expect(text.startsWith('{"tags":["tag-0","tag-1"')).toBe(true);
    expect(text.endsWith('...')).toBe(true);
  });

  it('does not throw for values JSON cannot encode', () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(quote(circular)).toBe('an object that cannot be printed (circular or too deeply nested)');
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(quote(deep)).toBe('an array of 1 item(s) that cannot be printed (circular or too deeply nested)');
    expect(quote(Symbol('s'))).toBe('Symbol(s)');
  });

  // JSON.stringify would write these as "null", and the message would claim the caller passed null.
  it('writes non-finite numbers as themselves', () => {
    expect(quote(NaN)).toBe('NaN');
    expect(quote(Infinity)).toBe('Infinity');
  });
});

describe('shortId', () => {
  it('shortens a 64-hex id to its first 8 characters and an ellipsis', () => {
    expect(shortId('2756979378779e6e44f3518a7c1eee4ba13042a290ac28c95452c541f558a2be')).toBe('27569793…');
  });

  it('keeps ids of 12 characters or fewer', () => {
    expect(shortId('abcdefghijkl')).toBe('abcdefghijkl');
  });
});
