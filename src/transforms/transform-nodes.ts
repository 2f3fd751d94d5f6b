import {
  factoryOptions,
  indicatorNode,
  type IndicatorNode,
  type IndicatorNodeOptions,
} from '../indicators/indicator-node.js';
import type { Node } from '../sdk/node.js';
import { Angle, type AngleUnit } from './angle.js';
import { RateOfChange } from './rate-of-change.js';
import { Stochastic } from './stochastic.js';

/**
 * A node computing the rate of change of `source` over `period` bars (default 1) as a fraction; it
 * emits from bar `period + 1`, and nothing for a bar whose base is 0.
 * @example const change = rateOfChange(price, { period: 5, field: 'close' });
 */
export function rateOfChange(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number } = {},
): IndicatorNode {
  const { period = 1, ...rest } = factoryOptions(options, 'rateOfChange()');
  return indicatorNode(
    { indicator: 'RateOfChange', indicatorClass: RateOfChange, create: (p) => new RateOfChange(p.period) },
    source,
    { period },
    rest,
  );
}

/**
 * A node computing the stochastic %K (0–100) of `source` over `period` bars (default 14).
 * @example const position = stochastic(price, { period: 14, field: 'close' });
 */
export function stochastic(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number } = {},
): IndicatorNode {
  const { period = 14, ...rest } = factoryOptions(options, 'stochastic()');
  return indicatorNode(
    { indicator: 'Stochastic', indicatorClass: Stochastic, create: (p) => new Stochastic(p.period) },
    source,
    { period },
    rest,
  );
}

/**
 * A node computing the angle of the least-squares line through the last `period` values of
 * `source` (default 14, in degrees unless `unit: 'radians'`).
 * @example const tilt = angle(price, { period: 20, unit: 'radians', field: 'close' });
 */
export function angle(
  source: Node,
  options: IndicatorNodeOptions & { readonly period?: number; readonly unit?: AngleUnit } = {},
): IndicatorNode {
  const { period = 14, unit = 'degrees', ...rest } = factoryOptions(options, 'angle()');
  return indicatorNode(
    { indicator: 'Angle', indicatorClass: Angle, create: (p) => new Angle(p.period, p.unit) },
    source,
    { period, unit },
    rest,
  );
}
