/**
 * qmtl: run trading strategies as DAGs of content-addressed nodes; identical nodes are computed
 * once across strategies. The root export is the SDK; subpaths (`qmtl/dag`, `qmtl/indicators`,
 * `qmtl/generators`, `qmtl/io`, `qmtl/common`) hold the rest.
 */
export * from './sdk/index.js';
export { sma, ema, rsi, SMA, EMA, RSI, IndicatorNode, type StreamingIndicator } from './indicators/index.js';
export { QmtlError, ErrorCode, parseInterval, parsePeriod, parseTime, crc32OfList } from './common/index.js';
