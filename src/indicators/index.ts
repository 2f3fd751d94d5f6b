/**
 * Streaming technical indicators: one class per indicator, all following the
 * {@link StreamingIndicator} contract (O(1) update, `null` until warm, exact `replace`).
 */
export type { StreamingIndicator, PriceBar, BarField } from './indicator.js';
export { SMA } from './sma.js';
export { EMA } from './ema.js';
export { RSI } from './rsi.js';
export {
  IndicatorNode,
  indicatorNode,
  type IndicatorNodeOptions,
  type IndicatorDefinition,
  type IndicatorParamValue,
} from './indicator-node.js';
export { sma, ema, rsi } from './node-factories.js';
export { RollingExtremes } from './rolling-extremes.js';
export { ATR, type RangeBar } from './atr.js';
export { BollingerBands, type Bands } from './bollinger-bands.js';
export { ChandelierExit, type ChandelierExitResult } from './chandelier-exit.js';
export { KeltnerChannel } from './keltner-channel.js';
export { SuperTrend, type SuperTrendResult } from './supertrend.js';
export { bollingerBands, atr, chandelierExit, keltnerChannel, supertrend } from './volatility-nodes.js';
export { OBV, type ObvBar } from './obv.js';
export { VWAP, type VwapBar } from './vwap.js';
export { AnchoredVWAP, type AnchoredVwapBar } from './anchored-vwap.js';
export { RoughVolatility } from './rough-volatility.js';
export { obv, vwap, anchoredVwap, roughVolatility } from './volume-nodes.js';
export { StochRSI } from './stoch-rsi.js';
export { KDJ, type KDJResult } from './kdj.js';
export { IchimokuCloud, type IchimokuResult } from './ichimoku-cloud.js';
export { KalmanTrend } from './kalman-trend.js';
export { stochRsi, kdj, ichimokuCloud, kalmanTrend } from './oscillator-nodes.js';
