/**
 * OBV, VWAP, AnchoredVWAP and RoughVolatility against trading-signals and technicalindicators.
 * Neither peer has an anchored or rolling VWAP, or a volatility of log returns: the anchored and
 * rolling VWAP run alone, and RoughVolatility is set against each peer's rolling population
 * standard deviation fed the log returns of the closes (computed in the step, as a user would).
 */
import { BollingerBands as TsBollingerBands, OBV as TsOBV, VWAP as TsVWAP } from 'trading-signals';
import { OBV as TiOBV, SD as TiSD, VWAP as TiVWAP } from 'technicalindicators';
import { AnchoredVWAP } from '../../src/indicators/anchored-vwap.js';
import type { PriceBar } from '../../src/indicators/indicator.js';
import { OBV } from '../../src/indicators/obv.js';
import { RoughVolatility } from '../../src/indicators/rough-volatility.js';
import { VWAP } from '../../src/indicators/vwap.js';
import type { IndicatorBenchCase, Step } from './case.js';

/** A step that feeds `add` the log return of each bar's close (nothing on the first bar). */
function onLogReturns(add: (logReturn: number) => unknown): Step<PriceBar> {
  let last = 0;
  return (bar) => {
    const previous = last;
    last = bar.close;
    return previous === 0 ? null : add(Math.log(bar.close / previous));
  };
}

export const cases: IndicatorBenchCase<PriceBar>[] = [
  {
    name: 'OBV',
    input: 'bar',
    ours: () => {
      const x = new OBV();
      return (bar) => x.update(bar);
    },
    peers: {
      'trading-signals OBV': () => {
        const x = new TsOBV(2);
        return (bar) => x.add(bar);
      },
      'technicalindicators OBV': () => {
        const x = new TiOBV({ close: [], volume: [] });
        return (bar) => x.nextValue(bar);
      },
    },
  },
  {
    name: 'VWAP (cumulative)',
    input: 'bar',
    ours: () => {
      const x = new VWAP();
      return (bar) => x.update(bar);
    },
    peers: {
      'trading-signals VWAP': () => {
        const x = new TsVWAP();
        return (bar) => x.add(bar);
      },
      'technicalindicators VWAP': () => {
        const x = new TiVWAP({ high: [], low: [], close: [], volume: [] });
        return (bar) => x.nextValue(bar);
      },
    },
  },
  {
    name: 'VWAP(20)',
    input: 'bar',
    ours: () => {
      const x = new VWAP(20);
      return (bar) => x.update(bar);
    },
    peers: {},
  },
  {
    name: 'AnchoredVWAP (mid-series anchor)',
    input: 'bar',
    ours: () => {
      // randomBars puts bar i at 60·i: anchor half-way through a 1,000,000-bar run.
      const x = new AnchoredVWAP(60 * 500_000);
      return (bar) => x.update(bar);
    },
    peers: {},
  },
  {
    name: 'RoughVolatility(20)',
    input: 'bar',
    ours: () => {
      const x = new RoughVolatility(20);
      return (bar) => x.update(bar.close);
    },
    peers: {
      'trading-signals BollingerBands(20) of log returns': () => {
        const x = new TsBollingerBands(20, 1);
        return onLogReturns((r) => x.add(r));
      },
      'technicalindicators SD(20) of log returns': () => {
        const x = new TiSD({ period: 20, values: [] });
        return onLogReturns((r) => x.nextValue(r));
      },
    },
  },
];
