/**
 * Streaming transforms (`qmtl/transforms`): rate of change, stochastic and angle, on the same
 * contract and node factories as the indicators.
 * @module
 */
export {};
