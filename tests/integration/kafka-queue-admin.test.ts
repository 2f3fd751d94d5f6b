import { Producer, stringSerializers } from '@platformatic/kafka';
import { expect, it } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { KafkaQueueAdmin } from '../../src/dagmanager/kafka-queue-admin.js';
import { testQueueAdminContract } from '../../src/dagmanager/queue-admin.contract.test-kit.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const reachable = await isReachable('kafka');
const brokers = [servers.kafka.address];
const prefix = `it_qa_${Date.now().toString(36)}_${process.pid}`;

/**
 * Really appends `count` SPEC §2.9 messages to `topic`, acknowledged by the broker. Idempotent:
 * the client resends a whole per-broker batch when one partition of a just-created topic fails,
 * and without idempotence the partitions that had succeeded get their messages twice.
 */
async function produce(topic: string, count: number): Promise<void> {
  const producer = new Producer({
    clientId: 'qmtl-test',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
  });
  try {
    await producer.send({
      messages: Array.from({ length: count }, (_, i) => ({
        topic,
        key: `node-${i}`,
        value: JSON.stringify({ interval: 60, timestamp: 1_700_000_040 + 60 * i, payload: { close: i } }),
      })),
    });
  } finally {
    await producer.close();
  }
}

describeWithServer('kafka', reachable, 'KafkaQueueAdmin on a real broker', () => {
  testQueueAdminContract('kafka', {
    create: () => Promise.resolve(new KafkaQueueAdmin({ brokers })),
    produce: (_admin, topic, count) => produce(topic, count),
    prefix,
  });

  it('reads the retention it set and sums sizes over partitions', async () => {
    const admin = new KafkaQueueAdmin({ brokers });
    const name = `${prefix}_spread`;
    try {
      await admin.createTopic({ name, partitions: 3, replicationFactor: 1, retentionMs: 604_800_000 });
      await produce(name, 30);
      expect(await admin.describeTopic(name)).toEqual({
        name,
        partitions: 3,
        replicationFactor: 1,
        retentionMs: 604_800_000,
      });
      expect((await admin.topicSizes([name])).get(name)).toBe(30);
    } finally {
      await admin.deleteTopic(name);
      await admin.close();
    }
  });

  it('leaves out of the sizes a topic deleted after it was listed (GC running meanwhile)', async () => {
    const admin = new KafkaQueueAdmin({ brokers });
    const kept = `${prefix}_kept`;
    const deleted = `${prefix}_deleted`;
    try {
      await admin.createTopic({ name: kept, partitions: 1, replicationFactor: 1, retentionMs: 60_000 });
      await admin.createTopic({ name: deleted, partitions: 1, replicationFactor: 1, retentionMs: 60_000 });
      await produce(kept, 2);
      // The first listing still names the topic; it is gone before its offsets are read.
      const listTopics = admin.listTopics.bind(admin);
      let listings = 0;
      admin.listTopics = async () => {
        const names = await listTopics();
        if ((listings += 1) === 1) await admin.deleteTopic(deleted);
        return names;
      };
      expect(await admin.topicSizes([kept, deleted])).toEqual(new Map([[kept, 2]]));
      expect(listings).toBe(2);
    } finally {
      await admin.deleteTopic(kept);
      await admin.close();
    }
  });

  it('reports a replication factor above the broker count as a failed create naming the topic', async () => {
    const admin = new KafkaQueueAdmin({ brokers });
    const name = `${prefix}_rf`;
    try {
      const brokerCount = await admin.brokerCount();
      await expect(
        admin.createTopic({ name, partitions: 1, replicationFactor: brokerCount + 1, retentionMs: 1000 }),
      ).rejects.toMatchObject({
        code: ErrorCode.QueueCreateFailed,
        message: expect.stringContaining(`"${name}"`) as unknown,
      });
    } finally {
      await admin.close();
    }
  });

  it('fails with Unavailable when no broker listens', async () => {
    const admin = new KafkaQueueAdmin({ brokers: ['127.0.0.1:1'], timeoutMs: 1000 });
    try {
      await expect(admin.listTopics()).rejects.toMatchObject({
        code: ErrorCode.Unavailable,
        message: expect.stringContaining('127.0.0.1:1 is unreachable') as unknown,
      });
    } finally {
      await admin.close();
    }
  });
});
