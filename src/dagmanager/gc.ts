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
}

/**
 * Collects orphan queues (no active strategy uses their node) once they have been orphaned for
 * at least ttl + grace of their kind: archives them when the rule says so, then deletes the topic
 * and drops the node. At most `batchSize` per run (half when the broker is loaded), oldest
 * first. A queue that fails is logged and left for the next run; the rest still proceed.
 */
export class GarbageCollector {
  private readonly options: GarbageCollectorOptions;
  private readonly policy: Readonly<Partial<Record<TopicKind, GcRule>>>;
  private readonly now: () => number;

  constructor(options: GarbageCollectorOptions) {
    this.options = options;
    this.policy = options.policy ?? DEFAULT_GC_POLICY;
    this.now = options.now ?? Date.now;
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
    const processed: OrphanQueue[] = [];
    for (const queue of batch) {
      try {
        if (this.policy[queue.kind]?.action === 'archive' && this.options.archive !== undefined) {
          await this.options.archive.archive(queue, now);
        }
        await this.options.admin.deleteTopic(queue.topic);
        await this.options.repo.dropQueue(queue.topic);
        processed.push(queue);
      } catch (error) {
        logger.warn({ err: error, topic: queue.topic }, 'GC could not collect a queue; retrying next run');
      }
    }
    dagManagerMetrics.orphanQueueTotal.set(orphans.length - processed.length);
    dagManagerMetrics.gcLastRunTimestamp.set(Math.floor(now / 1000));
    if (processed.length > 0) this.options.onDropped?.(processed);
    return processed;
  }
}
