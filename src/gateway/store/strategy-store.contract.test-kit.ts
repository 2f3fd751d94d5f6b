import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { sha256Hex } from '../../common/hash.js';
import { RunType, STRATEGY_STATUSES, StrategyEvent, StrategyStatus } from '../strategy-status.js';
import type { NewStrategy, StoredDiff, StrategyStore } from './strategy-store.js';
import { checkStoreAgainstModel } from './strategy-store.model.test-kit.js';

/** 2023-11-14T22:13:20Z in epoch ms. */
const T0 = 1_700_000_000_000;

/** A valid submission for tests; `seed` makes its id and DAG hash unique. */
export function testStrategy(seed: string, overrides: Partial<NewStrategy> = {}): NewStrategy {
  const dagJson = JSON.stringify({ nodes: [{ node_id: sha256Hex(`node:${seed}`), node_type: 'EMA' }] });
  return {
    id: `strategy-${seed}`,
    dagHash: sha256Hex(dagJson),
    dagJson,
    meta: { owner: 'tests', seed, weights: [0.25, 0.75], nested: { live: false, note: null } },
    runType: RunType.Backtest,
    createdAt: T0,
    ...overrides,
  };
}

/** The SQL injection payload every adapter must store as plain text. */
export const INJECTION = `'); DROP TABLE strategies; --`;

/**
 * The behaviour every {@link StrategyStore} adapter must have. Call it from each adapter's test
 * with a factory that returns a store over an EMPTY database.
 * @example testStrategyStoreContract('memory', () => Promise.resolve(new MemoryStrategyStore()));
 */
