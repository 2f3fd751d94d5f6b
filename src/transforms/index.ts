/**
 * Streaming transforms (`qmtl/transforms`): rate of change, stochastic and angle, on the same
 * contract and node factories as the indicators.
 * @module
 */
export { RateOfChange } from './rate-of-change.js';
export { Stochastic } from './stochastic.js';
export { Angle, AngleUnit } from './angle.js';
export { rateOfChange, stochastic, angle } from './transform-nodes.js';
