import type { Node } from '../sdk/node.js';
import { EMA } from './ema.js';
import {
  factoryOptions,
  indicatorNode,
  type IndicatorNode,
  type IndicatorNodeOptions,
} from './indicator-node.js';
import { RSI } from './rsi.js';
import { SMA } from './sma.js';

/**
 * A node computing the simple moving average of `source` over `period` bars.
 * @example const avg = sma(price, { period: 20, field: 'close' });
 */
export function sma(
  source: Node,
  options: IndicatorNodeOptions & { readonly period: number },
): IndicatorNode {
  const { period, ...rest } = factoryOptions(options, 'sma()');
  return indicatorNode(
    { indicator: 'SMA', indicatorClass: SMA, create: (p) => new SMA(p.period) },
    source,
    { period },
    rest,
  );
}

/**
 * A node computing the exponential moving average of `source` (SMA-seeded, α = 2/(period+1)).
 * @example const fast = ema(price, { period: 10, field: 'close' });
 */
export function ema(
  source: Node,
  options: IndicatorNodeOptions & { readonly period: number },
): IndicatorNode {
  const { period, ...rest } = factoryOptions(options, 'ema()');
  return indicatorNode(
    { indicator: 'EMA', indicatorClass: EMA, create: (p) => new EMA(p.period) },
    source,
    { period },
    rest,
  );
}

/**
 * A node computing Wilder's RSI of `source` (default period 14); it emits from bar `period + 1`.
 * @example const strength = rsi(price, { period: 14, field: 'close' });
 */
export function rsi(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number } = {},
): IndicatorNode {
  const { period = 14, ...rest } = factoryOptions(options, 'rsi()');
  return indicatorNode(
    { indicator: 'RSI', indicatorClass: RSI, create: (p) => new RSI(p.period) },
    source,
    { period },
    rest,
  );
}
