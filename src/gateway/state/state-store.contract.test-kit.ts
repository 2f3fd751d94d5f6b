import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { StrategyStatus } from '../strategy-status.js';
import type { StateStore } from './state-store.js';
import { checkStateAgainstModel } from './state-store.model.test-kit.js';

/** One fresh, empty store for one test, as built by the adapter's test. */
export interface StateStoreFixture {
  readonly store: StateStore;
  /** Removes what the test left behind and closes the store (which the test may have closed). */
  cleanup(): Promise<void>;
  /**
   * Moves the store's clock forward by `ms` (an injected clock). Without it the kit waits
   * `ms` of real time, so lock TTLs really elapse on the server.
   */
  advance?(ms: number): Promise<void>;
}

/** A lock TTL long enough that a loaded machine never lets it lapse between two calls. */
const TTL_MS = 300;

/**
 * The behaviour every {@link StateStore} adapter must have: the reliable FIFO, NX/PX locks with
 * compare-and-delete release, the status cache, producer leases and ping. Call it from each adapter's test.
 * @example testStateStoreContract('memory', () => Promise.resolve({ store: new MemoryStateStore(), cleanup: () => Promise.resolve() }));
 */
export function testStateStoreContract(
  name: string,
  create: () => Promise<StateStoreFixture>,
  modelRuns = 100,
): void {
  describe(`${name} StateStore contract`, () => {
    it('follows the model over generated FIFO, status and lease operations', async () => {
      await checkStateAgainstModel(create, modelRuns);
    }, 120_000);

    let fixture: StateStoreFixture;
    let store: StateStore;
    const advance = (ms: number): Promise<void> =>
      fixture.advance === undefined ? sleep(ms) : fixture.advance(ms);

    beforeEach(async () => {
      fixture = await create();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('FIFO', () => {
      it('claims null from an empty FIFO', async () => {
        expect(await store.claim()).toBeNull();
        expect(await store.queued()).toEqual([]);
        expect(await store.inFlight()).toEqual([]);
      });

      it('hands ids out oldest first', async () => {
        for (const id of ['s1', 's2', 's3']) await store.enqueue(id);
        expect(await store.queued()).toEqual(['s1', 's2', 's3']);
        expect([await store.claim(), await store.claim(), await store.claim()]).toEqual(['s1', 's2', 's3']);
        expect(await store.claim()).toBeNull();
      });

      it('moves a claimed id to in-flight, and ack removes exactly one occurrence', async () => {
        for (const id of ['s1', 's1', 's2']) await store.enqueue(id);
        expect(await store.claim()).toBe('s1');
        expect(await store.queued()).toEqual(['s1', 's2']);
        expect(await store.inFlight()).toEqual(['s1']);
        expect(await store.claim()).toBe('s1');
        expect(await store.inFlight()).toEqual(['s1', 's1']);
        await store.ack('s1');
        expect(await store.inFlight()).toEqual(['s1']);
        await store.ack('unknown');
        expect(await store.inFlight()).toEqual(['s1']);
        expect(await store.queued()).toEqual(['s2']);
      });

      it('requeues an in-flight id at the tail of the FIFO', async () => {
        for (const id of ['s1', 's2', 's3']) await store.enqueue(id);
        expect(await store.claim()).toBe('s1');
        expect(await store.claim()).toBe('s2');
        await store.requeue('s1');
        expect(await store.queued()).toEqual(['s3', 's1']);
        expect(await store.inFlight()).toEqual(['s2']);
      });

      it('requeues nothing for an id that is not in flight', async () => {
        await store.enqueue('s1');
        await store.requeue('s1');
        await store.requeue('never-seen');
        expect(await store.queued()).toEqual(['s1']);
        expect(await store.inFlight()).toEqual([]);
      });

      it('gives each of 10 ids to exactly one of 50 concurrent claims', async () => {
        const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
        for (const id of ids) await store.enqueue(id);
        const claims = await Promise.all(Array.from({ length: 50 }, () => store.claim()));
        const claimed = claims.filter((id): id is string => id !== null);
        expect(claimed.sort()).toEqual([...ids].sort());
        expect(claims.filter((id) => id === null)).toHaveLength(40);
        expect((await store.inFlight()).sort()).toEqual([...ids].sort());
        expect(await store.queued()).toEqual([]);
      });

      it('keeps ids with separators and non-ASCII characters verbatim', async () => {
        const id = 'strategy:α β/✓ {x}';
        await store.enqueue(id);
        expect(await store.claim()).toBe(id);
        await store.setStatus(id, StrategyStatus.Processing);
        expect(await store.getStatus(id)).toBe(StrategyStatus.Processing);
        expect(await store.acquireLock(id, 'w1', TTL_MS)).toBe(true);
        expect(await store.lockHolder(id)).toBe('w1');
      });
    });

    describe('locks', () => {
      it('grants a lock to one owner at a time, the holder included', async () => {
        expect(await store.lockHolder('s1')).toBeNull();
        expect(await store.acquireLock('s1', 'w1', TTL_MS)).toBe(true);
        expect(await store.acquireLock('s1', 'w2', TTL_MS)).toBe(false);
        expect(await store.acquireLock('s1', 'w1', TTL_MS)).toBe(false);
        expect(await store.lockHolder('s1')).toBe('w1');
        expect(await store.acquireLock('s2', 'w2', TTL_MS)).toBe(true);
      });

      it('grants a lock to exactly one of 20 concurrent owners', async () => {
        const owners = Array.from({ length: 20 }, (_, i) => `w${i}`);
        const granted = await Promise.all(owners.map((o) => store.acquireLock('s1', o, TTL_MS)));
        expect(granted.filter(Boolean)).toHaveLength(1);
        expect(await store.lockHolder('s1')).toBe(owners[granted.indexOf(true)]);
      });

      it('frees a lock once its TTL has passed', async () => {
        expect(await store.acquireLock('s1', 'w1', TTL_MS)).toBe(true);
        await advance(TTL_MS + 50);
        expect(await store.lockHolder('s1')).toBeNull();
        expect(await store.acquireLock('s1', 'w2', TTL_MS)).toBe(true);
        expect(await store.lockHolder('s1')).toBe('w2');
      });

      it('releases only for the owner that holds the lock', async () => {
        await store.acquireLock('s1', 'w1', TTL_MS);
        await store.releaseLock('s1', 'w2');
        expect(await store.lockHolder('s1')).toBe('w1');
        await store.releaseLock('s1', 'w1');
        expect(await store.lockHolder('s1')).toBeNull();
        await store.releaseLock('s1', 'w1');
        expect(await store.acquireLock('s1', 'w2', TTL_MS)).toBe(true);
      });

      it('ignores a release by an owner whose lock expired and was taken over', async () => {
        await store.acquireLock('s1', 'w1', TTL_MS);
        await advance(TTL_MS + 50);
        expect(await store.acquireLock('s1', 'w2', TTL_MS * 10)).toBe(true);
        await store.releaseLock('s1', 'w1');
        expect(await store.lockHolder('s1')).toBe('w2');
      });

      it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses a TTL of %s ms', async (ttlMs) => {
        const error = await store.acquireLock('s1', 'w1', ttlMs).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
        expect((error as Error).message).toMatch(/^Lock TTL must be a positive integer of milliseconds/);
        expect(await store.lockHolder('s1')).toBeNull();
      });
    });

    describe('status cache', () => {
      it('reads null for a strategy whose status is not cached', async () => {
        expect(await store.getStatus('unknown')).toBeNull();
      });

      it('reads back the last status written, per strategy', async () => {
        await store.setStatus('s1', StrategyStatus.Queued);
        await store.setStatus('s2', StrategyStatus.Failed);
        await store.setStatus('s1', StrategyStatus.Completed);
        expect(await store.getStatus('s1')).toBe(StrategyStatus.Completed);
        expect(await store.getStatus('s2')).toBe(StrategyStatus.Failed);
      });
    });

    describe('leases', () => {
      /** An epoch-ms base, so deadlines have the magnitude real ones have. */
      const T = 1_700_000_000_000;

      it('has no expired lease before any is renewed', async () => {
        expect(await store.expiredLeases(T * 2)).toEqual([]);
      });

      it('lists the leases whose deadline is at or before now, earliest first', async () => {
        await store.renewLease('s1', T + 1_000);
        await store.renewLease('s2', T + 2_000);
        await store.renewLease('s3', T + 1_500);
        expect(await store.expiredLeases(T + 999)).toEqual([]);
        expect(await store.expiredLeases(T + 1_000)).toEqual(['s1']);
        expect(await store.expiredLeases(T + 1_500)).toEqual(['s1', 's3']);
        expect(await store.expiredLeases(T + 5_000)).toEqual(['s1', 's3', 's2']);
        // Reading does not consume: the monitor drops a lease only once it acted on it.
        expect(await store.expiredLeases(T + 5_000)).toEqual(['s1', 's3', 's2']);
      });

      it('moves a lease to its new deadline when renewed, keeping one entry per id', async () => {
        await store.renewLease('s1', T + 1_000);
        await store.renewLease('s2', T + 1_200);
        await store.renewLease('s1', T + 3_000);
        expect(await store.expiredLeases(T + 2_000)).toEqual(['s2']);
        expect(await store.expiredLeases(T + 3_000)).toEqual(['s2', 's1']);
      });

      it('drops a lease, and dropping one that does not exist does nothing', async () => {
        await store.renewLease('s1', T);
        await store.renewLease('s2', T);
        await store.dropLease('s1');
        await store.dropLease('s1');
        await store.dropLease('never-leased');
        expect(await store.expiredLeases(T)).toEqual(['s2']);
      });

      it('keeps leases apart from the FIFO and the status cache', async () => {
        await store.renewLease('s1', T);
        await store.setStatus('s2', StrategyStatus.Completed);
        await store.enqueue('s3');
        expect(await store.expiredLeases(T)).toEqual(['s1']);
        expect(await store.getStatus('s1')).toBeNull();
        expect(await store.queued()).toEqual(['s3']);
      });

      it('keeps ids with separators and non-ASCII characters verbatim', async () => {
        const id = 'strategy:α β/✓ {x}';
        await store.renewLease(id, T);
        expect(await store.expiredLeases(T)).toEqual([id]);
        await store.dropLease(id);
        expect(await store.expiredLeases(T)).toEqual([]);
      });
    });

    describe('lifecycle', () => {
      it('answers ping until closed, and closes twice without error', async () => {
        expect(await store.ping()).toBe(true);
        await store.close();
        await store.close();
        expect(await store.ping()).toBe(false);
      });
    });
  });
}
