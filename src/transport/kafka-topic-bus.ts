import { randomUUID } from 'node:crypto';
import type * as KafkaModule from '@platformatic/kafka';
import type {
  Admin,
  CommitOptionsPartition,
  Consumer,
  Message,
  MessagesStream,
  Producer,
} from '@platformatic/kafka';
import { ErrorCode, QmtlError, quote, shortId } from '../common/errors.js';
import { brokerErrorIds } from '../common/kafka-errors.js';
import { logger } from '../common/logger.js';
import { OutageLog } from '../common/outage-log.js';
import { backoffDelay, sleep } from '../common/retry.js';
import { KafkaBucketOrder } from './kafka-bucket-order.js';
import {
  decodeTopicValue,
  encodeTopicValue,
  LAST_MESSAGE_LOOKBACK,
  type ReceivedMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicBus,
  type TopicMessage,
} from './topic-bus.js';

/** Options of {@link KafkaTopicBus.connect}. */
export interface KafkaTopicBusOptions {
  /** Bootstrap brokers, `host:port` each (e.g. `['127.0.0.1:19092']`). */
  readonly brokers: readonly string[];
  /** Client id the broker logs; consumers append `-consumer`. Default `'qmtl-runner'`. */
  readonly clientId?: string;
  /** Partitions of a topic `ensureTopic` creates. Default 1. */
  readonly partitions?: number;
  /** Replication factor of a topic `ensureTopic` creates. Default 1. */
  readonly replicationFactor?: number;
  /** Per-request and connect timeout in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Upper bound of one produce request, in bytes of keys and values (the broker's record-batch limit is 1 MiB). Default 512 KiB. */
  readonly maxBatchBytes?: number;
  /** How long handled positions are gathered before one commit, in ms. Default 200. */
  readonly commitIntervalMs?: number;
  /** Delay before the first redelivery of a message whose handler rejected, in ms; doubles up to 5 s. Default 100. */
  readonly retryDelayMs?: number;
  /**
   * Upper bound of what one fetch returns per partition, in bytes (a larger record batch still
   * comes whole). Every partition of a subscription gets its share of each fetch. Default 1 MiB.
   */
  readonly maxFetchBytesPerPartition?: number;
}

type Kafka = typeof KafkaModule;
type StringConsumer = Consumer<string, string, string, string>;
type StringStream = MessagesStream<string, string, string, string>;
type StringMessage = Message<string, string, string, string>;
interface OutgoingRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
}
interface PendingPublish {
  readonly records: readonly OutgoingRecord[];
  /** Index of the first record not yet handed to a send. */
  next: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const log = logger.child({ component: 'kafka-topic-bus' });
const SETTLE_POLL_MS = 25;
const RECORD_OVERHEAD_BYTES = 24;

/**
 * The Kafka {@link TopicBus} over `@platformatic/kafka` (loaded by `connect`, so the embedded mode
 * never imports it). One idempotent acks=all producer with at most one send in flight: concurrent
 * sends of that client lose acknowledged messages (docs/kafka.md), so publishes queue up and leave
 * as one batch per send. A consumer hands out the backlogs of its topics in bucket order across
 * them and commits a position only after its handler resolved.
 *
 * @example
 * const bus = await KafkaTopicBus.connect({ brokers: ['127.0.0.1:19092'] });
 * await bus.publish('btc_EMA_abcdef_v1', [{ nodeId, interval: 60, timestamp: 1_700_000_040, payload: 1.5 }]);
 */
export class KafkaTopicBus implements TopicBus {
  private producer: Producer<string, string, string, string>;
  private readonly queue: PendingPublish[] = [];
  /** True while {@link drain} runs; cleared by the drain itself, in the same turn it sees an empty queue. */
  private sending = false;
  private drained: Promise<void> = Promise.resolve();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaTopicBusOptions,
    private readonly admin: Admin,
  ) {
    this.producer = this.newProducer();
  }

