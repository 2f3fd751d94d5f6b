/**
 * Where a submitted strategy is in its lifecycle (SPEC §4):
 * `queued → processing → completed | failed`, `failed → processing` on retry, and `stopped`.
 */
export const StrategyStatus = {
  Queued: 'queued',
  Processing: 'processing',
  Completed: 'completed',
  Failed: 'failed',
  Stopped: 'stopped',
} as const;

/** One of the values of {@link StrategyStatus}. */
export type StrategyStatus = (typeof StrategyStatus)[keyof typeof StrategyStatus];

/** Every status, in lifecycle order. */
export const STRATEGY_STATUSES: readonly StrategyStatus[] = Object.values(StrategyStatus);

/** Statuses of strategies the worker still has to (re)process. */
export const UNFINISHED_STATUSES: readonly StrategyStatus[] = [
  StrategyStatus.Queued,
  StrategyStatus.Processing,
];

/** The events that move a strategy between statuses. */
export const StrategyEvent = {
  Process: 'PROCESS',
  Complete: 'COMPLETE',
  Fail: 'FAIL',
  Retry: 'RETRY',
  Stop: 'STOP',
} as const;

/** One of the values of {@link StrategyEvent}. */
export type StrategyEvent = (typeof StrategyEvent)[keyof typeof StrategyEvent];

/** The `run_type` of a submission (SPEC §2.5). */
export const RunType = { Backtest: 'backtest', DryRun: 'dry-run', Live: 'live' } as const;

/** One of the values of {@link RunType}. */
export type RunType = (typeof RunType)[keyof typeof RunType];

/** True for a valid strategy status string. */
export function isStrategyStatus(value: unknown): value is StrategyStatus {
  return typeof value === 'string' && (STRATEGY_STATUSES as readonly string[]).includes(value);
}
