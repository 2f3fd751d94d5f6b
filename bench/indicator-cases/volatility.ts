/** Bollinger Bands, ATR, Chandelier Exit, Keltner Channel and SuperTrend against trading-signals and technicalindicators. */
import technicalindicators from 'technicalindicators';
import {
  ATR as TsATR,
  BollingerBands as TsBollingerBands,
  ChandelierExit as TsChandelierExit,
  KeltnerChannels as TsKeltnerChannels,
  SuperTrend as TsSuperTrend,
} from 'trading-signals';
import { ATR } from '../../src/indicators/atr.js';
import { BollingerBands } from '../../src/indicators/bollinger-bands.js';
import { ChandelierExit } from '../../src/indicators/chandelier-exit.js';
import type { PriceBar } from '../../src/indicators/indicator.js';
import { KeltnerChannel } from '../../src/indicators/keltner-channel.js';
import { SuperTrend } from '../../src/indicators/supertrend.js';
import type { AnyBenchCase, IndicatorBenchCase } from './case.js';

const ti = technicalindicators as unknown as Record<
  string,
  new (input: Record<string, unknown>) => { nextValue(x: unknown): unknown }
>;

/** A technicalindicators bar indicator fed one bar at a time (its input arrays start empty). */
function tiBars(name: string, options: Record<string, unknown>): () => (bar: PriceBar) => unknown {
  return () => {
    const x = new ti[name]!({ ...options, high: [], low: [], close: [] });
    return (bar) => x.nextValue(bar);
  };
}

const bollinger: IndicatorBenchCase<number> = {
  name: 'BollingerBands(20, 2)',
  input: 'value',
  ours: () => {
    const x = new BollingerBands(20, 2);
    return (v) => x.update(v);
  },
  peers: {
    'trading-signals BollingerBands': () => {
      const x = new TsBollingerBands(20, 2);
      return (v) => x.add(v);
    },
    'technicalindicators BollingerBands': () => {
      const x = new ti['BollingerBands']!({ period: 20, stdDev: 2, values: [] });
      return (v) => x.nextValue(v);
    },
  },
};

const bars: IndicatorBenchCase<PriceBar>[] = [
  {
    name: 'ATR(14)',
    input: 'bar',
    ours: () => {
      const x = new ATR(14);
      return (bar) => x.update(bar);
    },
    peers: {
      'trading-signals ATR': () => {
        const x = new TsATR(14);
        return (bar) => x.add(bar);
      },
      'technicalindicators ATR': tiBars('ATR', { period: 14 }),
    },
  },
  {
    name: 'ChandelierExit(22, 3)',
    input: 'bar',
    ours: () => {
      const x = new ChandelierExit(22, 3);
      return (bar) => x.update(bar);
    },
    peers: {
      'trading-signals ChandelierExit': () => {
        const x = new TsChandelierExit({ interval: 22, multiplier: 3 });
        return (bar) => x.add(bar);
      },
      'technicalindicators ChandelierExit': tiBars('ChandelierExit', { period: 22, multiplier: 3 }),
    },
  },
  {
    name: 'KeltnerChannel(20, 10, 2)',
    input: 'bar',
    ours: () => {
      const x = new KeltnerChannel(20, 10, 2);
      return (bar) => x.update(bar);
    },
    peers: {
      'trading-signals KeltnerChannels': () => {
        const x = new TsKeltnerChannels({ emaInterval: 20, atrInterval: 10, multiplier: 2 });
        return (bar) => x.add(bar);
      },
      'technicalindicators KeltnerChannels': tiBars('KeltnerChannels', {
        maPeriod: 20,
        atrPeriod: 10,
        multiplier: 2,
        useSMA: false,
      }),
    },
  },
  {
    name: 'SuperTrend(10, 3)',
    input: 'bar',
    ours: () => {
      const x = new SuperTrend(10, 3);
      return (bar) => x.update(bar);
    },
    peers: {
      'trading-signals SuperTrend': () => {
        const x = new TsSuperTrend({ interval: 10, multiplier: 3 });
        return (bar) => x.add(bar);
      },
    },
  },
];

export const cases: AnyBenchCase[] = [bollinger, ...bars];
