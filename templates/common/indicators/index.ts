/**
 * The indicators this project uses: qmtl's streaming indicators and their node factories
 * (`ema(price, { period: 10, field: 'close' })`), and your own. Write one as a class on qmtl's
 * `StreamingIndicator` contract plus a node factory built with `indicatorNode()`: its state then
 * lives in the run and its parameters are part of the node's identity (the `state_machine`
 * template's `indicators/trend-state.ts` is an example).
 */
export * from 'qmtl/indicators';
