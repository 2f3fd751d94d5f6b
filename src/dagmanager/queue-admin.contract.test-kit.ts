import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { TopicNameTakenError, type QueueAdmin, type TopicSpec } from './queue-admin.js';

/** Options of {@link testQueueAdminContract}. */
export interface QueueAdminContractOptions {
  readonly create: () => Promise<QueueAdmin>;
  /** Appends `count` messages to `topic` through the adapter's data path (for sizes). */
  readonly produce: (admin: QueueAdmin, topic: string, count: number) => Promise<void>;
  /** A prefix unique to this run, so a shared broker's leftovers never collide. */
  readonly prefix: string;
}

/**
 * The behaviour every {@link QueueAdmin} adapter must have. Call it from each adapter's test.
 * @example testQueueAdminContract('memory', { create, produce, prefix: 'c1' });
 */
export function testQueueAdminContract(name: string, options: QueueAdminContractOptions): void {
  describe(`${name} QueueAdmin contract`, () => {
    let admin: QueueAdmin;
    let n = 0;
    const spec = (suffix: string, overrides: Partial<TopicSpec> = {}): TopicSpec => ({
      name: `${options.prefix}_${suffix}_${n++}`,
      partitions: 1,
      replicationFactor: 1,
      retentionMs: 86_400_000,
      ...overrides,
    });
    beforeEach(async () => {
      admin = await options.create();
    });
    afterEach(async () => {
      await admin.close();
    });

    it('creates a topic once: a second create reports it exists', async () => {
      const topic = spec('once', { partitions: 2 });
      expect(await admin.createTopic(topic)).toBe('created');
      expect(await admin.createTopic(topic)).toBe('exists');
      expect(await admin.describeTopic(topic.name)).toEqual({
        name: topic.name,
        partitions: 2,
        replicationFactor: 1,
        retentionMs: 86_400_000,
      });
      expect(await admin.listTopics()).toContain(topic.name);
    });

    it('creates exactly one topic under 20 concurrent creates of the same name', async () => {
      const topic = spec('race');
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => admin.createTopic(topic)));
      expect(outcomes.filter((o) => o === 'created').length).toBe(1);
      expect((await admin.listTopics()).filter((t) => t === topic.name).length).toBe(1);
    });

    it('describes a missing topic as null', async () => {
      expect(await admin.describeTopic(`${options.prefix}_missing_${n++}`)).toBeNull();
    });

    it('reports sizes as messages held, for all topics or the ones asked for', async () => {
      const empty = spec('empty');
      const full = spec('full');
      await admin.createTopic(empty);
      await admin.createTopic(full);
      await options.produce(admin, full.name, 5);
      const sizes = await admin.topicSizes([empty.name, full.name, `${options.prefix}_nope`]);
      expect(sizes).toEqual(
        new Map([
          [empty.name, 0],
          [full.name, 5],
        ]),
      );
      expect((await admin.topicSizes()).get(full.name)).toBe(5);
    });

    it('creates many topics at once, telling new from existing and leaving out names it cannot create', async () => {
      const existing = spec('many_old');
      await admin.createTopic(existing);
      const fresh = Array.from({ length: 150 }, (_, i) => spec(`many_${i}`, { partitions: 1 + (i % 2) }));
      const bad = spec('x', { name: 'has space' });
      const found = await admin.createTopics!([existing, ...fresh, bad]);
      expect(found.get(existing.name)).toMatchObject({ created: false, partitions: 1 });
      expect(fresh.every((t) => found.get(t.name)?.created === true)).toBe(true);
      expect(found.get(fresh[1]!.name)).toMatchObject({ partitions: 2, replicationFactor: 1 });
      expect(found.has(bad.name)).toBe(false);
      const ours = (await admin.listTopics()).filter((name) => name.startsWith(`${options.prefix}_many_`));
      expect(ours).toHaveLength(151);
      for (const topic of [existing, ...fresh]) await admin.deleteTopic(topic.name);
    });

    it('refuses a name that differs from an existing topic only in "." versus "_"', async () => {
      const dotted = spec('x', { name: `${options.prefix}.dot_twin` });
      await admin.createTopic(dotted);
      const twin = spec('x', { name: `${options.prefix}_dot_twin` });
      await expect(admin.createTopic(twin)).rejects.toBeInstanceOf(TopicNameTakenError);
      expect(await admin.listTopics()).not.toContain(twin.name);
      await admin.deleteTopic(dotted.name);
    });

    it('deletes topics; deleting a missing one does nothing', async () => {
      const topic = spec('gone');
      await admin.createTopic(topic);
      await admin.deleteTopic(topic.name);
      await admin.deleteTopic(topic.name);
      expect(await admin.listTopics()).not.toContain(topic.name);
      expect(await admin.describeTopic(topic.name)).toBeNull();
    });

    it('rejects names Kafka does not allow, naming the value', async () => {
      for (const bad of ['', 'has space', 'x'.repeat(250), '..', 'a/b']) {
        await expect(admin.createTopic(spec('x', { name: bad }))).rejects.toMatchObject({
          code: ErrorCode.InvalidArgument,
        });
      }
    });

    it('counts at least one broker', async () => {
      expect(await admin.brokerCount()).toBeGreaterThanOrEqual(1);
    });
  });
}
