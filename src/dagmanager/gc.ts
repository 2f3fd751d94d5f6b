import { logger } from '../common/logger.js';
import { dagManagerMetrics } from './metrics.js';
import type { OrphanQueue, TopicKind } from './node-record.js';
import type { NodeRepository } from './node-repository.js';
import type { QueueAdmin } from './queue-admin.js';
import type { QueueArchive } from './queue-archive.js';

const DAY_MS = 24 * 3600 * 1000;

/** What GC does with an orphan queue of a kind once it is old enough. */
export interface GcRule {
  readonly ttlMs: number;
  readonly graceMs: number;
  readonly action: 'drop' | 'archive';
}

/**
 * The policy matrix of SPEC §5: raw 7 d + 1 d drop, indicator 30 d + 3 d drop, sentinel
 * 180 d + 30 d archive then drop. Kinds without a rule (trade_exec) are never collected.
 */
export const DEFAULT_GC_POLICY: Readonly<Partial<Record<TopicKind, GcRule>>> = {
  raw: { ttlMs: 7 * DAY_MS, graceMs: 1 * DAY_MS, action: 'drop' },
  indicator: { ttlMs: 30 * DAY_MS, graceMs: 3 * DAY_MS, action: 'drop' },
  sentinel: { ttlMs: 180 * DAY_MS, graceMs: 30 * DAY_MS, action: 'archive' },
};

/** Options of a {@link GarbageCollector}. */
export interface GarbageCollectorOptions {
  readonly repo: NodeRepository;
  readonly admin: QueueAdmin;
  readonly policy?: Readonly<Partial<Record<TopicKind, GcRule>>>;
  /** Queues processed per run at most. Default 50. */
  readonly batchSize?: number;
  /** Broker load in percent; at 80 % or more the batch is halved. Default: always 0. */
  readonly brokerLoad?: () => Promise<number>;
  /** Where archived queues go. Without one, `archive` rules only drop. */
  readonly archive?: QueueArchive;
  /** Epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Told about every queue dropped (e.g. to post `queue_update` / `gc` events). */
  readonly onDropped?: (queues: readonly OrphanQueue[]) => void;
  /**
   * Runs the dropping of a batch apart from diffs that use its nodes (the DAG Manager passes
   * `DiffService.collecting`). Default: run it as is.
   */
  readonly exclusive?: <T>(nodeIds: readonly string[], section: () => Promise<T>) => Promise<T>;
}

/**
 * Collects orphan queues (no active strategy uses their node) once they have been orphaned for
 * at least ttl + grace of their kind: archives them when the rule says so, then drops the node
 * (only if still no strategy uses it: a strategy may have picked it up again meanwhile) and
 * deletes its topic. At most `batchSize` per run (half when the broker is loaded), oldest first.
 * A queue that fails is logged and left for the next run; the rest still proceed.
 */
export class GarbageCollector {
  private readonly options: GarbageCollectorOptions;
  private readonly policy: Readonly<Partial<Record<TopicKind, GcRule>>>;
  private readonly now: () => number;
  /** Queues whose node was dropped but whose topic could not be deleted yet: retried first. */
  private readonly undeleted = new Map<string, OrphanQueue>();

  constructor(options: GarbageCollectorOptions) {
    this.options = options;
    this.policy = options.policy ?? DEFAULT_GC_POLICY;
    this.now = options.now ?? Date.now;
  }

  /** Drops each node still unused and deletes its topic; returns the queues done. */
  private async drop(
    retried: readonly OrphanQueue[],
    archived: readonly OrphanQueue[],
  ): Promise<OrphanQueue[]> {
    const processed: OrphanQueue[] = [];
    const deleteTopic = async (queue: OrphanQueue): Promise<void> => {
      try {
        await this.options.admin.deleteTopic(queue.topic);
        this.undeleted.delete(queue.topic);
        processed.push(queue);
      } catch (error) {
        this.undeleted.set(queue.topic, queue);
        logger.warn({ err: error, topic: queue.topic }, 'GC could not delete a topic; retrying next run');
      }
    };
    for (const queue of retried) await deleteTopic(queue);
    for (const queue of archived) {
      try {
        if (await this.options.repo.dropQueue(queue.topic)) await deleteTopic(queue);
        else logger.info({ topic: queue.topic }, 'GC kept a queue: a strategy uses its node again');
      } catch (error) {
        logger.warn({ err: error, topic: queue.topic }, 'GC could not drop a queue; retrying next run');
      }
    }
    return processed;
  }

  /** True when `queue` has been orphaned for at least its kind's ttl + grace at `now`. */
  isEligible(queue: OrphanQueue, now: number): boolean {
    const rule = this.policy[queue.kind];
    return rule !== undefined && now - queue.orphanedSince >= rule.ttlMs + rule.graceMs;
  }

  /** One GC run. Returns the queues processed (archived and/or dropped). */
  async collect(): Promise<OrphanQueue[]> {
    const now = this.now();
    const orphans = await this.options.repo.listOrphanQueues();
    const eligible = orphans
      .filter((q) => this.isEligible(q, now))
      .sort((a, b) => a.orphanedSince - b.orphanedSince || a.topic.localeCompare(b.topic));
    const load = (await this.options.brokerLoad?.()) ?? 0;
    const batchSize = this.options.batchSize ?? 50;
    const batch = eligible.slice(0, load >= 80 ? Math.max(1, Math.floor(batchSize / 2)) : batchSize);
    const archived: OrphanQueue[] = [];
    for (const queue of batch) {
      try {
        if (this.policy[queue.kind]?.action === 'archive' && this.options.archive !== undefined) {
          await this.options.archive.archive(queue, now);
        }
        archived.push(queue);
      } catch (error) {
        logger.warn({ err: error, topic: queue.topic }, 'GC could not archive a queue; retrying next run');
      }
    }
    const retried = [...this.undeleted.values()];
    const exclusive = this.options.exclusive ?? ((_ids, section) => section());
    const processed = await exclusive(
      [...retried, ...archived].map((q) => q.nodeId),
      () => this.drop(retried, archived),
    );
    dagManagerMetrics.orphanQueueTotal.set(orphans.length - processed.length);
    dagManagerMetrics.gcLastRunTimestamp.set(Math.floor(now / 1000));
    if (processed.length > 0) this.options.onDropped?.(processed);
    return processed;
  }
}
