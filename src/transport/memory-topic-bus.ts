import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { backoffDelay, sleep } from '../common/retry.js';
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

/** Options of {@link MemoryTopicBroker}. */
export interface MemoryTopicBrokerOptions {
  /** Most messages a topic keeps; older ones are dropped, like a retention limit. Default 1,000,000. */
  readonly retainMessages?: number;
}

/** Options of {@link MemoryTopicBus}. */
export interface MemoryTopicBusOptions {
  /** The shared topics and group positions; a bus made over the same broker sees the same data. */
  readonly broker?: MemoryTopicBroker;
  /** Backoff between redeliveries of a message whose handler rejected. Default 10 ms doubling to 1 s. */
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
}

/** A message as stored: the wire key and value, so consumers never share the producer's objects. */
interface StoredMessage {
  readonly key: string;
  readonly value: string;
}

/** The next unhandled message of a topic: where it is, and decoded (null: not a qmtl message). */
interface Head {
  /** The topic's index in the subscription's topics. */
  readonly index: number;
  readonly topic: string;
  readonly offset: number;
  readonly key: string;
  readonly message: ReceivedMessage | null;
  /** Its bucket timestamp; -Infinity for a value that is not a qmtl message (skipped at once). */
  readonly timestamp: number;
}

/** One append-only topic; `base` is the offset of `messages[0]` once retention dropped a head. */
class TopicLog {
  messages: StoredMessage[] = [];
  base = 0;

  get end(): number {
    return this.base + this.messages.length;
  }

  at(offset: number): StoredMessage | undefined {
    return this.messages[offset - this.base];
  }
}

/** A consumer group: its committed position per topic and which member reads each topic. */
class GroupState {
  readonly committed = new Map<string, number>();
  readonly owners = new Map<string, MemorySubscription>();
  readonly members = new Set<MemorySubscription>();
}

/**
 * The "broker" of the embedded mode: topics and consumer-group positions, shared by every
 * {@link MemoryTopicBus} built over it (one per simulated process in tests).
 */
export class MemoryTopicBroker {
  private readonly topics = new Map<string, TopicLog>();
  private readonly groups = new Map<string, GroupState>();
  private readonly retainMessages: number;

  constructor(options: MemoryTopicBrokerOptions = {}) {
    this.retainMessages = options.retainMessages ?? 1_000_000;
    if (!Number.isSafeInteger(this.retainMessages) || this.retainMessages < 1)
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `retainMessages must be a positive integer, got ${quote(this.retainMessages)}`,
      );
  }

  /** The topic's log, created empty on first use. */
  topic(name: string): TopicLog {
    let log = this.topics.get(name);
    if (log === undefined) {
      log = new TopicLog();
      this.topics.set(name, log);
    }
    return log;
  }

  /** The group's state, created on first use. */
  group(name: string): GroupState {
    let group = this.groups.get(name);
    if (group === undefined) {
      group = new GroupState();
      this.groups.set(name, group);
    }
    return group;
  }

  /**
   * Appends raw key/value pairs (the wire form) to a topic and wakes its readers. Used by the
   * bus; tests use it to inject values that are not qmtl messages.
   */
  append(topic: string, entries: readonly StoredMessage[]): void {
    const log = this.topic(topic);
    for (const entry of entries) log.messages.push(entry);
    const excess = log.messages.length - this.retainMessages;
    // Drop in chunks, so retention costs O(1) per message rather than a shift per append.
    if (excess > 0 && excess >= Math.min(this.retainMessages, 1024)) {
      log.messages.splice(0, excess);
      log.base += excess;
    }
    for (const group of this.groups.values()) group.owners.get(topic)?.wake();
  }
}

/**
 * The in-process {@link TopicBus} of the embedded mode. Topics are append-only arrays on a
 * {@link MemoryTopicBroker}; a group commits its position per topic after each handled message.
 * Within a group one member reads a topic at a time (like a one-partition Kafka topic); when it
 * leaves, the next member of the group subscribed to that topic takes over from the committed
 * position. A member hands out its topics' messages in bucket-timestamp order across them, so a
 * late subscriber to a stream and an average of it gets their backlogs in step. Delivery is
 * asynchronous: a handler never runs inside `publish`.
 *
 * @example
 * const bus = new MemoryTopicBus();
 * await bus.subscribe({ topics: ['btc_ema_a1b2c3_v1'], group: 'strategy-2', onMessage: (m) => feed(m) });
 * await bus.publish('btc_ema_a1b2c3_v1', [{ nodeId: 'a1b2…', interval: 60, timestamp: 1_700_000_040, payload: 1 }]);
 */
export class MemoryTopicBus implements TopicBus {
  readonly broker: MemoryTopicBroker;
  private readonly subscriptions = new Set<MemorySubscription>();
  private closed = false;