  /** Loads the client, checks that a broker answers, and returns the bus; `QMTL_UNAVAILABLE` when none does. */
  static async connect(options: KafkaTopicBusOptions): Promise<KafkaTopicBus> {
    if (options.brokers.length === 0)
      throw new QmtlError(ErrorCode.InvalidConfig, 'KafkaTopicBus needs at least one bootstrap broker');
    const kafka = await import('@platformatic/kafka');
    const admin = new kafka.Admin({ ...baseOptions(options, 'qmtl-runner'), retries: 0 });
    admin.on('error', (error: unknown) => log.warn({ err: error }, 'kafka admin error'));
    try {
      await admin.metadata({ topics: [], forceUpdate: true });
    } catch (error) {
      await admin.close().catch(() => undefined);
      throw kafkaFailure(options, 'connecting', error);
    }
    return new KafkaTopicBus(kafka, options, admin);
  }

  async ensureTopic(topic: string): Promise<void> {
    this.assertOpen();
    try {
      await this.admin.createTopics({
        topics: [topic],
        partitions: this.options.partitions ?? 1,
        replicas: this.options.replicationFactor ?? 1,
      });
    } catch (error) {
      if (!brokerErrorIds(error).includes('TOPIC_ALREADY_EXISTS'))
        throw kafkaFailure(this.options, `creating topic ${quote(topic)}`, error);
    }
    await this.awaitLeaders(topic);
  }

