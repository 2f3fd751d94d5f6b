import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { PeriodicTask } from '../common/periodic-task.js';
import type { DagClient } from './dag-client.js';
import { diffReplyOf, diffStrategy, type DiffReply } from './diff-result.js';
import { GatewayEventType, type EventHub } from './event-hub.js';
import { gatewayMetrics } from './metrics.js';
import { releaseProducer } from './producer-release.js';
import type { StateStore } from './state/state-store.js';
import type { StoredDiff, StrategyStore } from './store/strategy-store.js';
import type { StrategyIntake } from './strategy-intake.js';
import type { StrategyLifecycle } from './strategy-lifecycle.js';
import { StrategyStatus } from './strategy-status.js';

/** What a {@link ProducerFailover} works on. */
export interface ProducerFailoverParts {
  readonly store: StrategyStore;
  readonly state: StateStore;
  readonly lifecycle: StrategyLifecycle;
  /** Stops strategies whose lease expired, exactly as `POST /strategies/{id}/stop` does. */
  readonly intake: Pick<StrategyIntake, 'stop'>;
  readonly dagClient: DagClient;
  readonly events: EventHub;
  /** Whether the Gateway inserts VersionSentinels (a claim's `sentinel_id` is null otherwise). Default true. */
  readonly insertSentinel?: boolean;
  /** True while the DAG Manager is known to be down: a claim is 503 at once. */
  readonly dagManagerDown?: () => boolean;
  /** How long a heartbeat keeps a strategy alive, in ms. Default 15,000. */
  readonly leaseMs?: number;
  /** How often the lease monitor looks for expired leases, in ms. Default 1,000. */
  readonly leaseCheckMs?: number;
  /** Epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** The 200 of `POST /strategies/{id}/heartbeat`. */
export interface HeartbeatReply {
  readonly strategy_id: string;
  readonly status: StrategyStatus;
  readonly lease_ms: number;
}

/** The 200 of `POST /strategies/{id}/claim`: the diff, shaped as the 202 of `POST /strategies`. */
export interface ClaimReply extends DiffReply {
  readonly status: typeof StrategyStatus.Completed;
}

/**
 * Producer leases and failover. A Runner keeps its strategy alive with heartbeats
 * (`POST /strategies/{id}/heartbeat`), each renewing a lease to now + `leaseMs`; the lease monitor
 * stops every strategy whose lease expired (its Runner died), which releases the nodes it
 * produced and announces them with a `producer_released` `queue_update`. A consumer of those
 * nodes then claims them (`POST /strategies/{id}/claim`): its DAG is diffed again, which makes it
 * the producer of every node of its DAG that has no active producer.
 *
 * Strategies that never heartbeat have no lease and never expire. Several Gateways sharing Redis
 * may all see one expired lease: the FSM compare-and-set lets exactly one of them stop it.
 *
 * @example
 * const failover = new ProducerFailover({ store, state, lifecycle, intake, dagClient, events });
 * failover.start();
 * await failover.heartbeat(strategyId); // { strategy_id, status, lease_ms: 15000 }
 */
export class ProducerFailover {
  readonly leaseMs: number;
  private readonly parts: ProducerFailoverParts;
  private readonly now: () => number;
  private readonly monitor: PeriodicTask;

  constructor(parts: ProducerFailoverParts) {
    this.parts = parts;
    this.leaseMs = parts.leaseMs ?? 15_000;
    this.now = parts.now ?? Date.now;
    this.monitor = new PeriodicTask('lease monitor', parts.leaseCheckMs ?? 1_000, () => this.expireLeases());
  }

  /** Starts the lease monitor. */
  start(): void {
    this.monitor.start();
  }

  /** Stops the lease monitor, waiting for a round in progress. */
  stop(): Promise<void> {
    return this.monitor.stop();
  }

  /**
   * Renews a strategy's lease to now + `leaseMs`.
   * @throws QmtlError `QMTL_NOT_FOUND` for an unknown id, `QMTL_INVALID_TRANSITION` for a stopped
   * or failed strategy, `QMTL_UNAVAILABLE` when the state store is down.
   */
  async heartbeat(id: string): Promise<HeartbeatReply> {
    const status = await this.parts.lifecycle.status(id);
    if (status === null) throw notFound(id);
    if (status === StrategyStatus.Stopped || status === StrategyStatus.Failed)
      throw new QmtlError(
        ErrorCode.InvalidTransition,
        `strategy ${quote(id)} is ${status}; only a live strategy can renew its lease`,
      );
    // A stop racing this renewal may leave a lease behind; the monitor drops it when it expires.
    await this.parts.state.renewLease(id, this.now() + this.leaseMs);
    return { strategy_id: id, status, lease_ms: this.leaseMs };
  }

