/**
 * Kafka client comparison on the loopback test broker (`bash .ci/servers.sh start kafka`):
 * produce then consume `messages` SPEC §2.9 messages (key = a 64-hex node id, value = ~100-byte
 * JSON) through one single-partition topic with an idempotent acks=all producer, count what
 * arrives (a lost message shows as LOST), and time admin createTopic. Every round runs each
 * variant in a fresh child process, variants alternating; medians over `rounds` are printed.
 * A client that is not installed is skipped.
 *   node --import tsx bench/kafka-clients.ts [messages=100000] [rounds=3] [broker=127.0.0.1:19092]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const messages = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const broker = process.argv[4] ?? process.env['QMTL_TEST_KAFKA'] ?? '127.0.0.1:19092';
const BATCH = 1000;
const CREATES = 20;
/** The consumer gives up after this long without a new message (so a loss ends the round). */
const IDLE_MS = 8000;
const runId = `${Date.now().toString(36)}_${process.pid}`;

interface Message {
  readonly key: string;
  readonly value: string;
}

interface Consumed {
  readonly received: number;
  /** From subscribing to the first message (group join, first fetch). */
  readonly firstMs: number;
  /** From the first message to the last. */
  readonly drainMs: number;
}

/** What the bench drives; one adapter per client library and mode. */
interface BenchClient {
  readonly name: string;
  createTopic(topic: string): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Sends every batch, at most `inFlight` sends pending. */
  produce(topic: string): Promise<void>;
  /** Reads from the start until `count` messages arrived or none came for `IDLE_MS`. */
  consume(topic: string, count: number): Promise<Consumed>;
  close(): Promise<void>;
}

const nodeId = createHash('sha256').update('bench-node').digest('hex');
const all: Message[] = Array.from({ length: messages }, (_, i) => ({
  key: nodeId,
  value: JSON.stringify({
    interval: 60,
    timestamp: 1_700_000_040 + 60 * i,
    payload: { close: 42_000 + (i % 1000) / 7, volume: 1 + (i % 97), side: i % 2 === 0 ? 'buy' : 'sell' },
  }),
}));
const batches: Message[][] = [];
for (let i = 0; i < all.length; i += BATCH) batches.push(all.slice(i, i + BATCH));

/** Runs `send` over the batches with at most `inFlight` of them pending. */
async function pipelined(inFlight: number, send: (batch: Message[]) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) await send(batches[next++]!);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/** Counts consumed messages (parsing each, as a consumer would) and settles when done or idle. */
class Tally {
  private readonly began = performance.now();
  private first = 0;
  private last = 0;
  private received = 0;
  private idle: NodeJS.Timeout | undefined;
  private settle: ((consumed: Consumed) => void) | undefined;
  readonly done = new Promise<Consumed>((resolve) => (this.settle = resolve));

  constructor(private readonly count: number) {
    this.arm();
  }

  take(value: string): void {
    if (this.received === 0) this.first = performance.now();
    JSON.parse(value);
    this.received += 1;
    this.last = performance.now();
    if (this.received >= this.count) this.finish();
    else this.arm();
  }

  private arm(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.finish(), IDLE_MS);
  }

  private finish(): void {
    clearTimeout(this.idle);
    const first = this.received === 0 ? this.began : this.first;
    this.settle?.({ received: this.received, firstMs: first - this.began, drainMs: this.last - first });
    this.settle = undefined;
  }
}