  publish(topic: string, messages: readonly TopicMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return Promise.resolve();
    const records = messages.map((m) => ({ topic, key: m.nodeId, value: encodeTopicValue(m) }));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, next: 0, resolve, reject });
      if (!this.sending) {
        this.sending = true;
        this.drained = this.drain();
      }
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    const consumer = new this.kafka.Consumer({
      ...baseOptions(this.options, 'qmtl-runner'),
      clientId: `${this.options.clientId ?? 'qmtl-runner'}-consumer`,
      groupId: options.group,
      deserializers: this.kafka.stringDeserializers,
      autocommit: false,
      maxWaitTime: 1000,
      maxBytesPerPartition: this.options.maxFetchBytesPerPartition ?? 1024 * 1024,
      // Members notice a rebalance on their next heartbeat; the default 3 s makes joins slow.
      heartbeatInterval: 1000,
    });
    consumer.on('error', (error: unknown) =>
      log.warn({ err: error, group: options.group }, 'kafka consumer error'),
    );
    const subscription = new KafkaSubscription(consumer, options, this.options, () =>
      this.subscriptions.delete(subscription),
    );
    try {
      await subscription.start();
    } catch (error) {
      await closeForced(consumer, 'consumer');
      throw kafkaFailure(this.options, `joining group ${quote(options.group)}`, error);
    }
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Reads the last {@link LAST_MESSAGE_LOOKBACK} records of each partition with a throwaway manual-offset consumer. */
  async lastMessage(topic: string, nodeId: string): Promise<ReceivedMessage | null> {
    this.assertOpen();
    const consumer = new this.kafka.Consumer({
      ...baseOptions(this.options, 'qmtl-runner'),
      clientId: `${this.options.clientId ?? 'qmtl-runner'}-tail`,
      groupId: `qmtl-tail-${randomUUID()}`,
      deserializers: this.kafka.stringDeserializers,
      autocommit: false,
      maxWaitTime: 200,
    });
    try {
      const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
      const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
      const lookback = BigInt(LAST_MESSAGE_LOOKBACK);
      const remaining = new Map<number, bigint>();
      const offsets = ends.flatMap((end, partition) => {
        const first = starts[partition] ?? 0n;
        if (end <= first) return [];
        remaining.set(partition, end - 1n);
        return [{ topic, partition, offset: end - lookback > first ? end - lookback : first }];
      });
      if (offsets.length === 0) return null;
      const stream = await consumer.consume({ topics: [topic], mode: 'manual', offsets, autocommit: false });
      let newest: ReceivedMessage | null = null;
      try {
        for await (const record of stream) {
          if (record.key === nodeId) {
            const message = decodeTopicValue(topic, nodeId, record.value ?? '');
            if (message !== null && (newest === null || message.timestamp >= newest.timestamp))
              newest = message;
          }
          if (record.offset >= remaining.get(record.partition)!) remaining.delete(record.partition);
          if (remaining.size === 0) break;
        }
      } finally {
        await stream.close().catch(() => undefined);
      }
      return newest;
    } catch (error) {
      // A topic nobody has published to yet (or that was never created) has no last message.
      const unknown =
        brokerErrorIds(error).includes('UNKNOWN_TOPIC_OR_PARTITION') ||
        (error instanceof Error && /unknown topic/i.test(error.message));
      if (unknown) return null;
      throw kafkaFailure(this.options, `reading the tail of ${quote(topic)}`, error);
    } finally {
      await closeForced(consumer, 'consumer');
    }
  }

  /** Closes every subscription (committing what was handled), waits for queued publishes, closes the clients. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      await this.drained;
      await closeForced(this.producer, 'producer');
      await this.admin.close().catch((error: unknown) => log.warn({ err: error }, 'closing admin'));
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== null) throw new QmtlError(ErrorCode.Unavailable, 'KafkaTopicBus is closed');
  }

  private newProducer(): Producer<string, string, string, string> {
    const producer = new this.kafka.Producer({
      ...baseOptions(this.options, 'qmtl-runner'),
      serializers: this.kafka.stringSerializers,
      idempotent: true,
      acks: this.kafka.ProduceAcks.ALL,
    });
    producer.on('error', (error: unknown) => log.warn({ err: error }, 'kafka producer error'));
    return producer;
  }

  /** Sends the queue, one batch per send and one send at a time, until it is empty. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const { batch, touched, finished } = this.takeBatch();
      try {
        await this.producer.send({ messages: [...batch] });
        for (const pending of finished) pending.resolve();
      } catch (error) {
        const failure = kafkaFailure(this.options, `publishing ${batch.length} messages`, error);
        // The publishers get the failure (the Runner's logs an outage once, not every retry).
        log.debug({ err: error, messages: batch.length }, 'kafka publish failed');
        for (const pending of touched) pending.reject(failure);
        const partial = this.queue[0];
        if (partial !== undefined && touched.includes(partial)) this.queue.shift();
        // An unacknowledged send leaves the producer's sequence numbers unknown; a new producer id
        // starts clean (the broker might otherwise drop the next batch as a duplicate).
        const old = this.producer;
        this.producer = this.newProducer();
        void closeForced(old, 'failed producer');
      }
    }
    // In the same turn as the empty check: a publish from a resolved caller starts a new drain.
    this.sending = false;
  }

  /** Takes records from the head of the queue up to `maxBatchBytes` (at least one). */
  private takeBatch(): { batch: OutgoingRecord[]; touched: PendingPublish[]; finished: PendingPublish[] } {
    const limit = this.options.maxBatchBytes ?? 512 * 1024;
    const batch: OutgoingRecord[] = [];
    const touched: PendingPublish[] = [];
    const finished: PendingPublish[] = [];
    let bytes = 0;
    for (const pending of this.queue) {
      touched.push(pending);
      while (pending.next < pending.records.length) {
        const record = pending.records[pending.next]!;
        const size = record.key.length + record.value.length + RECORD_OVERHEAD_BYTES;
        if (batch.length > 0 && bytes + size > limit) break;
        batch.push(record);
        bytes += size;
        pending.next += 1;
      }
      if (pending.next < pending.records.length) break;
      finished.push(pending);
    }
    this.queue.splice(0, finished.length);
    return { batch, touched, finished };
  }

  /** Waits (bounded) until the metadata shows a leader for every partition, so a send right after succeeds. */
  private async awaitLeaders(topic: string): Promise<void> {
    const deadline = Date.now() + (this.options.timeoutMs ?? 5000);
    while (Date.now() < deadline) {
      const metadata = await this.admin
        .metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false })
        .catch(() => null);
      const partitions = metadata?.topics.get(topic)?.partitions;
      if (partitions !== undefined && partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
      await sleep(SETTLE_POLL_MS);
    }
  }
}

