import { Admin, Consumer, Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, expect, it } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { KafkaTopicBus } from '../../src/transport/kafka-topic-bus.js';
import { testTopicBusContract } from '../../src/transport/topic-bus.contract.test-kit.js';
import type { ReceivedMessage, TopicMessage } from '../../src/transport/topic-bus.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const reachable = await isReachable('kafka');
const brokers = [servers.kafka.address];
const prefix = `it_bus_${Date.now().toString(36)}_${process.pid}`;
let topicCount = 0;
let groupCount = 0;
const newTopic = (): string => `${prefix}_${(topicCount += 1)}`;
const newGroup = (): string => `${prefix}_group_${(groupCount += 1)}`;
const nodeId = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';

/** Every topic the suite created, deleted once at the end. */
const created = new Set<string>();

async function withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'qmtl-test', bootstrapBrokers: brokers });
  try {
    return await use(admin);
  } finally {
    await admin.close();
  }
}

/** Appends one raw record behind the bus's back (idempotent, like every producer in qmtl). */
async function publishRaw(topic: string, key: string, value: string): Promise<void> {
  const producer = new Producer({
    clientId: 'qmtl-test',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
  });
  try {
    await producer.send({ messages: [{ topic, key, value }] });
  } finally {
    await producer.close();
  }
}

/** Reads the first `count` records of a topic as raw bytes, with a consumer that is not a bus. */
async function readRaw(topic: string, count: number): Promise<{ key: Buffer; value: Buffer }[]> {
  const consumer = new Consumer({ clientId: 'qmtl-test', bootstrapBrokers: brokers, groupId: newGroup() });
  const records: { key: Buffer; value: Buffer }[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    for await (const message of stream) {
      records.push({ key: message.key, value: message.value });
      if (records.length >= count) break;
    }
  } finally {
    // Leaving the loop destroyed the stream, so the consumer can leave the group.
    await consumer.close();
  }
  return records;
}

async function committedOffset(group: string, topic: string): Promise<bigint | undefined> {
  const [offsets] = await withAdmin((admin) => admin.listConsumerGroupOffsets({ groups: [group] }));
  return offsets?.topics.find((t) => t.name === topic)?.partitions[0]?.committedOffset;
}

async function endOffset(topic: string): Promise<bigint | undefined> {
  const [listed] = await withAdmin((admin) =>
    admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] }),
  );
  return listed?.partitions[0]?.offset;
}

/** The end offset of each partition of a topic. */
async function partitionEnds(topic: string): Promise<bigint[]> {
  const consumer = new Consumer({ clientId: 'qmtl-test', bootstrapBrokers: brokers, groupId: newGroup() });
  try {
    return (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
  } finally {
    await consumer.close();
  }
}

function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 20);
    };
    check();
  });
}

const bar = (seq: number): TopicMessage => ({
  nodeId,
  interval: 60,
  timestamp: 1_700_000_040 + seq * 60,
  payload: { seq },
});

