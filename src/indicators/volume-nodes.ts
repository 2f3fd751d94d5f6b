import type { Node } from '../sdk/node.js';
import { AnchoredVWAP } from './anchored-vwap.js';
import {
  factoryOptions,
  indicatorNode,
  type IndicatorNode,
  type IndicatorNodeOptions,
} from './indicator-node.js';
import { OBV } from './obv.js';
import { RoughVolatility } from './rough-volatility.js';
import { VWAP } from './vwap.js';

/**
 * A node computing the on-balance volume of OHLCV bars (reads `close` and `volume`); it emits from
 * the first bar (0).
 * @example const flow = obv(bars); // or obv(trades, { fields: { close: 'price', volume: 'qty' } })
 */
export function obv(source: Node, options: IndicatorNodeOptions = {}): IndicatorNode {
  return indicatorNode(
    { indicator: 'OBV', indicatorClass: OBV, create: () => new OBV(), reads: ['close', 'volume'] },
    source,
    {},
    options,
  );
}

/**
 * A node computing the VWAP of the typical price of OHLCV bars (reads `high`, `low`, `close`,
 * `volume`): over the last `period` bars, or cumulative from the first bar without a period.
 * @example const fair = vwap(bars, { period: 20 });
 */
export function vwap(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number } = {},
): IndicatorNode {
  const { period, ...rest } = factoryOptions(options, 'vwap()');
  const reads = ['high', 'low', 'close', 'volume'] as const;
  if (period === undefined) {
    return indicatorNode(
      { indicator: 'VWAP', indicatorClass: VWAP, create: () => new VWAP(), reads },
      source,
      {},
      rest,
    );
  }
  return indicatorNode(
    { indicator: 'VWAP', indicatorClass: VWAP, create: (p) => new VWAP(p.period), reads },
    source,
    { period },
    rest,
  );
}

/**
 * A node computing the VWAP of the bars whose bucket timestamp is ≥ `anchorTime` (epoch seconds);
 * it emits nothing for the bars before the anchor.
 * @example const sinceOpen = anchoredVwap(bars, { anchorTime: Date.UTC(2024, 0, 2, 14, 30) / 1000 });
 */
export function anchoredVwap(
  source: Node,
  options: IndicatorNodeOptions & { readonly anchorTime: number },
): IndicatorNode {
  const { anchorTime, ...rest } = factoryOptions(options, 'anchoredVwap()');
  return indicatorNode(
    {
      indicator: 'AnchoredVWAP',
      indicatorClass: AnchoredVWAP,
      create: (p) => new AnchoredVWAP(p.anchorTime),
      reads: ['high', 'low', 'close', 'volume'],
    },
    source,
    { anchorTime },
    rest,
  );
}

/**
 * A node computing the population standard deviation of the last `period` log returns of
 * `source` (default 20); it emits from bar `period + 1`. Prices must be positive.
 * @example const vol = roughVolatility(bars, { period: 20, field: 'close' });
 */
export function roughVolatility(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number } = {},
): IndicatorNode {
  const { period = 20, ...rest } = factoryOptions(options, 'roughVolatility()');
  return indicatorNode(
    {
      indicator: 'RoughVolatility',
      indicatorClass: RoughVolatility,
      create: (p) => new RoughVolatility(p.period),
    },
    source,
    { period },
    rest,
  );
}
