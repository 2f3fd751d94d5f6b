import { randomUUID } from 'node:crypto';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { OutageLog } from '../common/outage-log.js';
import type { DagClient } from './dag-client.js';
import { diffStrategy } from './diff-result.js';
import { GatewayEventType, type EventHub } from './event-hub.js';
import { gatewayMetrics } from './metrics.js';
import { releaseProducer } from './producer-release.js';
import type { StateStore } from './state/state-store.js';
import type { StrategyLifecycle } from './strategy-lifecycle.js';
import { StrategyEvent, StrategyStatus, UNFINISHED_STATUSES } from './strategy-status.js';
import type { StoredDiff, StrategyStore } from './store/strategy-store.js';

/** What a worker reports for a strategy it finished. */
export type WorkOutcome =
  | { readonly status: typeof StrategyStatus.Completed; readonly diff: StoredDiff }
  | { readonly status: typeof StrategyStatus.Failed; readonly error: string };

/** Options of a {@link StrategyWorker}. */
export interface StrategyWorkerOptions {
  readonly store: StrategyStore;
  readonly state: StateStore;
  readonly lifecycle: StrategyLifecycle;
  readonly dagClient: DagClient;
  readonly events: EventHub;
  /** Identifies this worker in `lock:{id}`. Default a UUID. */
  readonly workerId?: string;
  /** TTL of `lock:{id}` in ms; a dead worker's item is retried after it. Default 60,000. */
  readonly lockTtlMs?: number;
  /** Parallel processing loops. Default 32. */
  readonly concurrency?: number;
  /** Idle poll interval in ms (items queued by other Gateways). Default 200. */
  readonly pollMs?: number;
  /** Interval of the recovery sweep (re-queues lost and orphaned items) in ms. Default lockTtlMs / 2. */
  readonly sweepMs?: number;
  /** False pauses processing (the DAG Manager is down): items wait, nothing fails. */
  readonly canProcess?: () => boolean;
}

/**
 * The FIFO worker (SPEC §4): claims strategy ids from the state store, takes `lock:{id}`
 * (SET NX PX), moves the strategy to `processing`, asks the DAG Manager for the diff, stores it and
 * completes the strategy, then acks the item and releases the lock.
 *
 * Nothing is dropped: a claimed item stays in the in-flight list until acked; the sweep re-queues
 * items whose worker died (in flight, lock gone) and unfinished strategies the FIFO lost (Redis
 * loss, a crash between the database write and the enqueue). A transient DAG Manager error
 * (`QMTL_UNAVAILABLE`, `QMTL_TIMEOUT`) records `FAIL` then `RETRY` and puts the item back, so the
 * strategy waits for its retry in an unfinished status; any other error leaves it `failed`.
 * Nothing is processed twice: the status is checked under the lock, and a completed strategy is
 * only acked.
 */
