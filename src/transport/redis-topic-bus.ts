import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { errorFields, logger } from '../common/logger.js';
import { OutageLog } from '../common/outage-log.js';
import { createRedisClient, redisAddress, type RedisClient } from '../common/redis-support.js';
import { DeadlineError, withDeadline } from '../common/deadline.js';
import { backoffDelay, sleep } from '../common/retry.js';
import { BucketOrderedBacklog } from './bucket-order.js';
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

/** Options of {@link RedisTopicBus.connect}. */
export interface RedisTopicBusOptions {
  /** Prepended to every stream key, e.g. a unique prefix per test suite. Default `''`. */
  readonly keyPrefix?: string;
  /**
   * Approximate retention per topic: `XADD … MAXLEN ~ n`, so a long live run cannot fill Redis's
   * memory. Default 1,000,000 entries (the memory bus's limit); 0 keeps everything.
   */
  readonly maxLen?: number;
  /** Entries fetched per `XREADGROUP`. Default 500. */
  readonly batchSize?: number;
  /** How long one `XREADGROUP` blocks waiting for new entries, in ms. Default 1000. */
  readonly blockMs?: number;
  /** How long an entry stays pending with a silent consumer before another claims it, in ms. Default 30,000. */
  readonly claimIdleMs?: number;
  /**
   * Consumer names are `{consumerName}-{n}` (n counts this bus's subscriptions per group). A name
   * stable across restarts lets a restarted process re-read its own pending entries at once;
   * otherwise they are claimed after `claimIdleMs`. Default `{hostname}-{pid}-{random}`.
   */
  readonly consumerName?: string;
  /** TCP connect timeout of each (re)connection attempt, in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** How long a command may wait for its reply, in ms. Default 5000. */
  readonly commandTimeoutMs?: number;
  /** Upper bound of the reconnect and fetch-loop backoff, in ms. Default 2000. */
  readonly maxReconnectDelayMs?: number;
  /** First delay before a rejected message is delivered again, in ms (doubling up to 1 s). Default 10. */
  readonly retryBaseDelayMs?: number;
  /**
   * Whether `connect` fails, `QMTL_UNAVAILABLE`, when its first connection attempt does (a bus that
   * is not there at all), instead of resolving and reconnecting in the background. Default false.
   */
  readonly requireConnection?: boolean;
}

/** An entry as RESP2 returns it: id and flat field/value list, or null once trimmed away. */
type RawEntry = [id: string, fields: string[] | null];

/** A fetched entry waiting in a subscription's backlog, with its message (null: not a qmtl one). */
interface BacklogEntry {
  readonly id: string;
  readonly message: ReceivedMessage | null;
}

/** Entries a topic keeps by default (about: trimming is approximate). */
const DEFAULT_MAX_LEN = 1_000_000;

/** Messages appended by one script call (it blocks Redis for about a millisecond). */
const PUBLISH_CHUNK = 1000;

/**
 * XADDs `ARGV[2..]` (node id, value pairs) to the stream `KEYS[1]`, trimmed to about `ARGV[1]`
 * entries unless that is 0. One script per chunk rather than a pipeline of XADDs: a chunk lands
 * whole or not at all, and the client encodes one command instead of a thousand (3× the rate).
 */
const APPEND = `local trim = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  if trim > 0 then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', trim, '*', 'key', ARGV[i], 'value', ARGV[i + 1])
  else
    redis.call('XADD', KEYS[1], '*', 'key', ARGV[i], 'value', ARGV[i + 1])
  end
end
return 0`;
/** How idle an entry is marked when a closing subscription hands it back, so it is claimed at once. */
const HANDED_BACK_IDLE_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * The {@link TopicBus} over Redis Streams (node-redis, RESP2). A topic is the stream
 * `{keyPrefix}topic:{name}`; each message one entry (XADD, auto id) with fields `key` (the node
 * id) and `value` (the SPEC §2.9 JSON), appended by a script in chunks of 1000. A group is a stream consumer group; each subscription a consumer reading on
 * its own connection, acking after the handler resolves. On start it re-reads its own pending
 * entries, then claims entries idle longer than `claimIdleMs` (dead consumers'; a closing
 * subscription marks what it did not handle as idle), then reads new ones.
 *
 * Members of one group share a stream entry by entry: order per key holds within a member, not
 * across members. `redis` is loaded on first use, so the embedded mode never imports it.
 *
 * @example
 * const bus = await RedisTopicBus.connect('redis://127.0.0.1:6379');
 * await bus.subscribe({ topics: ['btc_ema_a1b2c3_v1'], group: 'strategy-2', onMessage: (m) => feed(m) });
 */
