import type { Node } from '../sdk/node.js';
import { IchimokuCloud } from './ichimoku-cloud.js';
import {
  factoryOptions,
  indicatorNode,
  type IndicatorNode,
  type IndicatorNodeOptions,
} from './indicator-node.js';
import { KalmanTrend } from './kalman-trend.js';
import { KDJ } from './kdj.js';
import { StochRSI } from './stoch-rsi.js';

/**
 * A node computing the stochastic RSI of `source` (0–100; defaults 14 and 14); it emits from bar
 * `rsiPeriod + stochPeriod`.
 * @example const stoch = stochRsi(price, { rsiPeriod: 14, stochPeriod: 14, field: 'close' });
 */
export function stochRsi(
  source: Node,
  options: IndicatorNodeOptions & { readonly rsiPeriod?: number; readonly stochPeriod?: number } = {},
): IndicatorNode {
  const { rsiPeriod = 14, stochPeriod = 14, ...rest } = factoryOptions(options, 'stochRsi()');
  return indicatorNode(
    {
      indicator: 'StochRSI',
      indicatorClass: StochRSI,
      create: (p) => new StochRSI(p.rsiPeriod, p.stochPeriod),
    },
    source,
    { rsiPeriod, stochPeriod },
    rest,
  );
}

/**
 * A node computing KDJ (`{ k, d, j }`, 1/3 smoothing) over the high, low and close of bar payloads;
 * it emits from bar `period` (default 9).
 * @example const oscillator = kdj(bars, { period: 9 });
 */
export function kdj(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number } = {},
): IndicatorNode {
  const { period = 9, ...rest } = factoryOptions(options, 'kdj()');
  return indicatorNode(
    {
      indicator: 'KDJ',
      indicatorClass: KDJ,
      create: (p) => new KDJ(p.period),
      reads: ['high', 'low', 'close'],
    },
    source,
    { period },
    rest,
  );
}

/**
 * A node computing the Ichimoku lines (`{ tenkan, kijun, senkouA, senkouB, chikou }`, the leading
 * spans as in effect at each bar) over bar payloads; it emits from bar
 * `max(tenkan, kijun, senkouB) + displacement` (78 with the defaults 9, 26, 52, 26).
 * @example const cloud = ichimokuCloud(bars);
 */
export function ichimokuCloud(
  source: Node,
  options: IndicatorNodeOptions & {
    readonly tenkan?: number;
    readonly kijun?: number;
    readonly senkouB?: number;
    readonly displacement?: number;
  } = {},
): IndicatorNode {
  const {
    tenkan = 9,
    kijun = 26,
    senkouB = 52,
    displacement = 26,
    ...rest
  } = factoryOptions(options, 'ichimokuCloud()');
  return indicatorNode(
    {
      indicator: 'IchimokuCloud',
      indicatorClass: IchimokuCloud,
      create: (p) => new IchimokuCloud(p.tenkan, p.kijun, p.senkouB, p.displacement),
      reads: ['high', 'low', 'close'],
    },
    source,
    { tenkan, kijun, senkouB, displacement },
    rest,
  );
}

/**
 * A node computing the Kalman-filter trend of `source` (defaults q = 1e-5, r = 1e-2); it emits from
 * the first bar.
 * @example const trend = kalmanTrend(price, { field: 'close' });
 */
export function kalmanTrend(
  source: Node,
  options: IndicatorNodeOptions & {
    readonly processVariance?: number;
    readonly measurementVariance?: number;
  } = {},
): IndicatorNode {
  const {
    processVariance = 1e-5,
    measurementVariance = 1e-2,
    ...rest
  } = factoryOptions(options, 'kalmanTrend()');
  return indicatorNode(
    {
      indicator: 'KalmanTrend',
      indicatorClass: KalmanTrend,
      create: (p) => new KalmanTrend(p.processVariance, p.measurementVariance),
    },
    source,
    { processVariance, measurementVariance },
    rest,
  );
}