async function platformatic(inFlight: number): Promise<BenchClient | null> {
  const kafka = await import('@platformatic/kafka').catch(() => null);
  if (kafka === null) return null;
  const base = { clientId: 'qmtl-bench', bootstrapBrokers: [broker] };
  const admin = new kafka.Admin(base);
  const producer = new kafka.Producer({ ...base, serializers: kafka.stringSerializers, idempotent: true });
  const packageJson = new URL('../node_modules/@platformatic/kafka/package.json', import.meta.url);
  const { version } = JSON.parse(readFileSync(fileURLToPath(packageJson), 'utf8')) as { version: string };
  return {
    name: `@platformatic/kafka ${version}, ${inFlight} send(s) in flight`,
    createTopic: async (topic) => {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    },
    deleteTopics: (topics) => admin.deleteTopics({ topics }),
    produce: (topic) =>
      pipelined(inFlight, (batch) =>
        producer.send({ messages: batch.map((m) => ({ topic, key: m.key, value: m.value })) }),
      ),
    consume: async (topic, count) => {
      const consumer = new kafka.Consumer({
        ...base,
        groupId: `bench-${topic}`,
        deserializers: kafka.stringDeserializers,
      });
      const tally = new Tally(count);
      const stream = await consumer.consume({ topics: [topic], mode: kafka.MessagesStreamModes.EARLIEST });
      stream.on('data', (message) => tally.take(message.value));
      const consumed = await tally.done;
      await stream.close();
      await consumer.close();
      return consumed;
    },
    close: async () => {
      await producer.close();
      await admin.close();
    },
  };
}

