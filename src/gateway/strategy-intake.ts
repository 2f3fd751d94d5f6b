import { randomUUID } from 'node:crypto';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import type { DagClient } from './dag-client.js';
import { diffReplyOf, type DiffReply } from './diff-result.js';
import type { EventHub } from './event-hub.js';
import { gatewayMetrics, observeSubmissionLatency } from './metrics.js';
import { releaseProducer } from './producer-release.js';
import type { SentinelWeights } from './sentinel-weights.js';
import type { StateStore } from './state/state-store.js';
import type { StrategyLifecycle } from './strategy-lifecycle.js';
import { StrategyEvent, StrategyStatus } from './strategy-status.js';
import type { StrategyWorker, WorkOutcome } from './strategy-worker.js';
import { prepareSubmission, sentinelIdOf, storedDagJson, type SubmissionLimits } from './submission.js';

/** The 202 body of `POST /strategies` (SPEC §2.5), plus the strategy's status. */
export interface SubmitReply extends DiffReply {
  /** `completed` when the diff is in this reply; `queued` when it comes later (DAG Manager down). */
  readonly status: StrategyStatus;
  /** Why the DAG Manager rejected the DAG, when status is `failed`. */
  readonly error?: string;
}

/** What the intake is built from. */
export interface StrategyIntakeParts {
  readonly lifecycle: StrategyLifecycle;
  readonly state: StateStore;
  readonly worker: StrategyWorker;
  readonly dagClient: DagClient;
  /** Where `producer_released` events go when a stopped strategy released nodes. */
  readonly events: EventHub;
  /** The canary routing table: a stopped strategy's weight leaves it. */
  readonly weights: SentinelWeights;
  /** Append a VersionSentinel node to stored DAGs. Default true. */
  readonly insertSentinel?: boolean;
  readonly limits?: SubmissionLimits;
  /** How long a submission waits for its diff before answering without it, in ms. Default 10,000. */
  readonly diffWaitMs?: number;
  /** True while the DAG Manager is known to be down: answer at once, the diff comes later. */
  readonly dagManagerDown?: () => boolean;
  /** Submissions in progress at once; beyond, new ones are 503 before anything is stored. Default 2,000. */
  readonly maxPending?: number;
  readonly now?: () => number;
}

/**
 * Accepts strategy submissions without losing any (SPEC §4): validate, store durably (the
 * database insert is the commit point), enqueue, wake the worker and wait for the diff so the 202
 * can carry `queue_map` / `topic_map`. When the DAG Manager is down the submission is kept and
 * answered at once with status `queued`; the worker flushes it when the DAG Manager is back.
 */
export class StrategyIntake {
  private readonly parts: StrategyIntakeParts;
  private readonly now: () => number;
  private pending = 0;

  constructor(parts: StrategyIntakeParts) {
    this.parts = parts;
    this.now = parts.now ?? Date.now;
  }

  /**
   * Handles a `POST /strategies` body.
   * @throws QmtlError: bad input (`QMTL_INVALID_*`, `QMTL_CRC_MISMATCH`, …), an active strategy with the
   * same DAG (`QMTL_DUPLICATE_STRATEGY`, with its id in `existingId`), or `QMTL_UNAVAILABLE`
   * when the submission could not be stored.
   */
  async submit(body: unknown): Promise<SubmitReply> {
    // Admission control: shed load before storing anything, so what was accepted stays fast.
    if (this.pending >= (this.parts.maxPending ?? 2_000)) throw new OverloadedError(this.pending);
    this.pending++;
    try {
      return await this.accept(body);
    } finally {
      this.pending--;
    }
  }

  private async accept(body: unknown): Promise<SubmitReply> {
    const started = performance.now();
    const { lifecycle, state, worker, insertSentinel = true } = this.parts;
    const prepared = prepareSubmission(body, this.parts.limits);
    const id = randomUUID();
    let outcome;
    try {
      outcome = await lifecycle.create({
        id,
        dagHash: prepared.dagHash,
        dagJson: storedDagJson(prepared.dag, id, insertSentinel),
        meta: prepared.meta,
        runType: prepared.runType,
        createdAt: this.now(),
      });
    } catch (error) {
      gatewayMetrics.lostRequestsTotal.inc();
      throw new QmtlError(ErrorCode.Unavailable, 'the submission could not be stored; try again', {
        cause: error,
      });
    }
    if (!outcome.inserted) throw new DuplicateStrategyError(outcome.existingId, outcome.existingStatus);
    // Registered before the enqueue, so a fast worker cannot finish before anyone listens.
    const done =
      this.parts.dagManagerDown?.() === true ? null : worker.waitFor(id, this.parts.diffWaitMs ?? 10_000);
    // Stored: from here on the submission cannot be lost. A failed enqueue is repaired by the
    // worker's sweep, which re-queues every unfinished strategy missing from the FIFO.
    await state
      .enqueue(id)
      .catch((error: unknown) => logger.warn({ err: error, strategyId: id }, 'enqueue failed'));
    worker.kick();
    const reply = this.reply(id, insertSentinel, done === null ? null : await done);
    observeSubmissionLatency(performance.now() - started);
    return reply;
  }

  /**
   * Stops a strategy: releases its DAG hash, its canary weight, its lease and the nodes it
   * produces, announcing released nodes with a `producer_released` `queue_update`. Only the caller
   * whose FSM transition wins does the rest, so two Gateways stopping one strategy announce it once.
   * @throws QmtlError `QMTL_NOT_FOUND`, or `QMTL_INVALID_TRANSITION` when it is already stopped.
   */
  async stop(id: string): Promise<{ strategy_id: string; status: StrategyStatus }> {
    const { lifecycle, dagClient, events, state, weights } = this.parts;
    const status = await lifecycle.transition(id, StrategyEvent.Stop);
    await weights.forget(sentinelIdOf(id));
    await releaseProducer(dagClient, events, id);
    // A lease left behind expires later; the lease monitor then finds the strategy stopped and drops it.
    await state
      .dropLease(id)
      .catch((error: unknown) => logger.warn({ err: error, strategyId: id }, 'could not drop a lease'));
    return { strategy_id: id, status };
  }

  private reply(id: string, insertSentinel: boolean, outcome: WorkOutcome | null): SubmitReply {
    const pending: SubmitReply = {
      strategy_id: id,
      queue_map: {},
      topic_map: {},
      sentinel_id: insertSentinel ? sentinelIdOf(id) : null,
      status: StrategyStatus.Queued,
    };
    if (outcome === null) return pending;
    if (outcome.status === StrategyStatus.Failed)
      return { ...pending, status: outcome.status, error: outcome.error };
    return { ...diffReplyOf(id, outcome.diff, insertSentinel), status: outcome.status };
  }
}

/** `409`: the same DAG is already active under another strategy id. */
export class DuplicateStrategyError extends QmtlError {
  constructor(
    readonly existingId: string,
    readonly existingStatus: StrategyStatus,
  ) {
    super(
      ErrorCode.DuplicateStrategy,
      `the same DAG is already active as strategy ${quote(existingId)} (${existingStatus}); stop it to resubmit`,
    );
  }
}

/** `503` + `Retry-After`: too many submissions are in progress; nothing was stored. */
export class OverloadedError extends QmtlError {
  constructor(readonly pending: number) {
    super(ErrorCode.Unavailable, `the Gateway is busy (${pending} submissions in progress); retry shortly`);
  }
}
