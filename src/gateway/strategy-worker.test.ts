import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import type { DagClient, GatewayDiff } from './dag-client.js';
import type { EventHub, GatewayEventData, GatewayEventType } from './event-hub.js';
import { MemoryStateStore } from './state/memory-state-store.js';
import { MemoryStrategyStore } from './store/memory-strategy-store.js';
import { StrategyLifecycle } from './strategy-lifecycle.js';
import { StrategyWorker, type StrategyWorkerOptions } from './strategy-worker.js';
import { storedDagJson } from './submission.js';

const T0 = Date.parse('2025-08-04T12:00:00.000Z');
const LOCK_TTL_MS = 1_000;

/** A deferred promise. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A scripted DAG Manager: records every diff, fails with the queued errors first, and can hold
 * diffs until released (to have work in flight).
 */
class FakeDagClient implements DagClient {
  readonly calls: string[] = [];
  readonly errors: Error[] = [];
  private hold: Promise<void> | null = null;
  private readonly entered: { count: number; resolve: () => void }[] = [];

  /** Makes every diff wait until the returned function is called. */
  holdDiffs(): () => void {
    const gate = deferred();
    this.hold = gate.promise;
    return () => {
      this.hold = null;
      gate.resolve();
    };
  }

  /** Resolves once `count` diffs have started. */
  started(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.entered.push({ count, resolve }));
  }

  async diff(strategyId: string): Promise<GatewayDiff> {
    this.calls.push(strategyId);
    for (const waiter of this.entered.filter((w) => this.calls.length >= w.count)) waiter.resolve();
    if (this.hold) await this.hold;
    const error = this.errors.shift();
    if (error) throw error;
    return {
      sentinelId: `${strategyId}-sentinel`,
      queueMap: { shared: 'topic-shared', own: `topic-${strategyId}` },
      topicMap: { own: `topic-${strategyId}` },
      bufferNodes: [],
    };
  }

  getQueues(): Promise<string[]> {
    return Promise.resolve([]);
  }
  cleanup(_strategyId: string): Promise<string[]> {
    return Promise.resolve([]);
  }
  healthy(): Promise<boolean> {
    return Promise.resolve(true);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class RecordingHub implements EventHub {
  readonly published: { type: string; data: Record<string, unknown> }[] = [];
  publish<T extends GatewayEventType>(type: T, data: GatewayEventData[T]): void {
    this.published.push({ type, data });
  }
}

interface Setup {
  clock: { now: number };
  store: MemoryStrategyStore;
  state: MemoryStateStore;
  lifecycle: StrategyLifecycle;
  dagClient: FakeDagClient;
  hub: RecordingHub;
  /** A worker on the shared parts (stopped after the test). */
  worker: (options?: Partial<StrategyWorkerOptions>) => StrategyWorker;
  /** Stores a strategy in `queued` (not enqueued). */
  create: (id: string) => Promise<void>;
  /** Stores a strategy and enqueues it, as the intake does. */
  submit: (id: string) => Promise<void>;
  eventsOf: (id: string) => Promise<string[]>;
}

const workers: StrategyWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  vi.restoreAllMocks();
});
beforeEach(() => {
  // Transient failures and recoveries are logged by design; keep the output readable.
  vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
});

function setup(): Setup {
  const clock = { now: T0 };
  const now = (): number => clock.now;
  const store = new MemoryStrategyStore();
  const state = new MemoryStateStore({ now });
  const hub = new RecordingHub();
  const lifecycle = new StrategyLifecycle({ store, state, events: hub, now });
  const dagClient = new FakeDagClient();
  const create = async (id: string): Promise<void> => {
    await lifecycle.create({
      id,
      dagHash: `hash-${id}`,
      dagJson: storedDagJson(chainDag(2, id), id, true),
      meta: null,
      runType: 'backtest',
      createdAt: clock.now++,
    });
  };
  return {
    clock,
    store,
    state,
    lifecycle,
    dagClient,
    hub,
    worker: (options = {}) => {
      const worker = new StrategyWorker({
        store,
        state,
        lifecycle,
        dagClient,
        events: hub,
        lockTtlMs: LOCK_TTL_MS,
        pollMs: 5,
        sweepMs: 3_600_000,
        ...options,
      });
      workers.push(worker);
      return worker;
    },
    create,
    submit: async (id) => {
      await create(id);
      await state.enqueue(id);
    },
    eventsOf: async (id) => (await store.events(id)).map((e) => e.event),
  };
}

