/** SMA, EMA and RSI against trading-signals (both its Big-free `Faster*`-style classes and defaults). */
import { EMA as TsEMA, RSI as TsRSI, SMA as TsSMA } from 'trading-signals';
import technicalindicators from 'technicalindicators';
import { EMA } from '../../src/indicators/ema.js';
import { RSI } from '../../src/indicators/rsi.js';
import { SMA } from '../../src/indicators/sma.js';
import type { IndicatorBenchCase } from './case.js';

const ti = technicalindicators as unknown as Record<
  string,
  new (input: Record<string, unknown>) => { nextValue(x: unknown): unknown }
>;

export const cases: IndicatorBenchCase<number>[] = [
  {
    name: 'SMA(20)',
    input: 'value',
    ours: () => {
      const x = new SMA(20);
      return (v) => x.update(v);
    },
    peers: {
      'trading-signals SMA': () => {
        const x = new TsSMA(20);
        return (v) => x.add(v);
      },
      'technicalindicators SMA': () => {
        const x = new ti['SMA']!({ period: 20, values: [] });
        return (v) => x.nextValue(v);
      },
    },
  },
  {
    name: 'EMA(20)',
    input: 'value',
    ours: () => {
      const x = new EMA(20);
      return (v) => x.update(v);
    },
    peers: {
      'trading-signals EMA': () => {
        const x = new TsEMA(20);
        return (v) => x.add(v);
      },
      'technicalindicators EMA': () => {
        const x = new ti['EMA']!({ period: 20, values: [] });
        return (v) => x.nextValue(v);
      },
    },
  },
  {
    name: 'RSI(14)',
    input: 'value',
    ours: () => {
      const x = new RSI(14);
      return (v) => x.update(v);
    },
    peers: {
      'trading-signals RSI': () => {
        const x = new TsRSI(14);
        return (v) => x.add(v);
      },
      'technicalindicators RSI': () => {
        const x = new ti['RSI']!({ period: 14, values: [] });
        return (v) => x.nextValue(v);
      },
    },
  },
];
