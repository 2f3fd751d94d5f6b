import { describe, expect, it } from 'vitest';
import { QmtlError } from '../common/errors.js';
import { Strategy } from '../sdk/strategy.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import {
  importStrategyModule,
  isStrategyClass,
  parseStrategyTarget,
  selectStrategy,
} from './load-strategy.js';

class Alpha extends Strategy {
  setup(): void {}
}
class Beta extends Strategy {
  setup(): void {}
}
class NotAStrategy {}

/** A class chain ending in a `Strategy` that is not ours, as a second install of qmtl would give. */
const ForeignStrategy = class Strategy {};
class Foreign extends ForeignStrategy {}

function selectError(moduleExports: Record<string, unknown>, exportName: string | null = null): string {
  try {
    selectStrategy(moduleExports, 'x.ts', exportName);
  } catch (error) {
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe('QMTL_INVALID_STRATEGY');
    return (error as Error).message;
  }
  throw new Error('expected selectStrategy to throw');
}

describe('parseStrategyTarget', () => {
  it('splits file:Export and keeps a path without one whole', () => {
    expect(parseStrategyTarget('strategy.ts:Crossover')).toEqual({
      file: 'strategy.ts',
      exportName: 'Crossover',
    });
    expect(parseStrategyTarget('./dir/strategy.ts')).toEqual({ file: './dir/strategy.ts', exportName: null });
    expect(parseStrategyTarget('C:\\work\\strategy.ts')).toEqual({
      file: 'C:\\work\\strategy.ts',
      exportName: null,
    });
    expect(parseStrategyTarget('C:\\work\\strategy.ts:$Main')).toEqual({
      file: 'C:\\work\\strategy.ts',
      exportName: '$Main',
    });
  });
});

describe('importStrategyModule', () => {
  it('says a suffix after ":" is not an export name when the file before it exists', async () => {
    const dir = path.dirname(fileURLToPath(import.meta.url));
    await expect(importStrategyModule('load-strategy.ts:1bad', dir)).rejects.toThrow(
      /strategy file "load-strategy.ts:1bad" not found \(resolved to .*\); "1bad" after ':' is not an export name/,
    );
    await expect(importStrategyModule('missing.ts:1bad', dir)).rejects.toThrow(
      /not found \(resolved to [^)]*\)$/,
    );
  });
});

describe('selectStrategy', () => {
  it('takes the named export', () => {
    expect(selectStrategy({ Alpha, Beta }, 'x.ts', 'Beta')).toEqual({
      strategyClass: Beta,
      exportName: 'Beta',
    });
  });

  it('prefers a Strategy default export, else the single Strategy export', () => {
    expect(selectStrategy({ default: Beta, Alpha }, 'x.ts', null).strategyClass).toBe(Beta);
    expect(selectStrategy({ default: { not: 'a class' }, Alpha, helper: () => 1 }, 'x.ts', null)).toEqual({
      strategyClass: Alpha,
      exportName: 'Alpha',
    });
    expect(selectStrategy({ default: Alpha, Alpha }, 'x.ts', null).strategyClass).toBe(Alpha);
  });

  it('counts a class exported under two names once', () => {
    expect(selectStrategy({ Alpha, AlsoAlpha: Alpha }, 'x.ts', null).strategyClass).toBe(Alpha);
  });

  it('asks for file:Name when several strategies are exported', () => {
    expect(selectError({ Alpha, Beta, answer: 42 })).toBe(
      '"x.ts" exports several Strategy subclasses (Alpha, Beta); choose one with "x.ts:Alpha"',
    );
  });

  it('lists the exports when none is a strategy', () => {
    expect(selectError({ a: 1, b: NotAStrategy })).toBe(
      '"x.ts" exports no Strategy subclass (exports: a, b)',
    );
    expect(selectError({})).toBe('"x.ts" exports no Strategy subclass (exports: none)');
  });

  it('explains a strategy built on another copy of qmtl', () => {
    expect(selectError({ Foreign })).toMatch(
      /exports no Strategy subclass \(exports: Foreign\); Foreign extends a Strategy class from another copy of qmtl/,
    );
  });

  it('says what a named export is when it is not a strategy', () => {
    expect(selectError({ Alpha, Nope: NotAStrategy }, 'Nope')).toBe(
      'export "Nope" of "x.ts" is not a Strategy subclass: it is the class "NotAStrategy", which does not extend Strategy',
    );
    expect(selectError({ run: function run() {} }, 'run')).toMatch(/it is a function "run"$/);
    expect(selectError({ n: 3 }, 'n')).toMatch(/it is a number \(3\)$/);
    expect(selectError({ instance: new Alpha() }, 'instance')).toMatch(
      /it is an instance of Alpha; export the class instead$/,
    );
    expect(selectError({ base: Strategy }, 'base')).toMatch(
      /it is the class "Strategy", which does not extend Strategy$/,
    );
  });

  it('lists the exports when the named one does not exist', () => {
    expect(selectError({ Alpha, Beta }, 'Gamma')).toBe('"x.ts" has no export "Gamma" (exports: Alpha, Beta)');
  });
});

describe('isStrategyClass', () => {
  it('is true only for subclasses of Strategy', () => {
    expect(isStrategyClass(Alpha)).toBe(true);
    expect(isStrategyClass(Strategy)).toBe(false);
    expect(isStrategyClass(new Alpha())).toBe(false);
    expect(isStrategyClass(Foreign)).toBe(false);
  });
});
