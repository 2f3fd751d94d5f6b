/**
 * TopicBus throughput and latency, per adapter: one topic, one consumer group in the same process.
 * Two runs per adapter:
 *  - flat out: publish `messages` SPEC §2.9 messages (~100-byte values) in batches of 1000 as fast
 *    as `publish` resolves; published/s, consumed/s (first publish to last message handled), and
 *    publish-to-handle latency p50/p99 (which, at saturation, is mostly queueing);
 *  - paced: the same count at `rate` messages/s (batches every 10 ms), the latency at that rate.
 * Targets: ≥ 50,000 messages/s per topic, p99 ≤ 20 ms.
 *   node --import tsx bench/topic-bus-throughput.ts [memory,redis,kafka] [messages=200000] [rate=50000]
 * Redis and Kafka come from QMTL_TEST_REDIS (127.0.0.1:6379) and QMTL_TEST_KAFKA (127.0.0.1:19092).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createClient } from 'redis';
import { MemoryTopicBus } from '../src/transport/memory-topic-bus.js';
import { RedisTopicBus } from '../src/transport/redis-topic-bus.js';
import type { ReceivedMessage, TopicBus, TopicMessage } from '../src/transport/topic-bus.js';

const adapters = (process.argv[2] ?? 'memory,redis').split(',');
const messages = Number(process.argv[3] ?? 200_000);
const rate = Number(process.argv[4] ?? 50_000);
const BATCH = 1000;
const PACE_MS = 10;
const redisAddress = process.env['QMTL_TEST_REDIS'] ?? '127.0.0.1:6379';
const kafkaAddress = process.env['QMTL_TEST_KAFKA'] ?? '127.0.0.1:19092';
const runId = `${Date.now().toString(36)}_${process.pid}`;
/** A 64-hex node id, as real keys are. */
const NODE_ID = 'a'.repeat(64);
/** Pads the value to ~100 bytes: {"interval":60,"timestamp":…,"payload":{"t":…,"pad":"…"}}. */
const PAD = 'x'.repeat(24);

interface Run {
  readonly publishedPerSec: number;
  readonly consumedPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

interface Adapter {
  readonly bus: TopicBus;
  dispose(): Promise<void>;
}

function batch(from: number, count: number): TopicMessage[] {
  const t = performance.now();
  return Array.from({ length: count }, (_, index) => ({
    nodeId: NODE_ID,
    interval: 60,
    timestamp: (from + index) * 60,
    payload: { t, pad: PAD },
  }));
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Publishes `messages` (flat out when `paced` is false) to a fresh topic and waits until one group has them all. */
async function measure(bus: TopicBus, paced: boolean): Promise<Run> {
  const topic = `bench_${runId}_${paced ? 'paced' : 'flat'}`;
  await bus.ensureTopic(topic);
  const latencies = new Float64Array(messages);
  let received = 0;
  let lastAt = 0;
  let allReceived = (): void => undefined;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  const subscription = await bus.subscribe({
    topics: [topic],
    group: `bench_${runId}_${topic}`,
    onMessage: (message: ReceivedMessage) => {
      lastAt = performance.now();
      latencies[received] = lastAt - (message.payload as { t: number }).t;
      received += 1;
      if (received === messages) allReceived();
    },
  });
  const perTick = Math.max(1, Math.round((rate * PACE_MS) / 1000));
  const size = paced ? perTick : BATCH;
  const began = performance.now();
  for (let sent = 0, tick = 0; sent < messages; sent += size, tick += 1) {
    if (paced) {
      const wait = began + tick * PACE_MS - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await bus.publish(topic, batch(sent, Math.min(size, messages - sent)));
  }
  const publishedAt = performance.now();
  await done;
  await subscription.close();
  const sorted = latencies.sort();
  return {
    publishedPerSec: messages / ((publishedAt - began) / 1000),
    consumedPerSec: messages / ((lastAt - began) / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

async function open(name: string): Promise<Adapter | null> {
  if (name === 'memory') {
    const bus = new MemoryTopicBus();
    return { bus, dispose: () => bus.close() };
  }
  if (name === 'redis') {
    const keyPrefix = `qmtl-bench:${runId}:`;
    const bus = await RedisTopicBus.connect(`redis://${redisAddress}`, { keyPrefix });
    return {
      bus,
      dispose: async () => {
        await bus.close();
        const admin = createClient({ url: `redis://${redisAddress}`, RESP: 2 });
        await admin.connect();
        for await (const keys of admin.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 100 }))
          if (keys.length > 0) await admin.del(keys);
        admin.destroy();
      },
    };
  }
  if (name === 'kafka') {
    const file = fileURLToPath(new URL('../src/transport/kafka-topic-bus.ts', import.meta.url));
    if (!existsSync(file)) {
      console.log('kafka: skipped, src/transport/kafka-topic-bus.ts does not exist yet');
      return null;
    }
    // A computed specifier: the bench must compile while the adapter is still being written.
    const module = (await import(pathToFileURL(file).href)) as {
      KafkaTopicBus: { connect(options: { brokers: string[] }): Promise<TopicBus> };
    };
    const bus = await module.KafkaTopicBus.connect({ brokers: [kafkaAddress] });
    return { bus, dispose: () => bus.close() };
  }
  throw new Error(`unknown adapter "${name}" (memory, redis or kafka)`);
}

const rows: string[][] = [];
for (const name of adapters) {
  const adapter = await open(name);
  if (adapter === null) continue;
  try {
    for (const paced of [false, true]) {
      const run = await measure(adapter.bus, paced);
      rows.push([
        name,
        paced ? `paced ${rate}/s` : 'flat out',
        run.publishedPerSec.toFixed(0),
        run.consumedPerSec.toFixed(0),
        run.p50Ms.toFixed(2),
        run.p99Ms.toFixed(2),
      ]);
    }
  } finally {
    await adapter.dispose();
  }
}

const header = ['adapter', 'run', 'published/s', 'consumed/s', 'p50 ms', 'p99 ms'];
const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
);
console.log(`TopicBus throughput: ${messages} messages of ~100 bytes, one topic, one group`);
for (const row of [header, ...rows])
  console.log(row.map((cell, column) => cell.padStart(widths[column] ?? 0)).join('  '));