export function testStrategyStoreContract(
  name: string,
  create: () => Promise<StrategyStore>,
  modelRuns = 100,
): void {
  describe(`${name} StrategyStore contract`, () => {
    let store: StrategyStore;
    let generated = 0;
    beforeEach(async () => {
      store = await create();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores a submission in queued with an INIT event and reads it back field for field', async () => {
      const strategy = testStrategy('a', { runType: RunType.Live, createdAt: T0 + 5 });
      expect(await store.insert(strategy)).toEqual({ inserted: true });
      expect(await store.get(strategy.id)).toEqual({
        ...strategy,
        status: StrategyStatus.Queued,
        diff: null,
      });
      expect(await store.events(strategy.id)).toEqual([
        {
          strategyId: strategy.id,
          event: 'INIT',
          fromStatus: null,
          toStatus: StrategyStatus.Queued,
          at: T0 + 5,
        },
      ]);
      const bare = testStrategy('b', { meta: null, runType: RunType.DryRun });
      await store.insert(bare);
      expect(await store.get(bare.id)).toMatchObject({ meta: null, runType: RunType.DryRun });
    });

    it('answers null and no events for an unknown id', async () => {
      expect(await store.get('missing')).toBeNull();
      expect(await store.events('missing')).toEqual([]);
    });

    it('returns the active holder of a DAG hash instead of inserting a second strategy', async () => {
      const first = testStrategy('a');
      await store.insert(first);
      const second = { ...testStrategy('b'), dagHash: first.dagHash };
      expect(await store.insert(second)).toEqual({
        inserted: false,
        existingId: first.id,
        existingStatus: StrategyStatus.Queued,
      });
      expect(await store.get(second.id)).toBeNull();
      expect(await store.events(second.id)).toEqual([]);

      await store.transition(
        first.id,
        StrategyStatus.Queued,
        StrategyStatus.Processing,
        StrategyEvent.Process,
        T0 + 1,
      );
      await store.transition(
        first.id,
        StrategyStatus.Processing,
        StrategyStatus.Failed,
        StrategyEvent.Fail,
        T0 + 2,
      );
      expect(await store.insert(second)).toEqual({
        inserted: false,
        existingId: first.id,
        existingStatus: StrategyStatus.Failed,
      });
    });

    it('frees the DAG hash once its holder is stopped', async () => {
      const first = testStrategy('a');
      await store.insert(first);
      expect(
        await store.transition(
          first.id,
          StrategyStatus.Queued,
          StrategyStatus.Stopped,
          StrategyEvent.Stop,
          T0 + 1,
        ),
      ).toBe(true);
      const second = { ...testStrategy('b'), dagHash: first.dagHash };
      expect(await store.insert(second)).toEqual({ inserted: true });
      const third = { ...testStrategy('c'), dagHash: first.dagHash };
      expect(await store.insert(third)).toEqual({
        inserted: false,
        existingId: second.id,
        existingStatus: StrategyStatus.Queued,
      });
      expect((await store.get(first.id))?.status).toBe(StrategyStatus.Stopped);
    });

    it('lets exactly one of 50 concurrent inserts of one DAG hash win; the others name it', async () => {
      const dagHash = sha256Hex('contended');
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.insert({ ...testStrategy(`race-${i}`), dagHash })),
      );
      const winners = outcomes.flatMap((outcome, i) => (outcome.inserted ? [`strategy-race-${i}`] : []));
      expect(winners).toHaveLength(1);
      const losers = outcomes.filter((outcome) => !outcome.inserted);
      expect(losers).toHaveLength(49);
      expect(new Set(losers.map((outcome) => (outcome.inserted ? '' : outcome.existingId)))).toEqual(
        new Set(winners),
      );
      expect(await store.listByStatus([StrategyStatus.Queued])).toEqual(winners);
    });

    it('moves a strategy only from the expected status and logs each move in order', async () => {
      const strategy = testStrategy('a');
      await store.insert(strategy);
      const move = (
        from: StrategyStatus,
        to: StrategyStatus,
        event: StrategyEvent,
        at: number,
      ): Promise<boolean> => store.transition(strategy.id, from, to, event, at);
      expect(
        await move(StrategyStatus.Queued, StrategyStatus.Processing, StrategyEvent.Process, T0 + 10),
      ).toBe(true);
      expect(
        await move(StrategyStatus.Queued, StrategyStatus.Processing, StrategyEvent.Process, T0 + 11),
      ).toBe(false);
      expect(await move(StrategyStatus.Processing, StrategyStatus.Failed, StrategyEvent.Fail, T0 + 20)).toBe(
        true,
      );
      expect(await move(StrategyStatus.Failed, StrategyStatus.Processing, StrategyEvent.Retry, T0 + 30)).toBe(
        true,
      );
      expect(
        await move(StrategyStatus.Processing, StrategyStatus.Completed, StrategyEvent.Complete, T0 + 40),
      ).toBe(true);
      expect(await move(StrategyStatus.Processing, StrategyStatus.Failed, StrategyEvent.Fail, T0 + 50)).toBe(
        false,
      );
      expect(
        await store.transition(
          'missing',
          StrategyStatus.Queued,
          StrategyStatus.Processing,
          StrategyEvent.Process,
          T0,
        ),
      ).toBe(false);

      expect((await store.get(strategy.id))?.status).toBe(StrategyStatus.Completed);
      const events = await store.events(strategy.id);
      expect(
        events.map(({ event, fromStatus, toStatus, at }) => [event, fromStatus, toStatus, at - T0]),
      ).toEqual([
        ['INIT', null, 'queued', 0],
        ['PROCESS', 'queued', 'processing', 10],
        ['FAIL', 'processing', 'failed', 20],
        ['RETRY', 'failed', 'processing', 30],
        ['COMPLETE', 'processing', 'completed', 40],
      ]);
      expect(events.every((event) => event.strategyId === strategy.id)).toBe(true);
      expect(await store.events('missing')).toEqual([]);
    });

    it('refuses to move a stopped strategy back while another strategy holds its DAG hash', async () => {
      const first = testStrategy('a');
      await store.insert(first);
      await store.transition(
        first.id,
        StrategyStatus.Queued,
        StrategyStatus.Stopped,
        StrategyEvent.Stop,
        T0 + 1,
      );
      await store.insert({ ...testStrategy('b'), dagHash: first.dagHash });
      await expect(
        store.transition(
          first.id,
          StrategyStatus.Stopped,
          StrategyStatus.Queued,
          StrategyEvent.Retry,
          T0 + 2,
        ),
      ).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
      expect((await store.get(first.id))?.status).toBe(StrategyStatus.Stopped);
      expect(await store.events(first.id)).toHaveLength(2);
    });

    it('keeps the latest diff; a queue map value is a topic or a list of topics', async () => {
      const strategy = testStrategy('a');
      await store.insert(strategy);
      const first: StoredDiff = {
        sentinelId: 'sentinel-1',
        queueMap: { price: 'asset_price_v1', tags: ['asset_a_v1', 'asset_b_v1'], none: [] },
        topicMap: { ema: 'asset_EMA_abc123_v1' },
      };
      await store.saveDiff(strategy.id, first);
      expect((await store.get(strategy.id))?.diff).toEqual(first);
      const second: StoredDiff = { sentinelId: null, queueMap: {}, topicMap: {} };
      await store.saveDiff(strategy.id, second);
      expect(await store.get(strategy.id)).toMatchObject({ diff: second, status: StrategyStatus.Queued });
      await expect(store.saveDiff('missing', first)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    });

    it('stores the diff with a transition in the same write, and nothing when the move is refused', async () => {
      const strategy = testStrategy('d');
      await store.insert(strategy);
      const diff: StoredDiff = { sentinelId: 's', queueMap: { a: 'topic-a' }, topicMap: { b: 'topic-b' } };
      const refused = await store.transition(
        strategy.id,
        StrategyStatus.Processing,
        StrategyStatus.Completed,
        'COMPLETE',
        1,
        diff,
      );
      expect(refused).toBe(false);
      expect((await store.get(strategy.id))?.diff).toBeNull();
      expect(
        await store.transition(strategy.id, StrategyStatus.Queued, StrategyStatus.Processing, 'PROCESS', 2),
      ).toBe(true);
      expect((await store.get(strategy.id))?.diff).toBeNull();
      expect(
        await store.transition(
          strategy.id,
          StrategyStatus.Processing,
          StrategyStatus.Completed,
          'COMPLETE',
          3,
          diff,
        ),
      ).toBe(true);
      expect(await store.get(strategy.id)).toMatchObject({ status: StrategyStatus.Completed, diff });
      // A later move without a diff keeps it.
      expect(
        await store.transition(strategy.id, StrategyStatus.Completed, StrategyStatus.Stopped, 'STOP', 4),
      ).toBe(true);
      expect((await store.get(strategy.id))?.diff).toEqual(diff);
    });

    it('lists ids by status, oldest first and by id on equal times', async () => {
      const inserts = [
        testStrategy('late', { createdAt: T0 + 30 }),
        testStrategy('b-tie', { createdAt: T0 + 10 }),
        testStrategy('a-tie', { createdAt: T0 + 10 }),
        testStrategy('early', { createdAt: T0 }),
        testStrategy('done', { createdAt: T0 - 10 }),
      ];
      for (const strategy of inserts) await store.insert(strategy);
      await store.transition(
        'strategy-done',
        StrategyStatus.Queued,
        StrategyStatus.Stopped,
        StrategyEvent.Stop,
        T0,
      );
      await store.transition(
        'strategy-late',
        StrategyStatus.Queued,
        StrategyStatus.Processing,
        StrategyEvent.Process,
        T0,
      );
      expect(await store.listByStatus([StrategyStatus.Queued, StrategyStatus.Processing])).toEqual([
        'strategy-early',
        'strategy-a-tie',
        'strategy-b-tie',
        'strategy-late',
      ]);
      expect(await store.listByStatus([StrategyStatus.Stopped])).toEqual(['strategy-done']);
      expect(await store.listByStatus([StrategyStatus.Failed])).toEqual([]);
      expect(await store.listByStatus([])).toEqual([]);
    });

    it('refuses a second strategy with an id already stored and keeps the first', async () => {
      const strategy = testStrategy('a');
      await store.insert(strategy);
      await expect(store.insert(testStrategy('b', { id: strategy.id }))).rejects.toMatchObject({
        code: ErrorCode.InvalidArgument,
      });
      expect(await store.get(strategy.id)).toMatchObject({ dagHash: strategy.dagHash });
      expect(await store.events(strategy.id)).toHaveLength(1);
    });

    it('follows the model over generated inserts, transitions and diff saves', async () => {
      await checkStoreAgainstModel(create, modelRuns);
    }, 120_000);

    it('stores quotes and injection payloads verbatim', async () => {
      const hostile = testStrategy('x', {
        id: `id ${INJECTION}`,
        dagHash: `hash " ${INJECTION}`,
        dagJson: JSON.stringify({ nodes: [], note: `${INJECTION} \\ "quoted" ünïcødé 🚀` }),
        meta: { [`key ${INJECTION}`]: `value ${INJECTION}`, "it's": ['"', "'", '\\', '%', '_', '$1'] },
      });
      expect(await store.insert(hostile)).toEqual({ inserted: true });
      expect(await store.get(hostile.id)).toEqual({ ...hostile, status: StrategyStatus.Queued, diff: null });
      expect(
        await store.transition(hostile.id, StrategyStatus.Queued, StrategyStatus.Processing, INJECTION, T0),
      ).toBe(true);
      const diff: StoredDiff = {
        sentinelId: INJECTION,
        queueMap: { [INJECTION]: [INJECTION] },
        topicMap: {},
      };
      await store.saveDiff(hostile.id, diff);
      expect((await store.get(hostile.id))?.diff).toEqual(diff);
      expect((await store.events(hostile.id)).at(-1)?.event).toBe(INJECTION);
      expect(await store.listByStatus([StrategyStatus.Processing])).toEqual([hostile.id]);
      const after = testStrategy('after');
      expect(await store.insert(after)).toEqual({ inserted: true });
      expect(await store.get(after.id)).not.toBeNull();
    });

    it('lets exactly one of generated concurrent moves from one status win', async () => {
      await fc.assert(
        fc.asyncProperty(
          // Moves away from queued: a move to queued itself leaves the status as it was.
          fc.array(fc.constantFrom(...STRATEGY_STATUSES.filter((s) => s !== StrategyStatus.Queued)), {
            minLength: 2,
            maxLength: 12,
          }),
          fc.boolean(),
          async (targets, withDiffs) => {
            const strategy = testStrategy(`cas-${(generated += 1)}`);
            await store.insert(strategy);
            const won = await Promise.all(
              targets.map((to, k) =>
                store.transition(
                  strategy.id,
                  StrategyStatus.Queued,
                  to,
                  `MOVE_${k}`,
                  T0 + k,
                  ...(withDiffs ? [{ sentinelId: `s${k}`, queueMap: {}, topicMap: {} }] : []),
                ),
              ),
            );
            expect(won.filter(Boolean)).toHaveLength(1);
            const k = won.indexOf(true);
            const record = await store.get(strategy.id);
            expect(record?.status).toBe(targets[k]);
            expect(record?.diff?.sentinelId ?? null).toBe(withDiffs ? `s${k}` : null);
            expect((await store.events(strategy.id)).map((e) => e.event)).toEqual(['INIT', `MOVE_${k}`]);
          },
        ),
        { numRuns: 50 },
      );
    });

    it('stores generated meta and DAG text of any content verbatim', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.jsonValue({ maxDepth: 3 }).map((value) => ({ value })),
          fc.string({ unit: 'binary', maxLength: 40 }),
          async (meta, note) => {
            const strategy = testStrategy(`gen-${(generated += 1)}`, {
              dagJson: JSON.stringify({ nodes: [], note }),
              meta,
            });
            expect(await store.insert(strategy)).toEqual({ inserted: true });
            expect(await store.get(strategy.id)).toEqual({
              ...strategy,
              meta: JSON.parse(JSON.stringify(meta)) as unknown,
              status: StrategyStatus.Queued,
              diff: null,
            });
          },
        ),
        { numRuns: 100 },
      );
    });

    it('is healthy while open; after close it reports unhealthy and rejects calls as unavailable', async () => {
      expect(await store.health()).toBe(true);
      await store.close();
      expect(await store.health()).toBe(false);
      await expect(store.get('any')).rejects.toMatchObject({ code: ErrorCode.Unavailable });
      await expect(store.insert(testStrategy('late'))).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    });
  });
}
