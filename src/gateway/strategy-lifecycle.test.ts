import { describe, expect, it, vi } from 'vitest';
import { logger } from '../common/logger.js';
import type { EventHub, GatewayEventData, GatewayEventType } from './event-hub.js';
import { MemoryStateStore } from './state/memory-state-store.js';
import type { StateStore } from './state/state-store.js';
import { MemoryStrategyStore } from './store/memory-strategy-store.js';
import type { NewStrategy, StrategyStore } from './store/strategy-store.js';
import { StrategyLifecycle } from './strategy-lifecycle.js';
import type { StrategyStatus } from './strategy-status.js';

const T0 = Date.parse('2025-08-04T12:00:00.000Z');

/** An {@link EventHub} that records what it is given. */
class RecordingHub implements EventHub {
  readonly published: { type: string; data: unknown }[] = [];
  publish<T extends GatewayEventType>(type: T, data: GatewayEventData[T]): void {
    this.published.push({ type, data });
  }
}

/** A state store whose status writes fail while `failing` is true (Redis down). */
class FlakyStatusStore extends MemoryStateStore {
  failing = false;
  override setStatus(id: string, status: StrategyStatus): Promise<void> {
    if (this.failing) return Promise.reject(new Error('redis: connection refused'));
    return super.setStatus(id, status);
  }
}

function newStrategy(id: string): NewStrategy {
  return { id, dagHash: `hash-${id}`, dagJson: '{"nodes":[]}', meta: null, runType: 'live', createdAt: T0 };
}

interface Setup {
  lifecycle: StrategyLifecycle;
  store: StrategyStore;
  state: StateStore;
  hub: RecordingHub;
}

function setup(state: StateStore = new MemoryStateStore()): Setup {
  const store = new MemoryStrategyStore();
  const hub = new RecordingHub();
  let clock = T0;
  const lifecycle = new StrategyLifecycle({ store, state, events: hub, now: () => (clock += 1000) });
  return { lifecycle, store, state, hub };
}

