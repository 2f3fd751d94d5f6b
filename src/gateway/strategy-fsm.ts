import { createMachine, transition } from 'xstate';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { StrategyEvent, StrategyStatus, isStrategyStatus } from './strategy-status.js';

/**
 * The strategy lifecycle as a flat xstate v5 machine (SPEC §4). Only its state value is
 * persisted (in the state store and the database), never an xstate snapshot: a snapshot is
 * re-created from the stored value with `resolveState` for each transition.
 *
 * ```
 * queued ──PROCESS──▶ processing ──COMPLETE──▶ completed
 *                        │  ▲
 *                    FAIL│  │RETRY
 *                        ▼  │
 *                       failed
 * any state except stopped ──STOP──▶ stopped (final)
 * ```
 */
export const strategyMachine = createMachine({
  id: 'strategy',
  initial: StrategyStatus.Queued,
  states: {
    [StrategyStatus.Queued]: {
      on: {
        [StrategyEvent.Process]: StrategyStatus.Processing,
        [StrategyEvent.Stop]: StrategyStatus.Stopped,
      },
    },
    [StrategyStatus.Processing]: {
      on: {
        [StrategyEvent.Complete]: StrategyStatus.Completed,
        [StrategyEvent.Fail]: StrategyStatus.Failed,
        [StrategyEvent.Stop]: StrategyStatus.Stopped,
      },
    },
    [StrategyStatus.Completed]: { on: { [StrategyEvent.Stop]: StrategyStatus.Stopped } },
    [StrategyStatus.Failed]: {
      on: { [StrategyEvent.Retry]: StrategyStatus.Processing, [StrategyEvent.Stop]: StrategyStatus.Stopped },
    },
    [StrategyStatus.Stopped]: { type: 'final' },
  },
});

/**
 * The status `event` leads to from `from`.
 * @throws QmtlError `QMTL_INVALID_TRANSITION` when the event is not allowed in that status.
 * @example nextStatus('queued', 'PROCESS'); // 'processing'
 */
export function nextStatus(from: StrategyStatus, event: StrategyEvent): StrategyStatus {
  const snapshot = strategyMachine.resolveState({ value: from });
  if (!snapshot.can({ type: event })) {
    throw new QmtlError(
      ErrorCode.InvalidTransition,
      `a strategy in status ${quote(from)} cannot take the event ${quote(event)}`,
    );
  }
  const [next] = transition(strategyMachine, snapshot, { type: event });
  const value: unknown = next.value;
  if (!isStrategyStatus(value)) throw new Error(`strategy machine reached an unknown state ${quote(value)}`);
  return value;
}
