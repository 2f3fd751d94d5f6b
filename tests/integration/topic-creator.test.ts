import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { KafkaQueueAdmin } from '../../src/dagmanager/kafka-queue-admin.js';
import type { QueueAdmin, TopicSpec } from '../../src/dagmanager/queue-admin.js';
import { TopicCollisionError, TopicCreator } from '../../src/dagmanager/topic-creator.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const reachable = await isReachable('kafka');
const brokers = [servers.kafka.address];
const prefix = `it_tc_${Date.now().toString(36)}_${process.pid}`;
const silent = pino({ level: 'silent' });

/** Records what the real adapter answered to each createTopic (a decorator, not a fake). */
class RecordingAdmin implements QueueAdmin {
  readonly outcomes: string[] = [];
  constructor(private readonly admin: QueueAdmin) {}
  async createTopic(spec: TopicSpec): Promise<'created' | 'exists'> {
    const outcome = await this.admin.createTopic(spec);
    this.outcomes.push(outcome);
    return outcome;
  }
  describeTopic = (name: string) => this.admin.describeTopic(name);
  listTopics = () => this.admin.listTopics();
  topicSizes = (names?: readonly string[]) => this.admin.topicSizes(names);
  deleteTopic = (name: string) => this.admin.deleteTopic(name);
  brokerCount = () => this.admin.brokerCount();
  close = () => this.admin.close();
}

describeWithServer('kafka', reachable, 'TopicCreator on a real broker', () => {
  const admins: KafkaQueueAdmin[] = [];
  const admin = (): KafkaQueueAdmin => {
    const created = new KafkaQueueAdmin({ brokers });
    admins.push(created);
    return created;
  };
  const spec = (suffix: string): TopicSpec => ({
    name: `${prefix}_${suffix}`,
    partitions: 3,
    replicationFactor: 3, // clamped to the single test broker
    retentionMs: 604_800_000,
  });

  afterAll(async () => {
    const cleanup = admin();
    for (const name of await cleanup.listTopics())
      if (name.startsWith(prefix)) await cleanup.deleteTopic(name);
    await Promise.all(admins.map((a) => a.close()));
  });

  it('creates one topic for 50 concurrent ensures in one process', async () => {
    const real = new RecordingAdmin(admin());
    const creator = new TopicCreator(real, { logger: silent });
    const topic = spec('one_process');
    const results = await Promise.all(Array.from({ length: 50 }, () => creator.ensure(topic)));
    expect(real.outcomes).toEqual(['created']);
    for (const result of results)
      expect(result).toEqual({
        name: topic.name,
        partitions: 3,
        replicationFactor: 1,
        retentionMs: 604_800_000,
        created: true,
      });
    expect((await real.listTopics()).filter((name) => name === topic.name)).toHaveLength(1);
  });

  it('creates one topic for 50 concurrent ensures from separate creators and clients', async () => {
    const topic = spec('separate');
    const creators = Array.from({ length: 50 }, () => new TopicCreator(admin(), { logger: silent }));
    const results = await Promise.all(creators.map((creator) => creator.ensure(topic)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => `${r.partitions}/${r.replicationFactor}/${r.retentionMs}`))).toEqual(
      new Set(['3/1/604800000']),
    );
    expect((await admin().listTopics()).filter((name) => name === topic.name)).toHaveLength(1);
  });

  it('creates many topics in batches, clamped, leaving out one of another shape for ensure to report', async () => {
    const kafka = admin();
    const creator = new TopicCreator(kafka, { logger: silent });
    const other = spec('many_other_shape');
    await kafka.createTopic({ ...other, partitions: 1, replicationFactor: 1 });
    const specs = [other, ...Array.from({ length: 300 }, (_, i) => spec(`many_${i}`))];
    const ensured = await creator.ensureMany(specs);
    expect(ensured.size).toBe(300);
    expect(ensured.has(other.name)).toBe(false);
    expect(ensured.get(specs[1]!.name)).toMatchObject({ partitions: 3, replicationFactor: 1, created: true });
    await expect(creator.ensure(other)).rejects.toBeInstanceOf(TopicCollisionError);
    // Asked again, every topic exists already.
    expect([...(await creator.ensureMany(specs.slice(1))).values()].every((t) => !t.created)).toBe(true);
  });

  it('reports an existing topic of another shape as a collision', async () => {
    const topic = spec('collision');
    await new TopicCreator(admin(), { logger: silent }).ensure(topic);
    await expect(
      new TopicCreator(admin(), { logger: silent }).ensure({ ...topic, partitions: 1 }),
    ).rejects.toBeInstanceOf(TopicCollisionError);
  });
});