/**
 * One consumer in a group. Messages are handed to the handler one at a time, in bucket order across
 * the partitions it holds ({@link KafkaBucketOrder}); a position is committed (batched, every
 * `commitIntervalMs`) only after the handler resolved. A failed stream
 * (broker gone) is reopened with backoff from the group's committed position.
 */
class KafkaSubscription implements Subscription {
  private readonly stopping = new AbortController();
  private stream: StringStream | null = null;
  private loop: Promise<void> = Promise.resolve();
  private readonly handled = new Map<string, CommitOptionsPartition>();
  private commitTimer: NodeJS.Timeout | null = null;
  private committing: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly consumer: StringConsumer,
    private readonly options: SubscribeOptions,
    private readonly busOptions: KafkaTopicBusOptions,
    private readonly onClosed: () => void,
  ) {}

  /** Joins the group and resolves once the starting positions are known (so `latest` means "after now"). */
  async start(): Promise<void> {
    this.stream = await this.open();
    this.loop = this.run(this.stream);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping.abort();
      await this.stream
        ?.close()
        .catch((error: unknown) => log.warn({ err: error }, 'closing consumer stream'));
      await this.loop;
      if (this.commitTimer !== null) clearTimeout(this.commitTimer);
      await this.flushCommits();
      await closeForced(this.consumer, 'consumer');
      this.onClosed();
    })();
    return this.closing;
  }

  private async open(): Promise<StringStream> {
    const stream = await this.consumer.consume({
      topics: [...this.options.topics],
      mode: 'committed',
      fallbackMode: this.options.from ?? 'earliest',
      autocommit: false,
    });
    stream.on('error', (error: unknown) => {
      if (!this.stopping.signal.aborted)
        log.warn({ err: error, group: this.options.group }, 'consumer stream failed');
    });
    await new Promise<void>((resolve, reject) => {
      stream.once('offsets', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  private async run(first: StringStream): Promise<void> {
    let stream: StringStream | null = first;
    let failures = 0;
    const outage = new OutageLog({
      fields: { component: 'kafka-topic-bus', group: this.options.group },
      messages: {
        down: 'kafka consumer cannot read; reconnecting with backoff',
        stillDown: 'kafka consumer still cannot read; reconnecting with backoff',
        recovered: 'kafka consumer reads again',
      },
    });
    while (!this.stopping.signal.aborted) {
      try {
        if (stream === null) {
          stream = this.stream = await this.open();
          outage.succeeded();
        }
        for await (const { record, message } of this.inBucketOrder(stream).records()) {
          if (this.stopping.signal.aborted) break;
          await this.handle(record, message);
          failures = 0;
        }
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        failures += 1;
        outage.failed(error);
      }
      if (stream !== null) await stream.close().catch(() => undefined);
      stream = this.stream = null;
      if (this.stopping.signal.aborted) break;
      await this.flushCommits();
      await this.pause(Math.max(1, failures));
    }
  }

  /** The stream's records in bucket order across the partitions this member holds. */
  private inBucketOrder(stream: StringStream): KafkaBucketOrder<StringMessage> {
    let assignments: typeof this.consumer.assignments = null;
    let held: string[] = [];
    return new KafkaBucketOrder({
      stream,
      assigned: () => {
        if (this.consumer.assignments !== assignments) {
          assignments = this.consumer.assignments;
          held = (assignments ?? []).flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`));
        }
        return held;
      },
      listEnds: async () => {
        const ends = await this.consumer.listOffsets({ topics: [...this.options.topics] });
        return new Map(
          [...ends].flatMap(([topic, offsets]) => offsets.map((end, p) => [`${topic}:${p}`, end] as const)),
        );
      },
      decode: (record) =>
        typeof record.key === 'string' && record.key !== ''
          ? decodeTopicValue(record.topic, record.key, record.value ?? '')
          : null,
    });
  }

  /** Hands one message to the handler until it resolves (or the subscription closes), then marks it handled. */
  private async handle(record: StringMessage, message: ReceivedMessage | null): Promise<void> {
    if (!this.owns(record)) return;
    if (message === null) {
      log.warn(
        { topic: record.topic, partition: record.partition, offset: String(record.offset) },
        'skipping a message that is not a qmtl topic message',
      );
      this.markHandled(record);
      return;
    }
    for (let attempt = 1; !this.stopping.signal.aborted; attempt += 1) {
      try {
        await this.options.onMessage(message);
        this.markHandled(record);
        return;
      } catch (error) {
        log.warn(
          { err: error, topic: message.topic, nodeId: shortId(message.nodeId), attempt },
          'topic message handler failed; retrying',
        );
        await this.pause(attempt);
      }
    }
  }

  /**
   * False for a message fetched before the last rebalance (another generation) or from a partition
   * this member no longer holds: a fetch in flight during a rebalance still returns the old
   * partitions, and another member now delivers them. After the join the stream refetches from
   * the committed position, so a dropped message of a partition this member kept comes again.
   */
  private owns(message: StringMessage): boolean {
    const fetchedIn = (message.metadata['consumer'] as { generationId?: number } | undefined)?.generationId;
    if (fetchedIn !== undefined && fetchedIn !== this.consumer.generationId) return false;
    const assignment = this.consumer.assignments?.find((a) => a.topic === message.topic);
    return assignment?.partitions.includes(message.partition) ?? false;
  }

  private markHandled(message: StringMessage): void {
    const { topic, partition } = message;
    this.handled.set(`${topic}:${partition}`, {
      topic,
      partition,
      offset: message.offset + 1n,
      leaderEpoch: -1,
    });
    this.commitTimer ??= setTimeout(() => {
      this.commitTimer = null;
      void this.flushCommits();
    }, this.busOptions.commitIntervalMs ?? 200);
  }

  /** Commits the handled positions; one commit in flight, a failed one is retried with the next. */
  private flushCommits(): Promise<void> {
    this.committing = this.committing.then(async () => {
      if (this.handled.size === 0) return;
      const offsets = [...this.handled.values()];
      this.handled.clear();
      try {
        await this.consumer.commit({ offsets });
      } catch (error) {
        log.warn({ err: error, group: this.options.group }, 'kafka commit failed; will retry');
        for (const entry of offsets) {
          const key = `${entry.topic}:${entry.partition}`;
          if (!this.handled.has(key)) this.handled.set(key, entry);
        }
      }
    });
    return this.committing;
  }

  /** Waits a backoff delay; returns early when the subscription closes. */
  private async pause(attempt: number): Promise<void> {
    const delay = backoffDelay(attempt, { baseDelayMs: this.busOptions.retryDelayMs ?? 100, jitter: false });
    await sleep(delay, this.stopping.signal).catch(() => undefined);
  }
}

/** Closes a client without waiting for its streams; a failure is logged, never thrown. */
function closeForced(
  client: { close(force: boolean, callback: (error: Error | null) => void): void },
  what: string,
): Promise<void> {
  return new Promise((resolve) => {
    client.close(true, (error) => {
      if (error) log.warn({ err: error }, `closing kafka ${what} failed`);
      resolve();
    });
  });
}

function baseOptions(options: KafkaTopicBusOptions, clientId: string) {
  const timeout = options.timeoutMs ?? 5000;
  return {
    clientId: options.clientId ?? clientId,
    bootstrapBrokers: [...options.brokers],
    timeout,
    connectTimeout: timeout,
    requestTimeout: timeout,
  };
}

function kafkaFailure(options: KafkaTopicBusOptions, action: string, error: unknown): QmtlError {
  const where = options.brokers.join(',');
  const ids = brokerErrorIds(error);
  if (ids.includes('INVALID_TOPIC_EXCEPTION'))
    return new QmtlError(
      ErrorCode.InvalidArgument,
      `Kafka at ${where} refused ${action}: invalid topic name`,
      {
        cause: error,
      },
    );
  const detail =
    ids.length > 0 ? [...new Set(ids)].join(', ') : error instanceof Error ? error.message : String(error);
  return new QmtlError(ErrorCode.Unavailable, `Kafka at ${where} failed ${action}: ${detail}`, {
    cause: error,
  });
}
