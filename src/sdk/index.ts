export { Node, type ComputeFn, type NodeOptions, type Params, type Evaluator } from './node.js';
export { SourceNode } from './source-node.js';
export { ProcessingNode, type ProcessingNodeOptions } from './processing-node.js';
export { StreamInput, type StreamInputOptions } from './stream-input.js';
export { TagQueryNode, type TagQueryNodeOptions } from './tag-query-node.js';
export { Strategy, type StrategyOptions } from './strategy.js';
export * from './cache/index.js';
export { Runner, type StrategyInput } from './runner/runner.js';
export { RunResult, type RunTiming } from './runner/run-result.js';
export { RunMode, type RunOptions } from './runner/run-options.js';
export { OnMissing } from './runner/tick-engine.js';
export { OutputSeries } from './runner/output-series.js';
export type { NodeStats } from './runner/node-stats.js';
export type { DedupReport, KeepOutputs } from './runner/execution-graph.js';
export type { HistoryGap } from './runner/history-loader.js';
export type { ReplayProgress } from './runner/replay.js';
export * from './history/index.js';
export { sdkRegistry, sdkMetrics, collectMetrics, resetMetrics, startMetricsServer } from './metrics.js';
export {
  GatewayClient,
  GatewayUnavailableError,
  GatewayDuplicateStrategyError,
  type GatewayClientOptions,
  type GatewayBreakerSettings,
  type GatewaySubmission,
  type GatewayRunType,
  type SubmitOptions,
} from './gateway-client.js';
export * from './tagquery/index.js';
export type { LiveFeed, LiveFeedHandle, LiveFeedStart } from './live/live-feed.js';
export * from './live/feeds/index.js';
export { LiveRun } from './live/live-run.js';
export type { NodeRoles } from './live/node-roles.js';
export * from './execution/index.js';
export { createComputePool, type ComputePool } from './parallel/index.js';