  constructor(private readonly options: MemoryTopicBusOptions = {}) {
    this.broker = options.broker ?? new MemoryTopicBroker();
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async, so a closed bus rejects rather than throws
  async ensureTopic(topic: string): Promise<void> {
    this.assertOpen();
    this.broker.topic(topic);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async, so a closed bus rejects rather than throws
  async publish(topic: string, messages: readonly TopicMessage[]): Promise<void> {
    this.assertOpen();
    this.broker.append(
      topic,
      messages.map((message) => ({ key: message.nodeId, value: encodeTopicValue(message) })),
    );
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async, so a closed bus rejects rather than throws
  async lastMessage(topic: string, nodeId: string): Promise<ReceivedMessage | null> {
    this.assertOpen();
    const log = this.broker.topic(topic);
    const stop = Math.max(log.base, log.end - LAST_MESSAGE_LOOKBACK);
    for (let offset = log.end - 1; offset >= stop; offset--) {
      const stored = log.at(offset)!;
      if (stored.key === nodeId) return decodeTopicValue(topic, stored.key, stored.value);
    }
    return null;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async, so a closed bus rejects rather than throws
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    const subscription = new MemorySubscription(this.broker, options, this.options, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  /** Closes every subscription of this bus; the broker's data stays. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
  }

  private assertOpen(): void {
    if (this.closed) throw new QmtlError(ErrorCode.Unavailable, 'MemoryTopicBus is closed');
  }
}

/** Messages handled between two yields to the event loop, so a busy topic cannot starve timers and I/O. */
const YIELD_EVERY = 256;

/** One member of a group: a delivery loop over the topics it owns. */
class MemorySubscription implements Subscription {
  private readonly group: GroupState;
  private readonly stop = new AbortController();
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;
  /** The subscription's topics, each once, in its order. */
  private readonly topics: readonly string[];
  /**
   * The next unhandled message of each owned topic, by its index in {@link topics}; null where
   * none is read yet (the logs hold the rest). The oldest bucket among them goes out first; a
   * topic with nothing unhandled holds nothing back, so live messages go out as soon as published.
   */
  private readonly heads: (Head | null)[];

  constructor(
    private readonly broker: MemoryTopicBroker,
    private readonly options: SubscribeOptions,
    private readonly retry: MemoryTopicBusOptions,
    private readonly onClosed: () => void,
  ) {
    this.group = broker.group(options.group);
    this.topics = [...new Set(options.topics)];
    this.heads = this.topics.map(() => null);
  }

  start(): void {
    this.group.members.add(this);
    for (const topic of this.options.topics) {
      if (!this.group.committed.has(topic)) {
        const log = this.broker.topic(topic);
        this.group.committed.set(topic, this.options.from === 'latest' ? log.end : log.base);
      }
      if (!this.group.owners.has(topic)) this.group.owners.set(topic, this);
    }
    this.loop = this.run();
  }

  /** Lets the loop look for work again (a publish, a topic handed over, or close). */
  wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.stop.abort();
    this.wake();
    await this.loop;
    this.group.members.delete(this);
    for (const topic of this.options.topics) {
      if (this.group.owners.get(topic) !== this) continue;
      this.group.owners.delete(topic);
      const heir = [...this.group.members].find((member) => member.options.topics.includes(topic));
      if (heir === undefined) continue;
      this.group.owners.set(topic, heir);
      heir.wake();
    }
    this.onClosed();
  }

  private async run(): Promise<void> {
    let sinceYield = 0;
    while (!this.stop.signal.aborted) {
      const next = this.nextMessage();
      if (next === null) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        continue;
      }
      await this.deliver(next);
      this.heads[next.index] = null;
      if ((sinceYield += 1) >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /**
   * The unhandled message of the oldest bucket across the owned topics (see {@link heads}); of
   * equal buckets, the one of the topic listed first.
   */
  private nextMessage(): Head | null {
    let oldest: Head | null = null;
    for (let index = 0; index < this.topics.length; index += 1) {
      let head = this.heads[index] ?? null;
      if (head === null && this.group.owners.get(this.topics[index]!) === this)
        head = this.heads[index] = this.readHead(index);
      if (head !== null && (oldest === null || head.timestamp < oldest.timestamp)) oldest = head;
    }
    return oldest;
  }

  /** The message of the topic at `index` at the group's committed position, or null when it has none. */
  private readHead(index: number): Head | null {
    const topic = this.topics[index]!;
    const log = this.broker.topic(topic);
    let offset = this.group.committed.get(topic) ?? log.base;
    if (offset < log.base) {
      logger.warn(
        { topic, group: this.options.group, lost: log.base - offset },
        'Memory topic bus dropped messages a group had not consumed (retention)',
      );
      offset = log.base;
      this.group.committed.set(topic, offset);
    }
    const stored = log.at(offset);
    if (stored === undefined) return null;
    const message = decodeTopicValue(topic, stored.key, stored.value);
    return { index, topic, offset, key: stored.key, message, timestamp: message?.timestamp ?? -Infinity };
  }

  /** Hands one message to the handler until it resolves (or the subscription closes), then commits it. */
  private async deliver({ topic, offset, key, message }: Head): Promise<void> {
    if (message === null) {
      logger.warn({ topic, key, offset }, 'Skipped a value that is not a qmtl topic message');
      this.group.committed.set(topic, offset + 1);
      return;
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.options.onMessage(message);
        this.group.committed.set(topic, offset + 1);
        return;
      } catch (error) {
        const delayMs = backoffDelay(attempt, {
          baseDelayMs: this.retry.retryBaseDelayMs ?? 10,
          maxDelayMs: this.retry.retryMaxDelayMs ?? 1000,
        });
        logger.warn(
          { err: error, topic, group: this.options.group, offset, attempt, delayMs },
          'Topic message handler failed; delivering the message again',
        );
        if (
          !(await sleep(delayMs, this.stop.signal).then(
            () => true,
            () => false,
          ))
        )
          return;
      }
    }
  }
}
