import type { Node } from '../sdk/node.js';
import { ATR } from './atr.js';
import { BollingerBands } from './bollinger-bands.js';
import { ChandelierExit } from './chandelier-exit.js';
import type { BarField } from './indicator.js';
import {
  factoryOptions,
  indicatorNode,
  type IndicatorNode,
  type IndicatorNodeOptions,
} from './indicator-node.js';
import { KeltnerChannel } from './keltner-channel.js';
import { SuperTrend } from './supertrend.js';

/** The bar fields the ATR-based nodes read (rename them with `fields`). */
const RANGE_READS: readonly BarField[] = ['high', 'low', 'close'];

/**
 * A node computing Bollinger Bands of `source` (default 20 periods, 2 population standard
 * deviations); it emits frozen `{ middle, upper, lower }` records from bar `period`.
 * @example
 * const bands = bollingerBands(price, { period: 20, multiplier: 2, field: 'close' });
 * const upper = sma(bands, { period: 5, field: 'upper' });
 */
export function bollingerBands(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number; readonly multiplier?: number } = {},
): IndicatorNode {
  const { period = 20, multiplier = 2, ...rest } = factoryOptions(options, 'bollingerBands()');
  return indicatorNode(
    {
      indicator: 'BollingerBands',
      indicatorClass: BollingerBands,
      create: (p) => new BollingerBands(p.period, p.multiplier),
    },
    source,
    { period, multiplier },
    rest,
  );
}

/**
 * A node computing Wilder's average true range of OHLC bars (default period 14), from bar `period`.
 * @example const range = atr(bars, { period: 14, fields: { close: 'last' } });
 */
export function atr(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number } = {},
): IndicatorNode {
  const { period = 14, ...rest } = factoryOptions(options, 'atr()');
  return indicatorNode(
    { indicator: 'ATR', indicatorClass: ATR, reads: RANGE_READS, create: (p) => new ATR(p.period) },
    source,
    { period },
    rest,
  );
}

/**
 * A node computing the Chandelier Exit stops `{ long, short }` of OHLC bars (default 22 bars,
 * 3 ATRs), from bar `period`.
 * @example const stops = chandelierExit(bars, { period: 22, multiplier: 3 });
 */
export function chandelierExit(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number; readonly multiplier?: number } = {},
): IndicatorNode {
  const { period = 22, multiplier = 3, ...rest } = factoryOptions(options, 'chandelierExit()');
  return indicatorNode(
    {
      indicator: 'ChandelierExit',
      indicatorClass: ChandelierExit,
      reads: RANGE_READS,
      create: (p) => new ChandelierExit(p.period, p.multiplier),
    },
    source,
    { period, multiplier },
    rest,
  );
}

/**
 * A node computing the Keltner Channel `{ middle, upper, lower }` of OHLC bars (default EMA 20 of
 * the close ± 2 ATR(10)), from bar `max(emaPeriod, atrPeriod)`.
 * @example const channel = keltnerChannel(bars, { emaPeriod: 20, atrPeriod: 10, multiplier: 2 });
 */
export function keltnerChannel(
  source: Node,
  options: IndicatorNodeOptions & {
    readonly emaPeriod?: number;
    readonly atrPeriod?: number;
    readonly multiplier?: number;
  } = {},
): IndicatorNode {
  const {
    emaPeriod = 20,
    atrPeriod = 10,
    multiplier = 2,
    ...rest
  } = factoryOptions(options, 'keltnerChannel()');
  return indicatorNode(
    {
      indicator: 'KeltnerChannel',
      indicatorClass: KeltnerChannel,
      reads: RANGE_READS,
      create: (p) => new KeltnerChannel(p.emaPeriod, p.atrPeriod, p.multiplier),
    },
    source,
    { emaPeriod, atrPeriod, multiplier },
    rest,
  );
}

/**
 * A node computing SuperTrend `{ value, direction }` of OHLC bars (default ATR 10, 3 ATRs), from
 * bar `period`; `direction` is 1 in an uptrend and −1 in a downtrend.
 * @example const trend = supertrend(bars, { period: 10, multiplier: 3 });
 */
export function supertrend(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number; readonly multiplier?: number } = {},
): IndicatorNode {
  const { period = 10, multiplier = 3, ...rest } = factoryOptions(options, 'supertrend()');
  return indicatorNode(
    {
      indicator: 'SuperTrend',
      indicatorClass: SuperTrend,
      reads: RANGE_READS,
      create: (p) => new SuperTrend(p.period, p.multiplier),
    },
    source,
    { period, multiplier },
    rest,
  );
}
