/**
 * Streaming technical indicators: one class per indicator, all following the
 * {@link StreamingIndicator} contract (O(1) update, `null` until warm, exact `replace`).
 */
export type { StreamingIndicator } from './indicator.js';
export { SMA } from './sma.js';
export { EMA } from './ema.js';
export { RSI } from './rsi.js';
export { IndicatorNode, type IndicatorNodeOptions, type IndicatorDefinition } from './indicator-node.js';
export { sma, ema, rsi } from './node-factories.js';