export class RedisTopicBus implements TopicBus {
  private readonly subscriptions = new Set<RedisStreamSubscription>();
  private readonly consumersPerGroup = new Map<string, number>();
  private readonly consumerName: string;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly client: RedisClient,
    readonly address: string,
    readonly options: RedisTopicBusOptions,
  ) {
    this.consumerName = options.consumerName ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  /**
   * A bus on `dsn` (`redis://[user:password@]host[:port][/db]`). Resolves once the first
   * connection attempt settles; while Redis is down, commands fail `QMTL_UNAVAILABLE` at once.
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` when `dsn` is not a redis:// or rediss:// URL;
   * `QMTL_UNAVAILABLE` when the first attempt fails and `requireConnection` is set.
   */
  static async connect(dsn: string, options: RedisTopicBusOptions = {}): Promise<RedisTopicBus> {
    const address = redisAddress(dsn);
    const { maxLen } = options;
    if (maxLen !== undefined && !(Number.isSafeInteger(maxLen) && maxLen >= 0))
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `maxLen must be a non-negative integer (0 keeps every entry), got ${quote(maxLen)}`,
      );
    const client = createRedisClient(await import('redis'), dsn, options);
    const bus = new RedisTopicBus(client, address, options);
    const failure = await firstAttempt(client, address, options.connectTimeoutMs ?? 2000);
    if (failure !== null) {
      if (options.requireConnection === true) {
        if (client.isOpen) client.destroy();
        throw new QmtlError(
          ErrorCode.Unavailable,
          `Redis at ${address} cannot be reached: ${failure.message}`,
          {
            cause: failure,
          },
        );
      }
      logger.warn(
        { redis: address, ...errorFields(failure) },
        'Redis topic bus cannot connect yet; reconnecting in the background',
      );
    }
    return bus;
  }

  /** The stream key of a topic. */
  streamKey(topic: string): string {
    return `${this.options.keyPrefix ?? ''}topic:${topic}`;
  }

  /** Creates the empty stream (through a throwaway group), so the topic exists before any publish. */
  async ensureTopic(topic: string): Promise<void> {
    const key = this.streamKey(topic);
    const probe = `qmtl-ensure-${randomUUID()}`;
    await this.run('creating a topic', async (c) => {
      await c.sendCommand(['XGROUP', 'CREATE', key, probe, '$', 'MKSTREAM']);
      await c.sendCommand(['XGROUP', 'DESTROY', key, probe]);
    });
  }

  /** Appends with pipelined XADDs; resolves once Redis accepted every one of them. */
  async publish(topic: string, messages: readonly TopicMessage[]): Promise<void> {
    const key = this.streamKey(topic);
    const maxLen = String(this.options.maxLen ?? DEFAULT_MAX_LEN);
    for (let start = 0; start < messages.length; start += PUBLISH_CHUNK) {
      const fields: string[] = [];
      for (const message of messages.slice(start, start + PUBLISH_CHUNK))
        fields.push(message.nodeId, encodeTopicValue(message));
      await this.run('publishing', (c) => c.sendCommand(['EVAL', APPEND, '1', key, maxLen, ...fields]));
    }
  }

  /** XREVRANGE over the stream's tail. */
  async lastMessage(topic: string, nodeId: string): Promise<ReceivedMessage | null> {
    const key = this.streamKey(topic);
    const entries = await this.run('reading the tail of a topic', (c) =>
      c.sendCommand<[string, string[]][] | null>([
        'XREVRANGE',
        key,
        '+',
        '-',
        'COUNT',
        String(LAST_MESSAGE_LOOKBACK),
      ]),
    );
    for (const [, fields] of entries ?? []) {
      const value = field(fields, 'value');
      if (field(fields, 'key') === nodeId && value !== null) return decodeTopicValue(topic, nodeId, value);
    }
    return null;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closing !== null) throw new QmtlError(ErrorCode.Unavailable, 'RedisTopicBus is closed');
    await this.createGroups(options, options.from === 'latest' ? '$' : '0');
    const n = (this.consumersPerGroup.get(options.group) ?? 0) + 1;
    this.consumersPerGroup.set(options.group, n);
    const reader = this.client.duplicate();
    await firstAttempt(reader, this.address, this.options.connectTimeoutMs ?? 2000);
    const subscription = new RedisStreamSubscription(this, reader, options, `${this.consumerName}-${n}`, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Closes every subscription (acking what was handled), then the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
      await quit(this.client, this.options.commandTimeoutMs ?? 5000);
    })();
    return this.closing;
  }

  /** Creates the group on each topic's stream, starting at `start`; an existing group keeps its position. */
  async createGroups(options: SubscribeOptions, start: '$' | '0'): Promise<void> {
    for (const topic of options.topics)
      await this.run('creating a consumer group', async (c) => {
        try {
          await c.sendCommand(['XGROUP', 'CREATE', this.streamKey(topic), options.group, start, 'MKSTREAM']);
        } catch (error) {
          if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
        }
      });
  }

  /** Unblocks a reader's `XREADGROUP … BLOCK` (from another connection: the reader's is busy). */
  async unblock(clientId: number): Promise<void> {
    await this.run('unblocking a reader', (c) => c.sendCommand(['CLIENT', 'UNBLOCK', String(clientId)]));
  }

  /** Runs commands under `commandTimeoutMs`; every failure becomes a QmtlError naming the action. */
  run<T>(
    action: string,
    command: (client: RedisClient) => Promise<T>,
    client = this.client,
    extraMs = 0,
  ): Promise<T> {
    const ms = (this.options.commandTimeoutMs ?? 5000) + extraMs;
    return withDeadline(command(client), ms).catch((error: unknown) => {
      const where = `Redis at ${this.address}`;
      if (error instanceof DeadlineError)
        throw new QmtlError(ErrorCode.Timeout, `${where} did not answer ${action} within ${ms} ms`, {
          cause: error,
        });
      const message = error instanceof Error ? error.message : String(error);
      throw new QmtlError(ErrorCode.Unavailable, `${where} failed ${action}: ${message}`, { cause: error });
    });
  }
}

