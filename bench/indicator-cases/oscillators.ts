/**
 * Oscillators, trend and transforms (StochRSI, KDJ, Ichimoku, Kalman trend, rate of change,
 * stochastic, angle) against every peer class that computes the same quantity. Where a peer also
 * smooths (%K/%D), it runs with its usual settings, as a user of that library would.
 */
import technicalindicators from 'technicalindicators';
import {
  IchimokuCloud as TsIchimokuCloud,
  LinearRegression as TsLinearRegression,
  ROC as TsROC,
  StochasticOscillator as TsStochasticOscillator,
  StochasticRSI as TsStochasticRSI,
} from 'trading-signals';
import { IchimokuCloud } from '../../src/indicators/ichimoku-cloud.js';
import type { PriceBar } from '../../src/indicators/indicator.js';
import { KalmanTrend } from '../../src/indicators/kalman-trend.js';
import { KDJ } from '../../src/indicators/kdj.js';
import { StochRSI } from '../../src/indicators/stoch-rsi.js';
import { Angle } from '../../src/transforms/angle.js';
import { RateOfChange } from '../../src/transforms/rate-of-change.js';
import { Stochastic } from '../../src/transforms/stochastic.js';
import type { AnyBenchCase } from './case.js';

const ti = technicalindicators as unknown as Record<
  string,
  new (input: Record<string, unknown>) => { nextValue(x: unknown): unknown }
>;

export const cases: AnyBenchCase[] = [
  {
    name: 'StochRSI(14, 14)',
    input: 'value',
    ours: () => {
      const x = new StochRSI(14, 14);
      return (v) => x.update(v);
    },
    peers: {
      // Also updates its SMA(3) %K and %D.
      'trading-signals StochasticRSI': () => {
        const x = new TsStochasticRSI(14);
        return (v) => x.add(v);
      },
      // Also rounds RSI to 2 decimals and smooths %K/%D (3, 3).
      'technicalindicators StochasticRSI': () => {
        const x = new ti['StochasticRSI']!({
          values: [],
          rsiPeriod: 14,
          stochasticPeriod: 14,
          kPeriod: 3,
          dPeriod: 3,
        });
        return (v) => x.nextValue(v);
      },
    },
  },
  {
    name: 'KDJ(9)',
    input: 'bar',
    ours: () => {
      const x = new KDJ(9);
      return (b: PriceBar) => x.update(b);
    },
    peers: {
      // K, D and J with SMA(3) slowing and SMA(3) %D instead of the 1/3 smoothing.
      'trading-signals StochasticOscillator(9, 3, 3)': () => {
        const x = new TsStochasticOscillator({ kPeriod: 9, kSlowingPeriod: 3, dPeriod: 3 });
        return (b: PriceBar) => x.add(b);
      },
      'technicalindicators Stochastic(9, 3)': () => {
        const x = new ti['Stochastic']!({ period: 9, signalPeriod: 3, high: [], low: [], close: [] });
        return (b: PriceBar) => x.nextValue(b);
      },
    },
  },
  {
    name: 'IchimokuCloud(9, 26, 52, 26)',
    input: 'bar',
    ours: () => {
      const x = new IchimokuCloud();
      return (b: PriceBar) => x.update(b);
    },
    peers: {
      'trading-signals IchimokuCloud': () => {
        const x = new TsIchimokuCloud();
        return (b: PriceBar) => x.add(b);
      },
      'technicalindicators IchimokuCloud': () => {
        const x = new ti['IchimokuCloud']!({ high: [], low: [] });
        return (b: PriceBar) => x.nextValue(b);
      },
    },
  },
  {
    name: 'KalmanTrend',
    input: 'value',
    ours: () => {
      const x = new KalmanTrend();
      return (v) => x.update(v);
    },
    peers: {},
  },
  {
    name: 'RateOfChange(14)',
    input: 'value',
    ours: () => {
      const x = new RateOfChange(14);
      return (v) => x.update(v);
    },
    peers: {
      'trading-signals ROC': () => {
        const x = new TsROC(14);
        return (v) => x.add(v);
      },
      'technicalindicators ROC': () => {
        const x = new ti['ROC']!({ period: 14, values: [] });
        return (v) => x.nextValue(v);
      },
    },
  },
  {
    name: 'Stochastic(14)',
    input: 'value',
    ours: () => {
      const x = new Stochastic(14);
      return (v) => x.update(v);
    },
    peers: {
      // Stochastics of bars, fed high = low = close = the value.
      'trading-signals StochasticOscillator(14, 1, 1)': () => {
        const x = new TsStochasticOscillator({ kPeriod: 14, kSlowingPeriod: 1, dPeriod: 1 });
        return (v) => x.add({ high: v, low: v, close: v });
      },
      'technicalindicators Stochastic(14, 1)': () => {
        const x = new ti['Stochastic']!({ period: 14, signalPeriod: 1, high: [], low: [], close: [] });
        return (v) => x.nextValue({ high: v, low: v, close: v });
      },
    },
  },
  {
    name: 'Angle(14)',
    input: 'value',
    ours: () => {
      const x = new Angle(14);
      return (v) => x.update(v);
    },
    peers: {
      'trading-signals LinearRegression + atan': () => {
        const x = new TsLinearRegression(14);
        return (v) => {
          const fit = x.add(v);
          return fit === null ? null : (Math.atan(fit.slope) * 180) / Math.PI;
        };
      },
    },
  },
];
