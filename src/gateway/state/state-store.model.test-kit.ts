/**
 * A model-based check every {@link StateStore} adapter runs (from its contract): generated
 * sequences of FIFO, status-cache and lease operations against plain arrays and maps. After every
 * step the adapter's queued and in-flight lists, cached statuses and expired leases are the model's.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { STRATEGY_STATUSES, type StrategyStatus } from '../strategy-status.js';
import type { StateStore } from './state-store.js';
import type { StateStoreFixture } from './state-store.contract.test-kit.js';

const IDS = ['a', 'b', 'c', 'x:y'];
const id = fc.constantFrom(...IDS);

type Step =
  | { op: 'enqueue' | 'ack' | 'requeue' | 'dropLease'; id: string }
  | { op: 'claim' }
  | { op: 'setStatus'; id: string; status: StrategyStatus }
  | { op: 'renewLease'; id: string; deadline: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constantFrom('enqueue' as const, 'ack' as const, 'requeue' as const, 'dropLease' as const),
    id,
  }),
  fc.record({ op: fc.constant('claim' as const) }),
  fc.record({ op: fc.constant('setStatus' as const), id, status: fc.constantFrom(...STRATEGY_STATUSES) }),
  fc.record({ op: fc.constant('renewLease' as const), id, deadline: fc.integer({ min: 0, max: 5 }) }),
);

/** Removes the first occurrence of `item`; false when there is none. */
function removeOne(list: string[], item: string): boolean {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
  return at >= 0;
}

/** Runs the generated sequences on fresh stores from `create`. */
export async function checkStateAgainstModel(
  create: () => Promise<StateStoreFixture>,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), async (steps) => {
      const fixture = await create();
      const store: StateStore = fixture.store;
      const queued: string[] = [];
      const inFlight: string[] = [];
      const statuses = new Map<string, StrategyStatus>();
      const leases = new Map<string, number>();
      try {
        for (const s of steps) {
          const what = JSON.stringify(s);
          switch (s.op) {
            case 'enqueue':
              await store.enqueue(s.id);
              queued.push(s.id);
              break;
            case 'claim': {
              const expected = queued.shift() ?? null;
              if (expected !== null) inFlight.push(expected);
              expect(await store.claim(), what).toBe(expected);
              break;
            }
            case 'ack':
              await store.ack(s.id);
              removeOne(inFlight, s.id);
              break;
            case 'requeue':
              await store.requeue(s.id);
              if (removeOne(inFlight, s.id)) queued.push(s.id);
              break;
            case 'setStatus':
              await store.setStatus(s.id, s.status);
              statuses.set(s.id, s.status);
              break;
            case 'renewLease':
              await store.renewLease(s.id, s.deadline);
              leases.set(s.id, s.deadline);
              break;
            case 'dropLease':
              await store.dropLease(s.id);
              leases.delete(s.id);
              break;
          }
          expect(await store.queued(), `queued after ${what}`).toEqual(queued);
          // Which of two equal in-flight ids an ack removes cannot be told apart: compare as multisets.
          expect((await store.inFlight()).sort(), `in flight after ${what}`).toEqual([...inFlight].sort());
          for (const k of IDS)
            expect(await store.getStatus(k), `status of ${k} after ${what}`).toBe(statuses.get(k) ?? null);
          for (const now of [0, 2, 5]) {
            const expired = [...leases]
              .filter(([, deadline]) => deadline <= now)
              .sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0))
              .map(([k]) => k);
            expect(await store.expiredLeases(now), `expired at ${now} after ${what}`).toEqual(expired);
          }
        }
      } finally {
        await fixture.cleanup();
      }
    }),
    { numRuns },
  );
}