/** One consumer of a group: the fetch loop on its own connection. */
class RedisStreamSubscription implements Subscription {
  private readonly keys: string[];
  private readonly topicOfKey = new Map<string, string>();
  private readonly stop = new AbortController();
  /** Handled entries not yet acked, per stream key. */
  private readonly toAck = new Map<string, string[]>();
  /** Fetched entries not yet handled, per stream key: handed back on close. */
  private readonly unhandled = new Map<string, string[]>();
  /** New entries fetched and not yet delivered, handed out in bucket order across streams. */
  private readonly backlog = new BucketOrderedBacklog<BacklogEntry>();
  private readerId: number | null = null;
  private readonly loop: Promise<void>;
  private closing: Promise<void> | null = null;
  private readonly outage: OutageLog;

  constructor(
    private readonly bus: RedisTopicBus,
    private readonly reader: RedisClient,
    private readonly options: SubscribeOptions,
    private readonly consumer: string,
    private readonly onClosed: () => void,
  ) {
    this.outage = new OutageLog({
      fields: { redis: bus.address, group: options.group },
      messages: {
        down: 'Redis topic subscription cannot read; retrying with backoff',
        stillDown: 'Redis topic subscription is still failing',
        recovered: 'Redis topic subscription reads again',
      },
    });
    this.keys = options.topics.map((topic) => bus.streamKey(topic));
    options.topics.forEach((topic, index) => this.topicOfKey.set(this.keys[index] ?? '', topic));
    reader.on('ready', () => (this.readerId = null));
    this.loop = this.run();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.stop.abort();
    // A reader blocked in XREADGROUP returns at once; retried because it may block just after.
    let stopped = false;
    const done = this.loop.then(() => (stopped = true));
    while (!stopped) {
      if (this.readerId !== null) await this.bus.unblock(this.readerId).catch(() => undefined);
      await Promise.race([done, sleep(100)]);
    }
    try {
      await this.flushAcks();
      await this.handBack();
      await this.leaveIfDone();
    } catch (error) {
      logger.warn(
        { err: error, group: this.options.group },
        'Redis topic subscription closed without acking',
      );
    }
    await quit(this.reader, this.bus.options.commandTimeoutMs ?? 5000);
    this.onClosed();
  }

