import type { EventPublisher } from './event-publisher.js';
import type { NodeRecord } from './node-record.js';
import type { NodeRepository } from './node-repository.js';
import type { QueueAdmin } from './queue-admin.js';

const BUFFERING_DAYS = 7;

/**
 * The buffering scheduler's check (SPEC §5): a node buffering for 7 days (since its compatible
 * schema change) is switched to a full recompute — its flag is cleared and consumers are told
 * with a `queue_update` of its topic. Returns the nodes switched.
 */
export async function recomputeStaleBuffering(
  repo: NodeRepository,
  events: EventPublisher,
  now: number,
): Promise<NodeRecord[]> {
  const stale = await repo.getBufferingNodes(now - BUFFERING_DAYS * 24 * 3600 * 1000);
  if (stale.length === 0) return [];
  await repo.clearBuffering(stale.map((r) => r.nodeId));
  for (const record of stale) {
    if (record.interval !== null && record.tags.length > 0) {
      events.publish('queue_update', {
        tags: record.tags,
        interval: record.interval,
        queues: [record.topic],
        match_mode: 'any',
      });
    }
  }
  return stale;
}

/**
 * The queue-completion monitor: a topic that holds messages and whose size has not changed for
 * `threshold` consecutive checks is complete (its producer stopped); consumers of its tags get a
 * `queue_update` once, listing the queues of those tags that are still live: empty when it was
 * the only one (SPEC §5), but never dropping other live queues, since subscribers replace their
 * list with the event's. A topic that never held a message (just created, or a backend without
 * sizes) is not complete. A topic that grows again is watched afresh.
 */
export class QueueCompletionMonitor {
  private readonly lastSize = new Map<string, number>();
  private readonly stalls = new Map<string, number>();
  private readonly completed = new Set<string>();

  constructor(
    private readonly repo: NodeRepository,
    private readonly admin: QueueAdmin,
    private readonly events: EventPublisher,
    private readonly threshold = 2,
  ) {}

  /** One check; returns the topics found complete by it. */
  async check(): Promise<string[]> {
    const sizes = await this.admin.topicSizes();
    const done: string[] = [];
    for (const [topic, size] of sizes) {
      const previous = this.lastSize.get(topic);
      this.lastSize.set(topic, size);
      if (previous === undefined || previous !== size || size === 0) {
        this.stalls.set(topic, 0);
        this.completed.delete(topic);
        continue;
      }
      const stalls = (this.stalls.get(topic) ?? 0) + 1;
      this.stalls.set(topic, stalls);
      if (stalls < this.threshold || this.completed.has(topic)) continue;
      const record = await this.repo.getNodeByTopic(topic);
      this.completed.add(topic);
      if (record?.interval == null || record.tags.length === 0) continue;
      const query = { tags: record.tags, interval: record.interval, matchMode: 'any' as const };
      const live = (await this.repo.getQueuesByTags(query)).filter((queue) => !this.completed.has(queue));
      this.events.publish('queue_update', {
        tags: record.tags,
        interval: record.interval,
        queues: live,
        match_mode: 'any',
      });
      done.push(topic);
    }
    for (const topic of this.lastSize.keys()) {
      if (!sizes.has(topic)) {
        this.lastSize.delete(topic);
        this.stalls.delete(topic);
        this.completed.delete(topic);
      }
    }
    return done;
  }
}