export class StrategyWorker {
  readonly workerId: string;
  private readonly options: StrategyWorkerOptions;
  private readonly lockTtlMs: number;
  private readonly waiters = new Map<string, Set<(outcome: WorkOutcome) => void>>();
  private readonly loops: Promise<void>[] = [];
  /** Idle loops, each waiting to be woken (oldest first). */
  private readonly sleepers: (() => void)[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  private running = false;
  private transientFailures = 0;
  /** Failures of the loops (the state store or the database down), logged once per outage. */
  private readonly loopOutage = new OutageLog({
    fields: { component: 'worker' },
    messages: {
      down: 'the worker loops fail; each retries after 1 s',
      stillDown: 'the worker loops still fail',
      recovered: 'the worker loops work again',
    },
  });
  /**
   * Failures of the recovery sweep, logged once per outage, apart from the loops: the sweep also
   * reads the strategy store, which can be down while the loops work.
   */
  private readonly sweepOutage = new OutageLog({
    fields: { component: 'worker recovery sweep' },
    messages: {
      down: 'the worker recovery sweep fails; it runs again at its interval',
      stillDown: 'the worker recovery sweep still fails',
      recovered: 'the worker recovery sweep works again',
    },
  });
  /** In-flight ids seen without a lock at the last sweep. */
  private suspects = new Set<string>();

  constructor(options: StrategyWorkerOptions) {
    this.options = options;
    this.workerId = options.workerId ?? randomUUID();
    this.lockTtlMs = options.lockTtlMs ?? 60_000;
  }

  /** Starts the processing loops and the recovery sweep (running one sweep first). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.loggedSweep();
    for (let i = 0; i < (this.options.concurrency ?? 32); i++) this.loops.push(this.loop());
    this.sweepTimer = setInterval(() => void this.loggedSweep(), this.options.sweepMs ?? this.lockTtlMs / 2);
    this.sweepTimer.unref();
  }

  /** Stops claiming new items and waits for the ones being processed. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const wake of [...this.sleepers]) wake();
    await Promise.all(this.loops.splice(0));
  }

  /** Wakes one idle loop now (an item was just queued). */
  kick(): void {
    this.sleepers.shift()?.();
  }

  /**
   * Resolves with the outcome once this worker finishes `id`, or null after `timeoutMs` (another
   * Gateway may process it, or the DAG Manager is down).
   */
  waitFor(id: string, timeoutMs: number): Promise<WorkOutcome | null> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, waiters);
      const done = (outcome: WorkOutcome | null): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.waiters.delete(id);
        resolve(outcome);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      waiters.add(done);
    });
  }

  /** Claims and processes one item; returns its id, or null when the FIFO is empty. */
  async runOnce(): Promise<string | null> {
    const id = await this.options.state.claim();
    if (id === null) return null;
    await this.process(id);
    return id;
  }

  /**
   * Re-queues lost work: unfinished strategies in neither the FIFO nor the in-flight list, and
   * in-flight items whose lock has been free for two sweeps in a row (their worker died). Returns
   * how many items it queued.
   */
  async sweep(): Promise<number> {
    const { state, store } = this.options;
    const [queued, inFlight, unfinished] = await Promise.all([
      state.queued(),
      state.inFlight(),
      store.listByStatus(UNFINISHED_STATUSES),
    ]);
    const known = new Set([...queued, ...inFlight]);
    let requeued = 0;
    for (const id of unfinished) {
      if (known.has(id)) continue;
      await state.enqueue(id);
      requeued++;
    }
    const suspects = new Set<string>();
    for (const id of new Set(inFlight)) {
      if ((await state.lockHolder(id)) !== null) continue;
      if (this.suspects.has(id)) {
        await state.requeue(id);
        requeued++;
      } else suspects.add(id);
    }
    this.suspects = suspects;
    await this.options.lifecycle.repairCache();
    if (requeued > 0) {
      logger.info({ requeued }, 'worker re-queued unfinished strategies');
      for (let i = 0; i < requeued; i++) this.kick();
    }
    return requeued;
  }

  /** {@link sweep}, its failures logged once per outage. */
  private loggedSweep(): Promise<void> {
    return this.sweep().then(
      () => this.sweepOutage.succeeded(),
      (error: unknown) => this.sweepOutage.failed(error),
    );
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        if (this.options.canProcess?.() === false) {
          await this.idle(this.options.pollMs ?? 200);
          continue;
        }
        const claimed = await this.runOnce();
        this.loopOutage.succeeded();
        if (claimed === null) await this.idle(this.options.pollMs ?? 200);
        else if (this.transientFailures > 0) await this.idle(pauseAfter(this.transientFailures));
      } catch (error) {
        this.loopOutage.failed(error);
        await this.idle(1_000);
      }
    }
  }

  /** Waits `ms`, or less when {@link kick} wakes this loop (one loop per kick) or the worker stops. */
  private idle(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        const index = this.sleepers.indexOf(wake);
        if (index >= 0) this.sleepers.splice(index, 1);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.push(wake);
    });
  }

  private async process(id: string): Promise<void> {
    const { state } = this.options;
    if (!(await state.acquireLock(id, this.workerId, this.lockTtlMs))) {
      // Another worker holds it; if that worker dies, its own in-flight entry is swept.
      await state.ack(id);
      return;
    }
    // An unexpected error (the database is down) puts the item back; the status tells where to resume.
    let requeue = true;
    try {
      requeue = await this.processLocked(id);
    } finally {
      if (requeue) await state.requeue(id);
      else await state.ack(id);
      await state.releaseLock(id, this.workerId);
    }
  }

  /** Returns true when the item must go back to the FIFO (transient failure). */
  private async processLocked(id: string): Promise<boolean> {
    const { store, lifecycle, dagClient, events } = this.options;
    const record = await store.get(id);
    if (record === null) return false;
    if (record.status === StrategyStatus.Completed || record.status === StrategyStatus.Stopped) {
      // Already done (a worker died between the database commit and the ack): the cached status
      // may be the one from before that commit, so it is rewritten from the database.
      await lifecycle.recache(id);
      return false;
    }
    const from = record.status;
    if (from === StrategyStatus.Queued) await lifecycle.transition(id, StrategyEvent.Process, { from });
    if (from === StrategyStatus.Failed) await lifecycle.transition(id, StrategyEvent.Retry, { from });
    try {
      const stored = await diffStrategy(dagClient, id, record.dagJson);
      await lifecycle.transition(id, StrategyEvent.Complete, {
        diff: stored,
        from: StrategyStatus.Processing,
      });
      this.transientFailures = 0;
      events.publish(GatewayEventType.QueueMap, { strategy_id: id, queue_map: stored.queueMap });
      gatewayMetrics.workerProcessedTotal.inc({ outcome: 'completed' });
      this.settle(id, { status: StrategyStatus.Completed, diff: stored });
      return false;
    } catch (error) {
      if (await this.stoppedMeanwhile(id)) return false;
      const transient = error instanceof QmtlError && isTransient(error.code);
      if (transient) this.transientFailures++;
      await this.tryTransition(id, StrategyEvent.Fail);
      // Back to an unfinished status before the item waits for its retry: a `failed` strategy is
      // never re-queued by the sweep, so one left there would be lost with the FIFO (Redis loss).
      if (transient) await this.tryTransition(id, StrategyEvent.Retry);
      gatewayMetrics.workerProcessedTotal.inc({ outcome: transient ? 'retried' : 'failed' });
      logger.warn({ err: error, strategyId: id, transient }, 'strategy diff failed');
      if (!transient) this.settle(id, { status: StrategyStatus.Failed, error: (error as Error).message });
      return transient;
    }
  }

  /**
   * True when the strategy was stopped while its diff ran (its COMPLETE was refused). The stop
   * request's cleanup may have run before this diff registered the strategy's nodes, so they are
   * released again; otherwise they would stay claimed by a stopped strategy.
   */
  private async stoppedMeanwhile(id: string): Promise<boolean> {
    const record = await this.options.store.get(id).catch(() => null);
    if (record?.status !== StrategyStatus.Stopped) return false;
    await releaseProducer(this.options.dagClient, this.options.events, id);
    gatewayMetrics.workerProcessedTotal.inc({ outcome: 'stopped' });
    this.settle(id, {
      status: StrategyStatus.Failed,
      error: `strategy ${quote(id)} was stopped while its diff ran`,
    });
    return true;
  }

  /** A transition after a failed diff; when it fails too (database down), the status says where to resume. */
  private async tryTransition(id: string, event: StrategyEvent): Promise<void> {
    await this.options.lifecycle
      .transition(id, event)
      .catch((error: unknown) =>
        logger.warn({ err: error, strategyId: id, event }, 'could not record a failed diff'),
      );
  }

  private settle(id: string, outcome: WorkOutcome): void {
    for (const resolve of [...(this.waiters.get(id) ?? [])]) resolve(outcome);
  }
}

function isTransient(code: string): boolean {
  return code === ErrorCode.Unavailable || code === ErrorCode.Timeout;
}

/** Pause after consecutive transient failures: 0.5 s doubling to 30 s. */
function pauseAfter(failures: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6));
}