  private command<T>(action: string, args: string[], extraMs = 0): Promise<T> {
    return this.bus.run(action, (c) => c.sendCommand<T>(args), this.reader, extraMs);
  }

  private async run(): Promise<void> {
    let failures = 0;
    let phase: 'own' | 'claim' | 'new' = 'own';
    let lastClaim = Date.now();
    const claimIdleMs = this.bus.options.claimIdleMs ?? 30_000;
    while (!this.stop.signal.aborted) {
      try {
        this.readerId ??= await this.command<number>('identifying a reader', ['CLIENT', 'ID']);
        if (phase === 'own') {
          if (!(await this.fetchOwn())) phase = 'claim';
        } else if (phase === 'claim') {
          for (const key of this.keys) await this.claim(key, claimIdleMs);
          phase = 'new';
          lastClaim = Date.now();
        } else {
          // The acks of the last batch go out in the same pipeline as the next read.
          const acked = this.flushAcks();
          await Promise.all([acked, this.fetchNew()]);
          if (Date.now() - lastClaim >= claimIdleMs / 2) phase = 'claim';
        }
        await this.flushAcks();
        this.outage.succeeded();
        failures = 0;
      } catch (error) {
        if (this.stop.signal.aborted) break;
        // A Redis restarted without persistence lost the group: recreate it over the new stream.
        if (String(error).includes('NOGROUP'))
          await this.bus.createGroups(this.options, '0').catch(() => undefined);
        this.outage.failed(error);
        failures += 1;
        const delayMs = backoffDelay(failures, {
          baseDelayMs: 50,
          maxDelayMs: this.bus.options.maxReconnectDelayMs ?? 2000,
        });
        await sleep(delayMs, this.stop.signal).catch(() => undefined);
      }
    }
  }

  /** Handles this consumer's pending entries (after a restart), up to a batch per stream; true when there were some. */
  private async fetchOwn(): Promise<boolean> {
    let got = false;
    for (const [key, entries] of await this.read(this.keys, '0', 0)) {
      got ||= entries.length > 0;
      await this.handleAll(key, entries);
    }
    return got;
  }

  /**
   * Reads new entries of the streams whose backlog is short of a batch, blocking only when nothing
   * is buffered, then delivers the backlog in bucket order across the streams
   * ({@link BucketOrderedBacklog}): a node reading two topics meets their buckets in step.
   */
  private async fetchNew(): Promise<void> {
    const batch = this.bus.options.batchSize ?? 500;
    const keys = this.keys.filter((key) => this.backlog.count(key) < batch);
    if (keys.length > 0) {
      const blockMs = this.backlog.empty ? (this.bus.options.blockMs ?? 1000) : 0;
      const fetched = new Map(await this.read(keys, '>', blockMs));
      for (const key of keys) {
        const entries = fetched.get(key) ?? [];
        const decoded = entries.map(([id, fields]) => {
          const message = this.decode(key, id, fields);
          return { entry: { id, message }, timestamp: message?.timestamp ?? -Infinity };
        });
        this.backlog.add(key, decoded, entries.length >= batch);
      }
    }
    for (let next = this.backlog.next(); next !== null; next = this.backlog.next()) {
      const { key, entry } = next;
      if (this.stop.signal.aborted || !(await this.deliver(entry.id, entry.message))) return;
      this.backlog.shift(key);
      this.ackLater(key, entry.id);
    }
  }

