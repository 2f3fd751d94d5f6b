/**
 * A model-based check every {@link StrategyStore} adapter runs (from its contract): generated
 * sequences of inserts, compare-and-set transitions and diff saves on a few ids and DAG hashes,
 * against a plain-object model of the store's rules. After every step the adapter answers
 * `get`, `events` and `listByStatus` as the model does.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { ErrorCode, QmtlError } from '../../common/errors.js';
import { STRATEGY_STATUSES, StrategyStatus } from '../strategy-status.js';
import type { StoredDiff, StrategyEventRecord, StrategyRecord, StrategyStore } from './strategy-store.js';
import { testStrategy } from './strategy-store.contract.test-kit.js';

const IDS = ['i0', 'i1', 'i2', 'i3'];
const HASHES = ['h0', 'h1', 'h2'];
const status = fc.constantFrom(...STRATEGY_STATUSES);
const diff: fc.Arbitrary<StoredDiff> = fc.record({
  sentinelId: fc.option(fc.constantFrom('s-a', 's-b'), { nil: null }),
  queueMap: fc.dictionary(
    fc.constantFrom('n1', 'n2'),
    fc.oneof(fc.constantFrom('t1', 't2'), fc.constant(['t1', 't2'])),
  ),
  topicMap: fc.dictionary(fc.constantFrom('n1', 'n2'), fc.constantFrom('t1', 't2')),
});

type Step =
  | { op: 'insert'; id: string; hash: number; createdAt: number }
  | {
      op: 'transition';
      id: string;
      from: StrategyStatus;
      to: StrategyStatus;
      at: number;
      diff: StoredDiff | null;
    }
  | { op: 'saveDiff'; id: string; diff: StoredDiff };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('insert' as const),
    id: fc.constantFrom(...IDS),
    hash: fc.integer({ min: 0, max: HASHES.length - 1 }),
    createdAt: fc.integer({ min: 0, max: 3 }),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('transition' as const),
      id: fc.constantFrom(...IDS),
      from: status,
      to: status,
      at: fc.integer({ min: 0, max: 100 }),
      diff: fc.option(diff, { nil: null }),
    }),
  },
  fc.record({ op: fc.constant('saveDiff' as const), id: fc.constantFrom(...IDS), diff }),
);

interface ModelRow {
  record: StrategyRecord;
  events: StrategyEventRecord[];
}

/** What the step should do to the model: its outcome, or the error code it should fail with. */
function apply(model: Map<string, ModelRow>, s: Step): { value?: unknown; error?: string } {
  const holder = (hash: string, except?: string): ModelRow | undefined =>
    [...model.values()].find(
      (row) =>
        row.record.dagHash === hash &&
        row.record.status !== StrategyStatus.Stopped &&
        row.record.id !== except,
    );
  if (s.op === 'insert') {
    const strategy = testStrategy(s.id, { id: s.id, dagHash: HASHES[s.hash]!, createdAt: s.createdAt });
    const held = holder(strategy.dagHash);
    if (held !== undefined)
      return { value: { inserted: false, existingId: held.record.id, existingStatus: held.record.status } };
    if (model.has(s.id)) return { error: ErrorCode.InvalidArgument };
    model.set(s.id, {
      record: { ...strategy, status: StrategyStatus.Queued, diff: null },
      events: [
        {
          strategyId: s.id,
          event: 'INIT',
          fromStatus: null,
          toStatus: StrategyStatus.Queued,
          at: s.createdAt,
        },
      ],
    });
    return { value: { inserted: true } };
  }
  const row = model.get(s.id);
  if (s.op === 'saveDiff') {
    if (row === undefined) return { error: ErrorCode.NotFound };
    row.record = { ...row.record, diff: s.diff };
    return { value: undefined };
  }
  if (row === undefined || row.record.status !== s.from) return { value: false };
  if (
    s.from === StrategyStatus.Stopped &&
    s.to !== StrategyStatus.Stopped &&
    holder(row.record.dagHash, s.id)
  )
    return { error: ErrorCode.InvalidArgument };
  row.record = { ...row.record, status: s.to, ...(s.diff !== null && { diff: s.diff }) };
  row.events.push({ strategyId: s.id, event: `E${s.at}`, fromStatus: s.from, toStatus: s.to, at: s.at });
  return { value: true };
}

function run(store: StrategyStore, s: Step): Promise<unknown> {
  if (s.op === 'insert')
    return store.insert(testStrategy(s.id, { id: s.id, dagHash: HASHES[s.hash]!, createdAt: s.createdAt }));
  if (s.op === 'saveDiff') return store.saveDiff(s.id, s.diff);
  return store.transition(s.id, s.from, s.to, `E${s.at}`, s.at, ...(s.diff === null ? [] : [s.diff]));
}

/** Runs the generated sequences on fresh stores from `create`. */
export async function checkStoreAgainstModel(
  create: () => Promise<StrategyStore>,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 15 }), async (steps) => {
      const store = await create();
      const model = new Map<string, ModelRow>();
      try {
        for (const s of steps) {
          const expected = apply(model, s);
          const what = JSON.stringify(s);
          if (expected.error !== undefined) {
            const error = await run(store, s).then(
              () => null,
              (e: unknown) => e,
            );
            expect(error, what).toBeInstanceOf(QmtlError);
            expect((error as QmtlError).code, what).toBe(expected.error);
          } else {
            expect(await run(store, s), what).toEqual(expected.value);
          }
          for (const id of IDS) {
            const row = model.get(id);
            expect(await store.get(id), `get(${id}) after ${what}`).toEqual(row?.record ?? null);
            expect(await store.events(id), `events(${id}) after ${what}`).toEqual(row?.events ?? []);
          }
          for (const wanted of [[StrategyStatus.Queued, StrategyStatus.Processing], STRATEGY_STATUSES]) {
            const ids = [...model.values()]
              .filter((row) => wanted.includes(row.record.status))
              .sort((a, b) => a.record.createdAt - b.record.createdAt || (a.record.id < b.record.id ? -1 : 1))
              .map((row) => row.record.id);
            expect(await store.listByStatus(wanted), `listByStatus after ${what}`).toEqual(ids);
          }
        }
      } finally {
        await store.close();
      }
    }),
    { numRuns },
  );
}