describe('StrategyLifecycle', () => {
  it('logs INIT, PROCESS and COMPLETE with from/to, caches each status and publishes progress', async () => {
    const { lifecycle, store, state, hub } = setup();
    expect(await lifecycle.create(newStrategy('s1'))).toEqual({ inserted: true });
    expect(await state.getStatus('s1')).toBe('queued');
    expect(await lifecycle.transition('s1', 'PROCESS')).toBe('processing');
    expect(await state.getStatus('s1')).toBe('processing');
    const diff = { sentinelId: 's1-sentinel', queueMap: { a: 'topic-a' }, topicMap: { b: 'topic-b' } };
    expect(await lifecycle.transition('s1', 'COMPLETE', { diff })).toBe('completed');
    expect(await state.getStatus('s1')).toBe('completed');
    expect(await store.events('s1')).toEqual([
      { strategyId: 's1', event: 'INIT', fromStatus: null, toStatus: 'queued', at: T0 },
      { strategyId: 's1', event: 'PROCESS', fromStatus: 'queued', toStatus: 'processing', at: T0 + 1000 },
      { strategyId: 's1', event: 'COMPLETE', fromStatus: 'processing', toStatus: 'completed', at: T0 + 2000 },
    ]);
    expect((await store.get('s1'))?.diff).toEqual(diff);
    expect(hub.published).toEqual([
      { type: 'progress', data: { strategy_id: 's1', status: 'queued' } },
      { type: 'progress', data: { strategy_id: 's1', status: 'processing' } },
      { type: 'progress', data: { strategy_id: 's1', status: 'completed' } },
    ]);
  });

  it('finds the active strategy with the same DAG instead of creating a second one', async () => {
    const { lifecycle, state } = setup();
    await lifecycle.create(newStrategy('s1'));
    const again = await lifecycle.create({ ...newStrategy('s2'), dagHash: 'hash-s1' });
    expect(again).toEqual({ inserted: false, existingId: 's1', existingStatus: 'queued' });
    expect(await state.getStatus('s2')).toBeNull();
  });

  it('refuses an invalid transition and writes nothing: no event row, no diff, no cache, no progress', async () => {
    const { lifecycle, store, state, hub } = setup();
    await lifecycle.create(newStrategy('s1'));
    const diff = { sentinelId: 'x', queueMap: {}, topicMap: { n: 't' } };
    await expect(lifecycle.transition('s1', 'COMPLETE', { diff })).rejects.toMatchObject({
      code: 'QMTL_INVALID_TRANSITION',
    });
    await expect(lifecycle.transition('s1', 'RETRY')).rejects.toMatchObject({
      code: 'QMTL_INVALID_TRANSITION',
    });
    expect((await store.events('s1')).map((e) => e.event)).toEqual(['INIT']);
    expect(await store.get('s1')).toMatchObject({ status: 'queued', diff: null });
    expect(await state.getStatus('s1')).toBe('queued');
    expect(hub.published).toEqual([{ type: 'progress', data: { strategy_id: 's1', status: 'queued' } }]);
  });

  it('uses a status hint to skip the read, and reads the real status when the hint is stale', async () => {
    const { lifecycle, store } = setup();
    await lifecycle.create(newStrategy('s1'));
    const reads = vi.spyOn(store, 'get');
    expect(await lifecycle.transition('s1', 'PROCESS', { from: 'queued' })).toBe('processing');
    expect(reads).not.toHaveBeenCalled();
    expect(await lifecycle.transition('s1', 'STOP', { from: 'queued' })).toBe('stopped');
    expect(reads).toHaveBeenCalledTimes(1);
    expect((await store.events('s1')).map((e) => [e.event, e.fromStatus])).toEqual([
      ['INIT', null],
      ['PROCESS', 'queued'],
      ['STOP', 'processing'],
    ]);
  });

  it('refuses any event after stopped', async () => {
    const { lifecycle, store } = setup();
    await lifecycle.create(newStrategy('s1'));
    await lifecycle.transition('s1', 'STOP');
    for (const event of ['PROCESS', 'COMPLETE', 'FAIL', 'RETRY', 'STOP'] as const) {
      await expect(lifecycle.transition('s1', event)).rejects.toMatchObject({
        code: 'QMTL_INVALID_TRANSITION',
      });
    }
    expect((await store.events('s1')).map((e) => e.event)).toEqual(['INIT', 'STOP']);
  });

  it('answers QMTL_NOT_FOUND for an unknown id, and status() null', async () => {
    const { lifecycle } = setup();
    await expect(lifecycle.transition('ghost', 'PROCESS')).rejects.toMatchObject({
      code: 'QMTL_NOT_FOUND',
    });
    expect(await lifecycle.status('ghost')).toBeNull();
  });

  it('decides again from the new status when another writer moved the strategy first', async () => {
    const { lifecycle, store } = setup();
    await lifecycle.create(newStrategy('s1'));
    // A stop lands between this transition's read and its compare-and-set.
    const realGet = store.get.bind(store);
    const get = vi.spyOn(store, 'get').mockImplementationOnce(async (id) => {
      const record = await realGet(id);
      await store.transition(id, 'queued', 'stopped', 'STOP', T0);
      return record;
    });
    await expect(lifecycle.transition('s1', 'PROCESS')).rejects.toMatchObject({
      code: 'QMTL_INVALID_TRANSITION',
    });
    expect(get).toHaveBeenCalledTimes(2);
    expect((await store.events('s1')).map((e) => e.event)).toEqual(['INIT', 'STOP']);
  });

  describe('after Redis loss', () => {
    it('answers status() from the database, re-fills the cache and writes no event', async () => {
      const store = new MemoryStrategyStore();
      const hub = new RecordingHub();
      const before = new StrategyLifecycle({ store, state: new MemoryStateStore(), events: hub });
      await before.create(newStrategy('s1'));
      await before.transition('s1', 'PROCESS');
      await before.transition('s1', 'COMPLETE');
      const eventsBefore = await store.events('s1');
      // Redis comes back empty: a fresh state store over the same database.
      const freshState = new MemoryStateStore();
      const after = new StrategyLifecycle({ store, state: freshState, events: hub });
      const getStatus = vi.spyOn(freshState, 'getStatus');
      expect(await after.status('s1')).toBe('completed');
      expect(await freshState.getStatus('s1')).toBe('completed');
      getStatus.mockClear();
      const storeGet = vi.spyOn(store, 'get');
      expect(await after.status('s1')).toBe('completed');
      expect(storeGet).not.toHaveBeenCalled(); // the second read is a cache hit
      expect(await store.events('s1')).toEqual(eventsBefore);
      expect(hub.published.filter((e) => e.type === 'progress')).toHaveLength(3);
    });

    it('a later transition works on the database status even when the cache is empty', async () => {
      const store = new MemoryStrategyStore();
      const hub = new RecordingHub();
      await new StrategyLifecycle({ store, state: new MemoryStateStore(), events: hub }).create(
        newStrategy('s1'),
      );
      const freshState = new MemoryStateStore();
      const after = new StrategyLifecycle({ store, state: freshState, events: hub });
      expect(await after.transition('s1', 'PROCESS')).toBe('processing');
      expect(await freshState.getStatus('s1')).toBe('processing');
      expect((await store.events('s1')).map((e) => e.event)).toEqual(['INIT', 'PROCESS']);
    });
  });

  describe('when the state store cannot be written', () => {
    it('still commits the transition, serves the database status, and repairCache() fixes the cache', async () => {
      const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
      const state = new FlakyStatusStore();
      const { lifecycle, store, hub } = setup(state);
      await lifecycle.create(newStrategy('s1'));
      state.failing = true;
      expect(await lifecycle.transition('s1', 'PROCESS')).toBe('processing');
      expect((await store.get('s1'))?.status).toBe('processing');
      expect(hub.published).toEqual([
        { type: 'progress', data: { strategy_id: 's1', status: 'queued' } },
        { type: 'progress', data: { strategy_id: 's1', status: 'processing' } },
      ]);
      // The cache still says queued; status() must not believe it.
      expect(await state.getStatus('s1')).toBe('queued');
      expect(await lifecycle.status('s1')).toBe('processing');
      expect(await lifecycle.repairCache()).toBe(1); // Redis still down: still stale
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ strategyId: 's1' }),
        'could not cache a strategy status; will retry',
      );
      state.failing = false;
      expect(await lifecycle.repairCache()).toBe(0);
      expect(await state.getStatus('s1')).toBe('processing');
      expect(await lifecycle.status('s1')).toBe('processing');
      expect((await store.events('s1')).map((e) => e.event)).toEqual(['INIT', 'PROCESS']);
      warn.mockRestore();
    });

    it('never lets a repair or a re-fill overwrite a newer status with the one it read before', async () => {
      const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
      const state = new FlakyStatusStore();
      const { lifecycle, store } = setup(state);
      await lifecycle.create(newStrategy('s1'));
      state.failing = true;
      await lifecycle.transition('s1', 'PROCESS');
      state.failing = false;
      // The repair reads "processing" from the database, and is slow to write it back...
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const read = store.get.bind(store);
      vi.spyOn(store, 'get').mockImplementation(async (id) => {
        const record = await read(id);
        await held;
        return record;
      });
      const repair = lifecycle.repairCache();
      // ...while the worker completes the strategy (it knows the status, so it reads nothing).
      const completed = lifecycle.transition('s1', 'COMPLETE', { from: 'processing' });
      await new Promise((resolve) => setTimeout(resolve, 10));
      release();
      await Promise.all([repair, completed]);
      expect(await state.getStatus('s1')).toBe('completed');
      expect(await lifecycle.status('s1')).toBe('completed');
      warn.mockRestore();
    });

    it('still creates the strategy when its first status cannot be cached', async () => {
      const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
      const state = new FlakyStatusStore();
      state.failing = true;
      const { lifecycle } = setup(state);
      expect(await lifecycle.create(newStrategy('s1'))).toEqual({ inserted: true });
      expect(await lifecycle.status('s1')).toBe('queued');
      state.failing = false;
      expect(await lifecycle.repairCache()).toBe(0);
      expect(await state.getStatus('s1')).toBe('queued');
      warn.mockRestore();
    });

    it('falls back to the database when reading the cache fails', async () => {
      const state = new MemoryStateStore();
      const { lifecycle } = setup(state);
      await lifecycle.create(newStrategy('s1'));
      vi.spyOn(state, 'getStatus').mockRejectedValue(new Error('redis: connection refused'));
      expect(await lifecycle.status('s1')).toBe('queued');
    });
  });
});