  /** One XREADGROUP of `keys` from `id` (`0`: own pending entries, `>`: new ones), blocking up to `blockMs`. */
  private async read(
    keys: readonly string[],
    id: '0' | '>',
    blockMs: number,
  ): Promise<[string, RawEntry[]][]> {
    const block = blockMs > 0 ? ['BLOCK', String(blockMs)] : [];
    const reply = await this.command<[string, RawEntry[]][] | null>(
      'reading a stream',
      [
        'XREADGROUP',
        'GROUP',
        this.options.group,
        this.consumer,
        'COUNT',
        String(this.bus.options.batchSize ?? 500),
        ...block,
        'STREAMS',
        ...keys,
        ...keys.map(() => id),
      ],
      blockMs,
    );
    return reply ?? [];
  }

  /** Claims the entries of `key` idle longer than `minIdleMs` (a dead consumer's) and handles them. */
  private async claim(key: string, minIdleMs: number): Promise<void> {
    let cursor = '0-0';
    do {
      const [next, entries] = await this.command<[string, RawEntry[]]>('claiming idle entries', [
        'XAUTOCLAIM',
        key,
        this.options.group,
        this.consumer,
        String(minIdleMs),
        cursor,
        'COUNT',
        String(this.bus.options.batchSize ?? 500),
      ]);
      // Entries waiting in the backlog are this consumer's already: not delivered twice.
      const buffered = new Set(this.backlog.buffered(key).map((entry) => entry.id));
      await this.handleAll(
        key,
        entries.filter(([id]) => !buffered.has(id)),
      );
      cursor = next;
    } while (cursor !== '0-0' && !this.stop.signal.aborted);
  }

  /** Handles entries in order; stops (leaving the rest pending) when the subscription closes. */
  private async handleAll(key: string, entries: readonly RawEntry[]): Promise<void> {
    const pending = entries.map(([id]) => id);
    this.unhandled.set(key, pending);
    for (const [id, fields] of entries) {
      if (this.stop.signal.aborted) return;
      if (!(await this.handle(key, id, fields))) return;
      pending.shift();
      this.ackLater(key, id);
    }
  }

  /** Delivers one entry until its handler resolves; false when the subscription closed first. */
  private handle(key: string, id: string, fields: string[] | null): Promise<boolean> {
    return this.deliver(id, this.decode(key, id, fields));
  }

  /** The message of an entry; null (logged, unless trimmed away) for one that is not a qmtl message. */
  private decode(key: string, id: string, fields: string[] | null): ReceivedMessage | null {
    const topic = this.topicOfKey.get(key) ?? key;
    const nodeId = field(fields, 'key');
    const value = field(fields, 'value');
    const message = nodeId === null || value === null ? null : decodeTopicValue(topic, nodeId, value);
    if (message === null && fields !== null)
      logger.warn({ topic, id }, 'Skipped a value that is not a qmtl topic message');
    return message;
  }

