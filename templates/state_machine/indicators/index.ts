/**
 * The indicators this project uses: qmtl's streaming indicators and their node factories, and
 * your own, such as the trend state machine of `trend-state.ts`: a class on qmtl's
 * `StreamingIndicator` contract plus a node factory built with `indicatorNode()`, so its state
 * lives in the run and its parameters are part of the node's identity.
 */
export * from 'qmtl/indicators';
export { TrendState, trendState, type Trend } from './trend-state.js';
