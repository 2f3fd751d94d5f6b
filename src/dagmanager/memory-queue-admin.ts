import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import {
  collisionKey,
  topicNameProblem,
  TopicNameTakenError,
  type CreatedTopic,
  type QueueAdmin,
  type TopicDescription,
  type TopicSpec,
} from './queue-admin.js';

/**
 * The embedded {@link QueueAdmin}: topics held in this process (one broker). Sizes count what
 * the in-process topic bus appended through {@link MemoryQueueAdmin.append}.
 */
export class MemoryQueueAdmin implements QueueAdmin {
  private readonly topics = new Map<string, TopicDescription & { size: number }>();
  /**
   * Names containing `.`, by {@link collisionKey}: with `topics`, the name a new one would collide
   * with, as in Kafka. A name without `.` is its own collision key, so `topics` indexes it already
   * (most names: no entry per topic here).
   */
  private readonly dottedByKey = new Map<string, string>();

  createTopic(spec: TopicSpec): Promise<'created' | 'exists'> {
    const outcome = this.create(spec);
    return typeof outcome === 'string' ? Promise.resolve(outcome) : Promise.reject(outcome);
  }

  /** Creates each topic as {@link createTopic} would, in one pass (no promise per topic). */
  createTopics(specs: readonly TopicSpec[]): Promise<Map<string, CreatedTopic>> {
    const found = new Map<string, CreatedTopic>();
    for (const spec of specs) {
      const outcome = this.create(spec);
      if (typeof outcome !== 'string') continue;
      const topic = this.topics.get(spec.name);
      if (topic === undefined) continue;
      const { name, partitions, replicationFactor, retentionMs } = topic;
      found.set(spec.name, {
        name,
        partitions,
        replicationFactor,
        retentionMs,
        created: outcome === 'created',
      });
    }
    return Promise.resolve(found);
  }

  describeTopic(name: string): Promise<TopicDescription | null> {
    const topic = this.topics.get(name);
    if (topic === undefined) return Promise.resolve(null);
    const { name: topicName, partitions, replicationFactor, retentionMs } = topic;
    return Promise.resolve({ name: topicName, partitions, replicationFactor, retentionMs });
  }

  listTopics(): Promise<string[]> {
    return Promise.resolve([...this.topics.keys()].sort());
  }

  topicSizes(names?: readonly string[]): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const name of names ?? this.topics.keys()) {
      const topic = this.topics.get(name);
      if (topic !== undefined) sizes.set(name, topic.size);
    }
    return Promise.resolve(sizes);
  }

  deleteTopic(name: string): Promise<void> {
    if (!this.topics.delete(name)) return Promise.resolve();
    const key = collisionKey(name);
    if (key !== name) this.dottedByKey.delete(key);
    return Promise.resolve();
  }

  brokerCount(): Promise<number> {
    return Promise.resolve(1);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** One create: what it did, or the error that refused it. */
  private create(spec: TopicSpec): 'created' | 'exists' | QmtlError {
    const invalid = topicNameProblem(spec.name);
    if (invalid !== null) return invalid;
    if (this.topics.has(spec.name)) return 'exists';
    // As Kafka does: names that differ only in '.' versus '_' collide.
    const key = collisionKey(spec.name);
    // At most one topic has a key: a name without '.' is its own key, others are in dottedByKey.
    const twin = key !== spec.name && this.topics.has(key) ? key : this.dottedByKey.get(key);
    if (twin !== undefined)
      return new TopicNameTakenError(spec.name, `it collides with existing topic ${quote(twin)}`);
    this.topics.set(spec.name, {
      name: spec.name,
      partitions: spec.partitions,
      replicationFactor: spec.replicationFactor,
      retentionMs: spec.retentionMs,
      size: 0,
    });
    if (key !== spec.name) this.dottedByKey.set(key, spec.name);
    return 'created';
  }

  /** Counts `messages` appended to `name` (used by the in-process topic bus). */
  append(name: string, messages = 1): void {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new QmtlError(ErrorCode.NotFound, `topic ${quote(name)} does not exist`);
    topic.size += messages;
  }
}
