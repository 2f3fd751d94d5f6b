import { describe, expect, it } from 'vitest';
import { thrownBy } from '../common/errors.test-kit.js';
import { nextStatus, strategyMachine } from './strategy-fsm.js';
import { STRATEGY_STATUSES, StrategyEvent, type StrategyStatus } from './strategy-status.js';

/** Every allowed move of SPEC §4; any pair not listed must be refused. */
const ALLOWED: Readonly<Record<StrategyStatus, Partial<Record<StrategyEvent, StrategyStatus>>>> = {
  queued: { PROCESS: 'processing', STOP: 'stopped' },
  processing: { COMPLETE: 'completed', FAIL: 'failed', STOP: 'stopped' },
  completed: { STOP: 'stopped' },
  failed: { RETRY: 'processing', STOP: 'stopped' },
  stopped: {},
};

const EVENTS = Object.values(StrategyEvent);
const pairs = STRATEGY_STATUSES.flatMap((from) => EVENTS.map((event) => [from, event] as const));

describe('strategy FSM', () => {
  it('starts in queued', () => {
    expect(strategyMachine.config.initial).toBe('queued');
  });

  it.each(pairs.filter(([from, event]) => ALLOWED[from][event] !== undefined))(
    '%s --%s--> the allowed status',
    (from, event) => {
      expect(nextStatus(from, event)).toBe(ALLOWED[from][event]);
    },
  );

  it.each(pairs.filter(([from, event]) => ALLOWED[from][event] === undefined))(
    '%s --%s--> throws QMTL_INVALID_TRANSITION naming both',
    (from, event) => {
      const error = thrownBy(() => nextStatus(from, event));
      expect(error.code).toBe('QMTL_INVALID_TRANSITION');
      expect(error.message).toContain(`"${from}"`);
      expect(error.message).toContain(`"${event}"`);
    },
  );

  it('covers every status and event in the table', () => {
    expect(pairs).toHaveLength(STRATEGY_STATUSES.length * EVENTS.length);
    expect(Object.keys(ALLOWED).sort()).toEqual([...STRATEGY_STATUSES].sort());
  });

  it('walks the retry loop: queued → processing → failed → processing → completed → stopped', () => {
    const path: StrategyEvent[] = ['PROCESS', 'FAIL', 'RETRY', 'COMPLETE', 'STOP'];
    const visited = path.reduce<StrategyStatus[]>(
      (statuses, event) => [...statuses, nextStatus(statuses.at(-1)!, event)],
      ['queued'],
    );
    expect(visited).toEqual(['queued', 'processing', 'failed', 'processing', 'completed', 'stopped']);
  });
});