/** The slice of `@confluentinc/kafka-javascript`'s KafkaJS-style API the bench uses. */
interface ConfluentModule {
  librdkafkaVersion: string;
  KafkaJS: {
    Kafka: new (config: object) => {
      producer(config?: object): ConfluentClient & { send(record: object): Promise<unknown> };
      consumer(config: object): ConfluentClient & {
        subscribe(options: object): Promise<void>;
        run(options: {
          eachMessage?(payload: { message: ConfluentMessage }): Promise<void>;
          eachBatch?(payload: { batch: { messages: ConfluentMessage[] } }): Promise<void>;
        }): Promise<void>;
      };
      admin(): ConfluentClient & {
        createTopics(options: object): Promise<boolean>;
        deleteTopics(options: object): Promise<void>;
      };
    };
  };
}
interface ConfluentMessage {
  value: Buffer | null;
}
interface ConfluentClient {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/** `eachMessage` is the KafkaJS-style per-message path; `eachBatch` hands over whole fetches. */
async function confluent(mode: 'eachMessage' | 'eachBatch', inFlight: number): Promise<BenchClient | null> {
  // Optional: a variable specifier keeps the type-checker from requiring the package.
  const specifier = '@confluentinc/kafka-javascript';
  const module = (await import(specifier).catch(() => null)) as { default: ConfluentModule } | null;
  if (module === null) return null;
  const { KafkaJS, librdkafkaVersion } = module.default;
  const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: [broker], clientId: 'qmtl-bench', logLevel: 1 } });
  const admin = kafka.admin();
  const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
  await Promise.all([admin.connect(), producer.connect()]);
  return {
    name: `@confluentinc/kafka-javascript (librdkafka ${librdkafkaVersion}) ${mode}, ${inFlight} sends in flight`,
    createTopic: async (topic) => {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    },
    deleteTopics: (topics) => admin.deleteTopics({ topics }),
    produce: (topic) =>
      pipelined(inFlight, (batch) =>
        producer.send({ topic, messages: batch.map((m) => ({ key: m.key, value: m.value })) }),
      ),
    consume: async (topic, count) => {
      const consumer = kafka.consumer({
        kafkaJS: { groupId: `bench-${topic}`, fromBeginning: true },
        ...(mode === 'eachBatch' ? { 'js.consumer.max.batch.size': -1 } : {}),
      });
      const tally = new Tally(count);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      const take = (message: ConfluentMessage): void => tally.take(String(message.value));
      const running =
        mode === 'eachMessage'
          ? consumer.run({ eachMessage: ({ message }) => Promise.resolve(take(message)) })
          : consumer.run({ eachBatch: ({ batch }) => Promise.resolve(batch.messages.forEach(take)) });
      // run() may only settle when the consumer stops; a failure shows up as a LOST count.
      running.catch((error: unknown) => console.error(error));
      const consumed = await tally.done;
      await consumer.disconnect();
      return consumed;
    },
    close: async () => {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

const variants: Record<string, () => Promise<BenchClient | null>> = {
  'platformatic-1': () => platformatic(1),
  'platformatic-8': () => platformatic(8),
  'confluent-eachMessage': () => confluent('eachMessage', 8),
  'confluent-eachBatch': () => confluent('eachBatch', 8),
};

interface Round extends Consumed {
  readonly name: string;
  readonly produceMs: number;
  readonly createMs: number[];
  readonly rssMb: number;
}

async function round(client: BenchClient): Promise<Omit<Round, 'rssMb'>> {
  const topic = `bench_${client.name.replace(/[^a-z0-9]/gi, '').slice(0, 40)}_${runId}`;
  await client.createTopic(topic);
  const produceStart = performance.now();
  await client.produce(topic);
  const produceMs = performance.now() - produceStart;
  const consumed = await client.consume(topic, messages);
  const createMs: number[] = [];
  const created: string[] = [topic];
  for (let i = 0; i < CREATES; i += 1) {
    const name = `${topic}_admin_${i}`;
    const began = performance.now();
    await client.createTopic(name);
    createMs.push(performance.now() - began);
    created.push(name);
  }
  await client.deleteTopics(created);
  return { name: client.name, produceMs, ...consumed, createMs };
}

/** Child mode: one round of one variant, printed as a JSON line. */
async function child(key: string): Promise<void> {
  const client = await variants[key]!();
  if (client === null) {
    console.log(JSON.stringify({ skipped: true }));
    return;
  }
  const result = await round(client);
  await client.close();
  console.log(JSON.stringify({ ...result, rssMb: process.resourceUsage().maxRSS / 1024 }));
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const perSecond = (count: number, ms: number): number => Math.round(count / (ms / 1000));
const format = (n: number): string => n.toLocaleString('en-US');
/** Median rate with the spread of the rounds, so a noisy machine shows in the output. */
const rates = (values: number[]): string =>
  `${format(median(values)).padStart(8)} msg/s (range ${format(Math.min(...values))}–${format(Math.max(...values))})`;

function report(runs: Round[]): void {
  const creates = runs.flatMap((r) => r.createMs);
  const lost = runs.map((r) => messages - r.received);
  console.log(`\n${runs[0]!.name}`);
  console.log(`  produce  ${rates(runs.map((r) => perSecond(messages, r.produceMs)))}`);
  console.log(
    `  consume  ${rates(runs.map((r) => perSecond(r.received, r.drainMs)))}; ` +
      `${median(runs.map((r) => r.firstMs)).toFixed(0)} ms to the first message`,
  );
  if (lost.some((n) => n !== 0))
    console.log(`  LOST     ${lost.join(', ')} of ${messages} acknowledged messages per round`);
  console.log(
    `  createTopic  median ${median(creates).toFixed(1)} ms, p95 ${percentile(creates, 95).toFixed(1)} ms ` +
      `(${creates.length} creates); max RSS ${median(runs.map((r) => r.rssMb)).toFixed(0)} MB`,
  );
}

const CHILD = 'QMTL_BENCH_KAFKA_CLIENT';
const childKey = process.env[CHILD];
if (childKey !== undefined) {
  await child(childKey);
  process.exit(0);
}

const bytes = all.reduce((sum, m) => sum + m.key.length + m.value.length, 0);
const valueBytes = Math.round(all.reduce((sum, m) => sum + m.value.length, 0) / messages);
console.log(
  `kafka-clients: ${messages} messages (value ~${valueBytes} B JSON, key 64 B, ${(bytes / 1e6).toFixed(1)} MB), ` +
    `batches of ${BATCH}, idempotent acks=all, 1 partition, broker ${broker}, ${rounds} rounds, node ${process.version}`,
);
const results = new Map<string, Round[]>();
const self = fileURLToPath(import.meta.url);
for (let r = 0; r < rounds; r += 1) {
  for (const key of Object.keys(variants)) {
    const output = execFileSync(process.execPath, ['--import', 'tsx', self, String(messages), '1', broker], {
      env: { ...process.env, [CHILD]: key },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as Round | { skipped: true };
    if ('skipped' in result) continue;
    results.set(key, [...(results.get(key) ?? []), result]);
  }
}
for (const runs of results.values()) report(runs);
