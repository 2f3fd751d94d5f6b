/**
 * QueueWatchHub against a model over generated subscribes, unsubscribes and broadcasts on a few
 * queries (tags in any order), with a small idle cache: every listener gets its query's latest
 * list when it subscribes, then each list that changed as a set, and nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QueueWatchHub, queueWatchKey, type MatchMode } from './queue-watch-hub.js';

interface Query {
  readonly tags: string[];
  readonly interval: number;
  readonly mode: MatchMode;
}

const QUERIES: Query[] = [
  { tags: ['a'], interval: 60, mode: 'any' },
  { tags: ['a', 'b'], interval: 60, mode: 'any' },
  { tags: ['b', 'a'], interval: 60, mode: 'any' },
  { tags: ['a', 'b'], interval: 60, mode: 'all' },
  { tags: ['a'], interval: 300, mode: 'any' },
];
const MAX_IDLE = 2;

type Step =
  | { op: 'subscribe'; query: number }
  | { op: 'unsubscribe'; pick: number }
  | { op: 'broadcast'; query: number; queues: string[] };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('subscribe' as const), query: fc.nat({ max: QUERIES.length - 1 }) }),
  fc.record({ op: fc.constant('unsubscribe' as const), pick: fc.nat() }),
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('broadcast' as const),
      query: fc.nat({ max: QUERIES.length - 1 }),
      queues: fc.uniqueArray(fc.constantFrom('q1', 'q2', 'q3'), { maxLength: 3 }),
    }),
  },
);

describe('QueueWatchHub against a model', () => {
  it('delivers the latest list on subscribe and every change as a set, to the listeners of its query', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const hub = new QueueWatchHub({ maxIdleKeys: MAX_IDLE });
        const keyOf = (q: number): string => {
          const { tags, interval, mode } = QUERIES[q]!;
          return queueWatchKey(tags, interval, mode);
        };
        // The model: latest list per key, keys without listeners in least-recently-updated order.
        const latest = new Map<string, string[]>();
        const idle: string[] = [];
        const listeners: { key: string; got: string[][]; expected: string[][]; stop: () => void }[] = [];
        const watched = (key: string): boolean => listeners.some((l) => l.key === key);
        const touchIdle = (key: string): void => {
          idle.splice(0, idle.length, ...idle.filter((k) => k !== key), key);
          while (idle.length > MAX_IDLE) latest.delete(idle.shift()!);
        };
        for (const s of steps) {
          if (s.op === 'subscribe') {
            const key = keyOf(s.query);
            if (!watched(key)) idle.splice(0, idle.length, ...idle.filter((k) => k !== key));
            const got: string[][] = [];
            const expected = latest.has(key) ? [latest.get(key)!] : [];
            const { tags, interval, mode } = QUERIES[s.query]!;
            const stop = hub.subscribe(tags, interval, mode, (queues) => got.push([...queues]));
            listeners.push({ key, got, expected, stop });
          } else if (s.op === 'unsubscribe') {
            if (listeners.length === 0) continue;
            const [gone] = listeners.splice(s.pick % listeners.length, 1);
            gone!.stop();
            if (!watched(gone!.key) && latest.has(gone!.key)) touchIdle(gone!.key);
          } else {
            const key = keyOf(s.query);
            const previous = latest.get(key);
            const changed =
              previous === undefined || [...previous].sort().join() !== [...s.queues].sort().join();
            const { tags, interval, mode } = QUERIES[s.query]!;
            expect(hub.broadcast(tags, interval, mode, s.queues)).toBe(changed);
            if (!changed) continue;
            latest.set(key, s.queues);
            if (!watched(key)) touchIdle(key);
            for (const l of listeners) if (l.key === key) l.expected.push(s.queues);
          }
          for (const l of listeners) expect(l.got).toEqual(l.expected);
          for (let q = 0; q < QUERIES.length; q++) {
            const { tags, interval, mode } = QUERIES[q]!;
            expect(hub.latestQueues(tags, interval, mode)).toEqual(latest.get(keyOf(q)) ?? null);
          }
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