describeWithServer('kafka', reachable, 'KafkaTopicBus on a real broker', () => {
  // Small fetches, so a backlog comes in several rounds (a record batch larger still comes whole).
  const connect = (): Promise<KafkaTopicBus> =>
    KafkaTopicBus.connect({ brokers, clientId: 'qmtl-test', maxFetchBytesPerPartition: 16 * 1024 });

  afterAll(async () => {
    if (created.size > 0) await withAdmin((admin) => admin.deleteTopics({ topics: [...created] }));
  });

  testTopicBusContract(
    'kafka',
    async () => {
      const bus = await connect();
      return {
        bus,
        newTopic: () => {
          const topic = newTopic();
          created.add(topic);
          return topic;
        },
        reopen: connect,
        cleanup: () => bus.close(),
        publishRaw,
      };
    },
    // A second member joining a group waits for the first one's next heartbeat (1 s) to rebalance.
    { deliveryTimeoutMs: 20_000, quietMs: 300, generatedRuns: 3 },
  );

  it('writes the record key and value bytes of SPEC §2.9', async () => {
    const bus = await connect();
    const topic = newTopic();
    created.add(topic);
    try {
      await bus.ensureTopic(topic);
      await bus.publish(topic, [
        { nodeId, interval: 60, timestamp: 1_700_000_040, payload: { close: 101.25, tags: ['ä'] } },
        { nodeId: 'other', interval: 3600, timestamp: 1_699_999_200, payload: null },
      ]);
    } finally {
      await bus.close();
    }
    const records = await readRaw(topic, 2);
    expect(records.map((r) => r.key.toString('hex'))).toEqual([
      Buffer.from(nodeId, 'utf8').toString('hex'),
      Buffer.from('other', 'utf8').toString('hex'),
    ]);
    expect(records.map((r) => r.value.toString('hex'))).toEqual([
      Buffer.from('{"interval":60,"timestamp":1700000040,"payload":{"close":101.25,"tags":["ä"]}}').toString(
        'hex',
      ),
      Buffer.from('{"interval":3600,"timestamp":1699999200,"payload":null}').toString('hex'),
    ]);
  });

  it('commits exactly the handled position, and a new bus resumes from it', { timeout: 60_000 }, async () => {
    const topic = newTopic();
    const group = newGroup();
    created.add(topic);
    const first = await connect();
    const handled: number[] = [];
    try {
      await first.ensureTopic(topic);
      await first.publish(topic, [1, 2, 3, 4, 5].map(bar));
      const subscription = await first.subscribe({
        topics: [topic],
        group,
        onMessage: (message) => {
          const { seq } = message.payload as { seq: number };
          if (seq === 4) return Promise.reject(new Error('not yet'));
          handled.push(seq);
          return undefined;
        },
      });
      await until(() => handled.length === 3, 'messages 1-3');
      await subscription.close();
    } finally {
      await first.close();
    }
    // 1-3 handled: the group's position is the offset of message 4 (offsets start at 0).
    expect(await committedOffset(group, topic)).toBe(3n);

    const restarted = await connect();
    const resumed: ReceivedMessage[] = [];
    try {
      await restarted.subscribe({
        topics: [topic],
        group,
        onMessage: (message) => void resumed.push(message),
      });
      await until(() => resumed.length >= 2, 'messages 4-5 after the restart');
    } finally {
      await restarted.close();
    }
    expect(resumed.map((m) => (m.payload as { seq: number }).seq)).toEqual([4, 5]);
    expect(await committedOffset(group, topic)).toBe(5n);
  });

  it('writes every concurrently published message exactly once', { timeout: 60_000 }, async () => {
    const bus = await connect();
    const topic = newTopic();
    created.add(topic);
    const seen = new Map<number, number>();
    try {
      await bus.ensureTopic(topic);
      await bus.subscribe({
        topics: [topic],
        group: newGroup(),
        onMessage: (message) => {
          const { seq } = message.payload as { seq: number };
          seen.set(seq, (seen.get(seq) ?? 0) + 1);
        },
      });
      // 40 publishes in flight at once, from one producer: the bus must serialise them.
      await Promise.all(
        Array.from({ length: 40 }, (_, call) =>
          bus.publish(
            topic,
            Array.from({ length: 250 }, (_, i) => bar(call * 250 + i)),
          ),
        ),
      );
      await until(() => seen.size >= 10_000, `10,000 distinct messages (have ${seen.size})`);
    } finally {
      await bus.close();
    }
    expect(await endOffset(topic)).toBe(10_000n);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
  });

  it(
    'delivers the backlogs of topics of several partitions in bucket order across all of them',
    { timeout: 60_000 },
    async () => {
      const bus = await KafkaTopicBus.connect({
        brokers,
        clientId: 'qmtl-test',
        partitions: 3,
        maxFetchBytesPerPartition: 4096,
      });
      const topics = [newTopic(), newTopic()];
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      const received: ReceivedMessage[] = [];
      try {
        for (const topic of topics) {
          created.add(topic);
          await bus.ensureTopic(topic);
        }
        // Six keys spread over the partitions, each with a bucket a minute, published bucket by
        // bucket (so each partition holds its records in bucket order), 20 buckets at a time.
        for (let from = 0; from < 300; from += 20)
          for (const topic of topics)
            await bus.publish(
              topic,
              Array.from({ length: 20 }, (_, i) =>
                keys.map((key) => ({ ...bar(from + i), nodeId: key })),
              ).flat(),
            );
        expect((await partitionEnds(topics[0]!)).filter((end) => end > 0n).length).toBeGreaterThan(1);
        await bus.subscribe({ topics, group: newGroup(), onMessage: (m) => void received.push(m) });
        await until(() => received.length >= 2 * 6 * 300, `3600 messages (have ${received.length})`);
      } finally {
        await bus.close();
      }
      const stamps = received.map((m) => m.timestamp);
      expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
      for (const topic of topics)
        for (const key of keys) {
          const seqs = received
            .filter((m) => m.topic === topic && m.nodeId === key)
            .map((m) => (m.payload as { seq: number }).seq);
          expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i));
        }
    },
  );

  it('fails to connect with Unavailable when no broker listens', async () => {
    await expect(KafkaTopicBus.connect({ brokers: ['127.0.0.1:1'], timeoutMs: 1000 })).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringContaining('127.0.0.1:1') as unknown,
    });
  });
});
