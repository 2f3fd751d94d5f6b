import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import {
  collisionKey,
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
  /** Topic names by {@link collisionKey}: the name a new one would collide with, as in Kafka. */
  private readonly byCollisionKey = new Map<string, string>();

  createTopic(spec: TopicSpec): Promise<'created' | 'exists'> {
    const invalid = topicNameProblem(spec.name);
    if (invalid !== null) return Promise.reject(invalid);
    if (this.topics.has(spec.name)) return Promise.resolve('exists');
    // As Kafka does: names that differ only in '.' versus '_' collide.
    const twin = this.byCollisionKey.get(collisionKey(spec.name));
    if (twin !== undefined)
      return Promise.reject(
        new TopicNameTakenError(spec.name, `it collides with existing topic ${quote(twin)}`),
      );
    this.topics.set(spec.name, {
      name: spec.name,
      partitions: spec.partitions,
      replicationFactor: spec.replicationFactor,
      retentionMs: spec.retentionMs,
      size: 0,
    });
    this.byCollisionKey.set(collisionKey(spec.name), spec.name);
    return Promise.resolve('created');
  }

  async createTopics(specs: readonly TopicSpec[]): Promise<Map<string, CreatedTopic>> {
    const found = new Map<string, CreatedTopic>();
    for (const spec of specs) {
      const outcome = await this.createTopic(spec).catch(() => null);
      const topic = outcome === null ? null : await this.describeTopic(spec.name);
      if (topic !== null) found.set(spec.name, { ...topic, created: outcome === 'created' });
    }
    return found;
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
    if (this.topics.delete(name)) this.byCollisionKey.delete(collisionKey(name));
    return Promise.resolve();
  }

  brokerCount(): Promise<number> {
    return Promise.resolve(1);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Counts `messages` appended to `name` (used by the in-process topic bus). */
  append(name: string, messages = 1): void {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new QmtlError(ErrorCode.NotFound, `topic ${quote(name)} does not exist`);
    topic.size += messages;
  }
}

/**
 * Kafka's topic-name rule, applied by every adapter: 1–249 characters of `[A-Za-z0-9._-]`, not
 * `.` or `..`. Returns the `QMTL_INVALID_ARGUMENT` error for a bad name, or null.
 */
export function topicNameProblem(name: unknown): QmtlError | null {
  if (typeof name === 'string' && /^[A-Za-z0-9._-]{1,249}$/.test(name) && name !== '.' && name !== '..')
    return null;
  return new QmtlError(
    ErrorCode.InvalidArgument,
    `topic name must be 1–249 characters of letters, digits, '.', '_' or '-', got ${quote(name)}`,
  );
}