  /** Hands `message` to the handler until it resolves; false when the subscription closed first. */
  private async deliver(id: string, message: ReceivedMessage | null): Promise<boolean> {
    if (message === null) return true;
    const topic = message.topic;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.options.onMessage(message);
        return true;
      } catch (error) {
        const delayMs = backoffDelay(attempt, {
          baseDelayMs: this.bus.options.retryBaseDelayMs ?? 10,
          maxDelayMs: 1000,
        });
        logger.warn(
          { err: error, topic, group: this.options.group, id, attempt, delayMs },
          'Topic message handler failed; delivering the message again',
        );
        // Acks of the entries before it must not wait for it.
        await this.flushAcks().catch(() => undefined);
        if (
          !(await sleep(delayMs, this.stop.signal).then(
            () => true,
            () => false,
          ))
        )
          return false;
      }
    }
  }

  private ackLater(key: string, id: string): void {
    const ids = this.toAck.get(key);
    if (ids === undefined) this.toAck.set(key, [id]);
    else ids.push(id);
  }

  /** Acks what was handled; ids handled meanwhile wait for the next flush, failed ones are kept. */
  private async flushAcks(): Promise<void> {
    const batches = [...this.toAck];
    this.toAck.clear();
    const sent = batches.map(async ([key, ids]) => {
      try {
        await this.command('acking', ['XACK', key, this.options.group, ...ids]);
      } catch (error) {
        for (const id of ids) this.ackLater(key, id);
        throw error;
      }
    });
    await Promise.all(sent);
  }

  /** Marks fetched but unhandled entries as long idle, so the group's next consumer claims them at once. */
  private async handBack(): Promise<void> {
    for (const key of this.backlog.keys()) {
      const ids = this.backlog.buffered(key).map((entry) => entry.id);
      this.unhandled.set(key, [...(this.unhandled.get(key) ?? []), ...ids]);
    }
    for (const [key, ids] of this.unhandled) {
      if (ids.length === 0) continue;
      await this.command('handing entries back', [
        'XCLAIM',
        key,
        this.options.group,
        this.consumer,
        '0',
        ...ids,
        'IDLE',
        String(HANDED_BACK_IDLE_MS),
        'JUSTID',
      ]);
    }
  }

  /** Removes this consumer from the group when nothing is pending for it (deleting it would drop those). */
  private async leaveIfDone(): Promise<void> {
    for (const key of this.keys) {
      const pending = await this.command<unknown[]>('reading pending entries', [
        'XPENDING',
        key,
        this.options.group,
        '-',
        '+',
        '1',
        this.consumer,
      ]);
      if (pending.length > 0) return;
    }
    for (const key of this.keys)
      await this.command('leaving a group', [
        'XGROUP',
        'DELCONSUMER',
        key,
        this.options.group,
        this.consumer,
      ]);
  }
}

/** A RESP2 client that fails fast while disconnected and reconnects forever with capped backoff. */

/** The value of field `name` in a flat RESP2 field list, or null. */
function field(fields: string[] | null, name: string): string | null {
  if (fields === null) return null;
  for (let index = 0; index + 1 < fields.length; index += 2)
    if (fields[index] === name) return fields[index + 1] ?? null;
  return null;
}

/**
 * Starts connecting `client` and resolves when the first attempt settles: null once connected, the
 * error when it failed (or found no answer within `timeoutMs`). The caller reports that one; outages
 * after it are logged here, once each, as the client keeps reconnecting.
 */
async function firstAttempt(client: RedisClient, address: string, timeoutMs: number): Promise<Error | null> {
  let outage = true;
  client.on('error', (error: unknown) => {
    // Every failed (re)connection lands here; without a listener it would crash the process.
    if (!outage)
      logger.warn({ redis: address, ...errorFields(error) }, 'Redis topic bus connection lost; reconnecting');
    outage = true;
  });
  client.on('ready', () => (outage = false));
  let timer: NodeJS.Timeout | undefined;
  let ready = (): void => undefined;
  let failed = (_error: unknown): void => undefined;
  const outcome = new Promise<Error | null>((resolve) => {
    ready = () => resolve(null);
    failed = (error) => resolve(error instanceof Error ? error : new Error(String(error)));
    client.once('ready', ready);
    client.once('error', failed);
    timer = setTimeout(() => resolve(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  client
    .connect()
    .catch((error: unknown) =>
      logger.debug({ err: error, redis: address }, 'Redis topic bus stopped connecting'),
    );
  const result = await outcome;
  clearTimeout(timer);
  client.off('ready', ready).off('error', failed);
  return result;
}

/** Waits for pending replies (at most `ms`), then drops the connection. */
async function quit(client: RedisClient, ms: number): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) {
    client.destroy();
    return;
  }
  try {
    await withDeadline(client.close(), ms);
  } catch {
    client.destroy();
  }
}
