/**
 * A live run reading two Kafka topics with a backlog: one dry-run produces a price stream and its
 * mean to their topics; a second, started once both topics hold dozens of buckets, consumes both
 * and computes their distance. The subscription hands the backlogs out in bucket order across the
 * topics, so the reader computes each bucket of the backlog from the same bucket of both (handed
 * out topic by topic, it computed them from the price and an older mean, and skipped the means).
 * Later buckets are not checked: live, a producer that falls behind its feed publishes two price
 * bars before their means, and the reader skips what arrives out of step (docs/live.md).
 */
import { afterAll, afterEach, expect, it } from 'vitest';
import { DagManager } from '../../src/dagmanager/dag-manager.js';
import { KafkaQueueAdmin } from '../../src/dagmanager/kafka-queue-admin.js';
import { MemoryNodeRepository } from '../../src/dagmanager/memory-node-repository.js';
import { TopicNameTakenError } from '../../src/dagmanager/queue-admin.js';
import { EmbeddedDagClient } from '../../src/gateway/embedded-dag-client.js';
import { listeningPort, testGateway, type TestGateway } from '../../src/gateway/gateway.test-kit.js';
import { MemoryHistoryProvider } from '../../src/sdk/history/memory-history-provider.js';
import type { LiveRun } from '../../src/sdk/live/live-run.js';
import { streamAndMean } from '../../src/sdk/live/stream-and-mean.test-kit.js';
import type { Node } from '../../src/sdk/node.js';
import { ProcessingNode } from '../../src/sdk/processing-node.js';
import { Runner } from '../../src/sdk/runner/runner.js';
import { Strategy } from '../../src/sdk/strategy.js';
import type { StreamInput } from '../../src/sdk/stream-input.js';
import { KafkaTopicBus } from '../../src/transport/kafka-topic-bus.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const reachable = await isReachable('kafka');
const INTERVAL = 60;
const T0 = 1_700_000_000 - (1_700_000_000 % INTERVAL);
/** First live bucket: 100 bars of history before it; 150 live buckets. */
const LIVE = T0 + 100 * INTERVAL;
const END = LIVE + 149 * INTERVAL;
const rows = Array.from({ length: 300 }, (_, i) => ({
  ts: T0 + i * INTERVAL,
  close: 100 + Math.sin(i / 7) * 5,
}));
const provider = new MemoryHistoryProvider(rows);
/** A tag of this run only: node ids no earlier run on the shared broker used (see dagManagerOn). */
const tag = `kafka-backlog-${process.pid}-${Date.now()}`;

/** The price stream and its 5-bar mean, identical in both strategies (so computed once). */
const shared = (paceMs: number): { price: StreamInput; mean: Node } =>
  streamAndMean({ tags: ['BTC', tag], provider, interval: INTERVAL, paceMs });

class Producer extends Strategy {
  override setup(): void {
    const { price, mean } = shared(20);
    this.addNodes([price, mean]);
  }
}

let distance!: Node;
class Reader extends Strategy {
  override setup(): void {
    const { price, mean } = shared(2);
    distance = new ProcessingNode({
      input: [price, mean],
      name: 'distance',
      interval: INTERVAL,
      period: 1,
      computeFn: (view) =>
        view.input<{ close: number }>(0).latest()!.close - (view.input(1).latest() as number),
    });
    this.addNodes([price, mean, distance]);
  }
}

/**
 * A DAG Manager creating its topics on the broker, as `qmtl dagmgr-server` does, into `created`.
 * Its graph is new, but the broker is shared and may keep other runs' topics: one already there
 * counts as taken, so this run gets topics of its own (longer names, from its nodes' ids) and
 * reads no earlier data.
 */
function dagManagerOn(admin: KafkaQueueAdmin, created: Set<string>): DagManager {
  return new DagManager({
    repo: MemoryNodeRepository.open(),
    admin,
    topics: {
      ensure: async (spec) => {
        if ((await admin.createTopic({ ...spec, replicationFactor: 1 })) === 'exists')
          throw new TopicNameTakenError(spec.name, 'another run left it on the shared broker');
        created.add(spec.name);
        return 'created';
      },
    },
  });
}

describeWithServer('kafka', reachable, 'a live run reading two Kafka topics with a backlog', () => {
  let gw: TestGateway | null = null;
  const runs: LiveRun[] = [];
  const clients: { close(): Promise<void> }[] = [];
  const admin = new KafkaQueueAdmin({ brokers: [servers.kafka.address] });
  const created = new Set<string>();
  afterEach(async () => {
    for (const run of runs.splice(0)) await run.stop();
    for (const topic of created) await admin.deleteTopic(topic);
    created.clear();
    for (const client of clients.splice(0)) await client.close();
    await gw?.gateway.close();
  });
  afterAll(() => admin.close());

  const dryrun = async (strategy: new () => Strategy): Promise<LiveRun> => {
    const topicBus = await KafkaTopicBus.connect({ brokers: [servers.kafka.address], clientId: 'qmtl-test' });
    clients.push(topicBus);
    const run = await Runner.dryrun(strategy, {
      gatewayUrl: `http://127.0.0.1:${listeningPort(gw!.gateway)}`,
      topicBus,
      startTime: LIVE,
      endTime: END,
      keepOutputs: 'all',
    });
    runs.push(run);
    return run;
  };

  it(
    'computes every bucket of the backlog from the same bucket of both topics',
    { timeout: 60_000 },
    async () => {
      gw = await testGateway({
        listen: true,
        leaseMs: 5000,
        leaseCheckMs: 100,
        dagClient: new EmbeddedDagClient(dagManagerOn(admin, created)),
      });
      const producer = await dryrun(Producer);
      const mean = producer.strategy.nodes[1]!;
      while (producer.stats(mean).outputs < 60) await new Promise((resolve) => setTimeout(resolve, 10));
      // Both topics hold dozens of buckets when the reader starts: it reads them as a backlog.
      const backlog = producer
        .outputs<number>(mean)
        .toArray()
        .map(([t]) => t)
        .filter((t) => t >= LIVE);
      const reader = await dryrun(Reader);
      await Promise.all([producer.done, reader.done]);
      expect(reader.roles.consumed.size).toBe(2);
      const close = new Map(rows.map((row) => [row.ts, row.close]));
      const means = new Map(producer.outputs<number>(mean).toArray());
      const distances = new Map(reader.outputs<number>(distance).toArray());
      expect(backlog.length).toBeGreaterThanOrEqual(55);
      expect(backlog.filter((t) => distances.get(t) !== close.get(t)! - means.get(t)!)).toEqual([]);
    },
  );
});