const unavailable = (): QmtlError => new QmtlError(ErrorCode.Unavailable, 'DAG Manager unavailable');

describe('StrategyWorker', () => {
  it('processes the FIFO in order, completes each strategy and publishes progress and queue_map', async () => {
    const { worker, submit, dagClient, store, state, hub, eventsOf } = setup();
    for (const id of ['a', 'b', 'c']) await submit(id);
    const running = worker({ concurrency: 1 });
    const done = running.waitFor('c', 5_000);
    await running.start();
    expect((await done)?.status).toBe('completed');
    expect(dagClient.calls).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'b', 'c']) {
      expect(await eventsOf(id)).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
      expect(await state.lockHolder(id)).toBeNull();
    }
    expect(await state.queued()).toEqual([]);
    expect(await state.inFlight()).toEqual([]);
    // queue_map holds only what the strategy consumes; topic_map what it produces.
    expect((await store.get('a'))?.diff).toEqual({
      sentinelId: 'a-sentinel',
      queueMap: { shared: 'topic-shared' },
      topicMap: { own: 'topic-a' },
    });
    expect(hub.published.filter((e) => e.data['strategy_id'] === 'a')).toEqual([
      { type: 'progress', data: { strategy_id: 'a', status: 'queued' } },
      { type: 'progress', data: { strategy_id: 'a', status: 'processing' } },
      { type: 'progress', data: { strategy_id: 'a', status: 'completed' } },
      { type: 'queue_map', data: { strategy_id: 'a', queue_map: { shared: 'topic-shared' } } },
    ]);
  });

  it('processes a strategy once when two workers hold duplicate queue entries of it', async () => {
    const { worker, submit, state, dagClient, eventsOf } = setup();
    await submit('s1');
    await state.enqueue('s1');
    const [first, second] = [worker({ workerId: 'w1' }), worker({ workerId: 'w2' })];
    const release = dagClient.holdDiffs();
    const firstRun = first.runOnce();
    await dagClient.started(1);
    expect(await state.lockHolder('s1')).toBe('w1');
    // The second worker claims the duplicate while the first holds lock:s1.
    expect(await second.runOnce()).toBe('s1');
    release();
    expect(await firstRun).toBe('s1');
    expect(dagClient.calls).toEqual(['s1']);
    expect(await eventsOf('s1')).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
    expect(await state.queued()).toEqual([]);
    expect(await state.inFlight()).toEqual([]);
    expect(await state.lockHolder('s1')).toBeNull();
  });

  it('processes a strategy once when two running workers race over duplicate entries', async () => {
    const { worker, submit, state, store, dagClient, eventsOf } = setup();
    for (const id of ['s1', 's2']) {
      await submit(id);
      await state.enqueue(id);
    }
    const [first, second] = [worker({ workerId: 'w1' }), worker({ workerId: 'w2' })];
    await Promise.all([first.start(), second.start()]);
    await vi.waitFor(async () => {
      expect((await store.get('s1'))?.status).toBe('completed');
      expect((await store.get('s2'))?.status).toBe('completed');
    });
    await vi.waitFor(async () => expect(await state.queued()).toEqual([]));
    await vi.waitFor(async () => expect(await state.inFlight()).toEqual([]));
    expect(dagClient.calls.sort()).toEqual(['s1', 's2']);
    expect(await eventsOf('s1')).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
    expect(await eventsOf('s2')).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
  });

  it('only acks a completed or stopped strategy found in the queue', async () => {
    const { worker, submit, state, dagClient, lifecycle, eventsOf } = setup();
    await submit('done');
    const running = worker();
    await running.runOnce();
    await state.enqueue('done');
    await submit('gone');
    await lifecycle.transition('gone', 'STOP');
    expect(await running.runOnce()).toBe('done');
    expect(await running.runOnce()).toBe('gone');
    expect(dagClient.calls).toEqual(['done']);
    expect(await eventsOf('done')).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
    expect(await eventsOf('gone')).toEqual(['INIT', 'STOP']);
    expect(await state.inFlight()).toEqual([]);
  });

  it('rewrites a stale cached status when it finds the strategy already completed (crash before the cache write)', async () => {
    const { worker, submit, state } = setup();
    await submit('done');
    const running = worker();
    await running.runOnce();
    await state.setStatus('done', 'processing'); // the crashed worker's last cache write
    await state.enqueue('done');
    await running.runOnce();
    expect(await state.getStatus('done')).toBe('completed');
  });

  it('releases the nodes again when the strategy is stopped while its diff runs', async () => {
    const { worker, submit, state, store, lifecycle, dagClient, eventsOf } = setup();
    await submit('s1');
    const cleanup = vi.spyOn(dagClient, 'cleanup');
    const running = worker();
    const done = running.waitFor('s1', 5_000);
    const release = dagClient.holdDiffs();
    const run = running.runOnce();
    await dagClient.started(1);
    // The stop request releases the strategy's nodes before the diff registers them.
    await lifecycle.transition('s1', 'STOP');
    await dagClient.cleanup('s1');
    release();
    await run;
    expect(cleanup).toHaveBeenCalledTimes(2);
    expect(await eventsOf('s1')).toEqual(['INIT', 'PROCESS', 'STOP']);
    expect((await store.get('s1'))?.status).toBe('stopped');
    expect(await done).toEqual({ status: 'failed', error: 'strategy "s1" was stopped while its diff ran' });
    expect(await state.queued()).toEqual([]);
    expect(await state.inFlight()).toEqual([]);
  });

  it("retries a dead worker's item after its lock expires, and not before", async () => {
    const { worker, submit, state, clock, dagClient, eventsOf } = setup();
    await submit('s1');
    // A worker claims the item, takes lock:s1 and dies without processing it.
    expect(await state.claim()).toBe('s1');
    expect(await state.acquireLock('s1', 'dead-worker', LOCK_TTL_MS)).toBe(true);
    const survivor = worker();
    expect(await survivor.sweep()).toBe(0);
    expect(await survivor.sweep()).toBe(0);
    expect(await state.inFlight()).toEqual(['s1']);
    expect(await survivor.runOnce()).toBeNull(); // nothing to claim; the lock still holds
    clock.now += LOCK_TTL_MS - 1;
    expect(await survivor.sweep()).toBe(0);
    expect(await survivor.sweep()).toBe(0);
    clock.now += 1;
    expect(await state.lockHolder('s1')).toBeNull();
    // Free for two sweeps in a row: dead (a live worker takes its lock right after claiming).
    expect(await survivor.sweep()).toBe(0);
    expect(await survivor.sweep()).toBe(1);
    expect(await state.queued()).toEqual(['s1']);
    expect(await state.inFlight()).toEqual([]);
    expect(await survivor.runOnce()).toBe('s1');
    expect(dagClient.calls).toEqual(['s1']);
    expect(await eventsOf('s1')).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
    expect(await state.inFlight()).toEqual([]);
  });

  it('does not re-queue an in-flight item whose lock is free only at one sweep', async () => {
    const { worker, submit, state } = setup();
    await submit('s1');
    await state.claim();
    const sweeper = worker();
    expect(await sweeper.sweep()).toBe(0); // claimed, lock not taken yet: suspect only
    await state.acquireLock('s1', 'live-worker', LOCK_TTL_MS);
    expect(await sweeper.sweep()).toBe(0);
    expect(await sweeper.sweep()).toBe(0);
    expect(await state.inFlight()).toEqual(['s1']);
  });

  it('re-enqueues unfinished strategies missing from the FIFO (Redis lost), once', async () => {
    const { worker, create, store, state, lifecycle, dagClient, eventsOf } = setup();
    await create('queued-one');
    await create('processing-one');
    await lifecycle.transition('processing-one', 'PROCESS');
    await create('done');
    await lifecycle.transition('done', 'PROCESS');
    await store.transition('done', 'processing', 'completed', 'COMPLETE', T0);
    await create('stopped');
    await lifecycle.transition('stopped', 'STOP');
    const sweeper = worker();
    expect(await sweeper.sweep()).toBe(2);
    expect(await state.queued()).toEqual(['queued-one', 'processing-one']);
    expect(await sweeper.sweep()).toBe(0);
    expect(await state.queued()).toHaveLength(2);
    await sweeper.runOnce();
    await sweeper.runOnce();
    expect(dagClient.calls).toEqual(['queued-one', 'processing-one']);
    expect(await eventsOf('queued-one')).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
    // Resumed where it was: no second PROCESS.
    expect(await eventsOf('processing-one')).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
  });

  it('start() recovers a lost FIFO before processing', async () => {
    const { worker, create, dagClient } = setup();
    await create('s1');
    const running = worker();
    const done = running.waitFor('s1', 5_000);
    await running.start();
    expect((await done)?.status).toBe('completed');
    expect(dagClient.calls).toEqual(['s1']);
  });

  describe('when the DAG Manager fails', () => {
    it('retries a transient error (FAIL, RETRY) until it completes, never dropping the item', async () => {
      const { worker, submit, state, store, dagClient, eventsOf } = setup();
      await submit('s1');
      dagClient.errors.push(unavailable(), new QmtlError(ErrorCode.Timeout, 'diff timed out'));
      const running = worker();
      const done = running.waitFor('s1', 5_000);
      expect(await running.runOnce()).toBe('s1');
      expect(await eventsOf('s1')).toEqual(['INIT', 'PROCESS', 'FAIL', 'RETRY']);
      expect(await state.queued()).toEqual(['s1']);
      expect(await state.inFlight()).toEqual([]);
      expect(await state.lockHolder('s1')).toBeNull();
      await running.runOnce();
      expect(await state.queued()).toEqual(['s1']);
      await running.runOnce();
      expect(await done).toMatchObject({ status: 'completed' });
      expect(dagClient.calls).toEqual(['s1', 's1', 's1']);
      expect(await eventsOf('s1')).toEqual(['INIT', 'PROCESS', 'FAIL', 'RETRY', 'FAIL', 'RETRY', 'COMPLETE']);
      expect((await store.get('s1'))?.status).toBe('completed');
      expect(await state.queued()).toEqual([]);
      expect(await state.inFlight()).toEqual([]);
    });

    it('keeps a transiently failed strategy recoverable when the FIFO is lost as well', async () => {
      const { worker, submit, store, state, lifecycle, dagClient, hub, eventsOf } = setup();
      await submit('s1');
      dagClient.errors.push(unavailable());
      await worker().runOnce();
      // Redis is lost while the item waits for its retry.
      const freshState = new MemoryStateStore();
      const recovered = new StrategyWorker({
        store,
        state: freshState,
        lifecycle,
        dagClient,
        events: hub,
        lockTtlMs: LOCK_TTL_MS,
      });
      expect(await recovered.sweep()).toBe(1);
      expect(await recovered.runOnce()).toBe('s1');
      expect((await store.get('s1'))?.status).toBe('completed');
      expect((await eventsOf('s1')).at(-1)).toBe('COMPLETE');
      expect(await state.queued()).toEqual(['s1']); // the old FIFO, gone with Redis
    });

    it('leaves a strategy failed on a final error, resolves waitFor with it and never retries', async () => {
      const { worker, submit, state, dagClient, eventsOf } = setup();
      await submit('s1');
      dagClient.errors.push(new QmtlError(ErrorCode.InvalidDag, 'node "x" is broken'));
      const running = worker();
      const done = running.waitFor('s1', 5_000);
      await running.runOnce();
      expect(await done).toEqual({ status: 'failed', error: 'node "x" is broken' });
      expect(await eventsOf('s1')).toEqual(['INIT', 'PROCESS', 'FAIL']);
      expect(await state.queued()).toEqual([]);
      expect(await state.inFlight()).toEqual([]);
      expect(await running.sweep()).toBe(0);
      expect(await running.runOnce()).toBeNull();
      expect(dagClient.calls).toEqual(['s1']);
    });

    it('puts the item back when the database fails mid-processing', async () => {
      const { worker, submit, store, state, dagClient } = setup();
      await submit('s1');
      vi.spyOn(store, 'transition').mockRejectedValueOnce(new Error('database is down'));
      const running = worker();
      await expect(running.runOnce()).rejects.toThrow('database is down');
      expect(await state.queued()).toEqual(['s1']);
      expect(await state.inFlight()).toEqual([]);
      expect(await state.lockHolder('s1')).toBeNull();
      await running.runOnce();
      expect(dagClient.calls).toEqual(['s1']);
      expect((await store.get('s1'))?.status).toBe('completed');
    });
  });

  it('waitFor resolves null after its timeout when nobody finishes the strategy', async () => {
    const { worker } = setup();
    expect(await worker().waitFor('nobody', 1)).toBeNull();
  });

  it('logs a recovery sweep that keeps failing once, without a stack, and once when it works again', async () => {
    const { worker, store } = setup();
    let failing = true;
    let reads = 0;
    vi.spyOn(store, 'listByStatus').mockImplementation(() => {
      reads++;
      return failing ? Promise.reject(new Error('database unreachable')) : Promise.resolve([]);
    });
    const warn = vi.mocked(logger.warn);
    const info = vi.mocked(logger.info);
    await worker({ sweepMs: 5 }).start();
    await vi.waitFor(() => expect(reads).toBeGreaterThanOrEqual(5));
    const sweep = (calls: unknown[][]) =>
      calls.filter(([fields]) => (fields as { component?: string }).component === 'worker recovery sweep');
    expect(sweep(warn.mock.calls)).toEqual([
      [
        { component: 'worker recovery sweep', error: 'database unreachable' },
        'the worker recovery sweep fails; it runs again at its interval',
      ],
    ]);
    failing = false;
    await vi.waitFor(() => expect(sweep(info.mock.calls)).toHaveLength(1));
    expect(sweep(info.mock.calls)[0]![0]).toMatchObject({ failures: expect.any(Number) as unknown });
  });

  it('pauses while canProcess() is false and resumes when it turns true', async () => {
    const { worker, submit, state, dagClient, store } = setup();
    await submit('s1');
    let allowed = false;
    const polled = { count: 0 };
    const running = worker({
      concurrency: 2,
      canProcess: () => {
        polled.count++;
        return allowed;
      },
    });
    await running.start();
    await vi.waitFor(() => expect(polled.count).toBeGreaterThanOrEqual(6));
    expect(dagClient.calls).toEqual([]);
    expect(await state.queued()).toEqual(['s1']);
    expect((await store.get('s1'))?.status).toBe('queued');
    const done = running.waitFor('s1', 5_000);
    allowed = true;
    running.kick();
    expect((await done)?.status).toBe('completed');
  });

  it('stop() waits for the item in flight, then claims nothing more', async () => {
    const { worker, submit, state, store, dagClient } = setup();
    await submit('s1');
    await submit('s2');
    const running = worker({ concurrency: 1 });
    const release = dagClient.holdDiffs();
    await running.start();
    await dagClient.started(1);
    let stopped = false;
    const stopping = running.stop().then(() => (stopped = true));
    await nextTurn();
    await nextTurn();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect((await store.get('s1'))?.status).toBe('completed');
    expect(await state.inFlight()).toEqual([]);
    expect(await state.lockHolder('s1')).toBeNull();
    expect(await state.queued()).toEqual(['s2']);
    expect(dagClient.calls).toEqual(['s1']);
  });
});