  /**
   * One round of the lease monitor: stops every strategy whose lease expired and drops its lease.
   * A strategy already stopped (by a stop request, or another Gateway) only loses its lease; a
   * failure is logged and retried next round. Returns how many strategies this round stopped.
   */
  async expireLeases(): Promise<number> {
    const expired = await this.parts.state.expiredLeases(this.now());
    let stopped = 0;
    for (const id of expired) if (await this.expire(id)) stopped++;
    return stopped;
  }

  /**
   * Makes an active strategy the producer of every node of its DAG that has no active producer
   * (after a `producer_released` event), stores the new diff and publishes it as `queue_map`.
   * @throws QmtlError `QMTL_NOT_FOUND`, `QMTL_INVALID_TRANSITION` when the strategy is not active
   * (`completed`), `QMTL_UNAVAILABLE` when the DAG Manager is down.
   */
  async claim(id: string): Promise<ClaimReply> {
    const { store, events } = this.parts;
    const record = await store.get(id);
    if (record === null) throw notFound(id);
    if (record.status !== StrategyStatus.Completed) throw notActive(id, record.status);
    const diff = await this.rediff(id, record.dagJson);
    // The diff re-activates the strategy at the DAG Manager: a stop that ran meanwhile is redone.
    const after = await store.get(id);
    if (after?.status !== StrategyStatus.Completed) {
      await releaseProducer(this.parts.dagClient, events, id);
      throw notActive(id, after?.status ?? StrategyStatus.Stopped);
    }
    await store.saveDiff(id, diff);
    events.publish(GatewayEventType.QueueMap, { strategy_id: id, queue_map: diff.queueMap });
    const reply = diffReplyOf(id, diff, this.parts.insertSentinel ?? true);
    return { ...reply, status: StrategyStatus.Completed };
  }

  private async rediff(id: string, dagJson: string): Promise<StoredDiff> {
    if (this.parts.dagManagerDown?.() === true)
      throw new QmtlError(ErrorCode.Unavailable, 'the DAG Manager is down; claim again later');
    try {
      return await diffStrategy(this.parts.dagClient, id, dagJson);
    } catch (error) {
      if (error instanceof QmtlError) throw error;
      throw new QmtlError(
        ErrorCode.Unavailable,
        `the DAG Manager could not diff strategy ${quote(id)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Stops one strategy whose lease expired; true when this call stopped it. */
  private async expire(id: string): Promise<boolean> {
    try {
      await this.parts.intake.stop(id);
      gatewayMetrics.leaseExpirationsTotal.inc({ outcome: 'stopped' });
      logger.info({ strategyId: id }, 'lease expired: strategy stopped');
      return true;
    } catch (error) {
      const record = await this.parts.store.get(id).catch(() => undefined);
      if (record === null || record?.status === StrategyStatus.Stopped) {
        // Stopped already (a stop request, or another Gateway won the compare-and-set), or gone.
        await this.parts.state
          .dropLease(id)
          .catch((dropError: unknown) =>
            logger.warn({ err: dropError, strategyId: id }, 'could not drop a lease; retrying'),
          );
        gatewayMetrics.leaseExpirationsTotal.inc({ outcome: 'already_stopped' });
        return false;
      }
      gatewayMetrics.leaseExpirationsTotal.inc({ outcome: 'failed' });
      logger.warn({ err: error, strategyId: id }, 'could not stop a strategy whose lease expired; retrying');
      return false;
    }
  }
}

function notFound(id: string): QmtlError {
  return new QmtlError(ErrorCode.NotFound, `strategy ${quote(id)} not found`);
}

function notActive(id: string, status: StrategyStatus): QmtlError {
  return new QmtlError(
    ErrorCode.InvalidTransition,
    `strategy ${quote(id)} is ${status}; only an active (completed) strategy can claim nodes`,
  );
}
