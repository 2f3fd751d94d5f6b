import { logger } from '../common/logger.js';
import { BucketOrderedBacklog } from './bucket-order.js';
import type { ReceivedMessage } from './topic-bus.js';

/** A record as the Kafka consumer stream hands it out: where it sits in its partition. */
export interface PartitionRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** A fetched record with its message (null: not a qmtl message; handed out at once, to be skipped). */
export interface OrderedRecord<R extends PartitionRecord> {
  readonly record: R;
  readonly message: ReceivedMessage | null;
}

/**
 * The consumer stream of one subscription, as {@link KafkaBucketOrder} reads it: its records (one
 * fetch response pushed at a time), how many it holds unread, and per partition (`topic:partition`)
 * the offset it fetches next.
 */
export interface PartitionStream<R extends PartitionRecord> extends AsyncIterable<R> {
  readonly readableLength: number;
  readonly offsetsToFetch: ReadonlyMap<string, bigint>;
}

/** What {@link KafkaBucketOrder} asks of the consumer. */
export interface PartitionSource<R extends PartitionRecord> {
  readonly stream: PartitionStream<R>;
  /** The partitions (`topic:partition`) this member holds now. */
  assigned(): readonly string[];
  /** The end offset of every partition of the subscription's topics (`topic:partition`). */
  listEnds(): Promise<ReadonlyMap<string, bigint>>;
  /** The message of a record; null for a record that is not a qmtl message. */
  decode(record: R): ReceivedMessage | null;
}

/** Knobs of {@link KafkaBucketOrder}. */
export interface KafkaBucketOrderOptions {
  /**
   * Records held back at most while a partition lags (one that gets no share of the fetches, say);
   * beyond, the oldest is handed out without waiting for it, with a warning. Default 100,000.
   */
  readonly maxBuffered?: number;
  /** How often the end offsets are listed again while records are handed out, in ms. Default 1000. */
  readonly endsRefreshMs?: number;
}

const log = logger.child({ component: 'kafka-topic-bus' });

/**
 * Hands out the records of a Kafka consumer stream in bucket-timestamp order across its partitions
 * ({@link BucketOrderedBacklog}), as the Redis bus does: a consumer that starts after its producers
 * would otherwise get one topic's backlog before another's (one fetch response holds a partition's
 * records, then the next partition's), and a node reading both would meet a later bucket of one
 * before the same bucket of the other.
 *
 * A record is handed out once every partition this member holds either has a record waiting here
 * or has nothing older to come: none of its records wait unread in the stream, and its fetch
 * position has reached its end offset (listed when reading starts, then at most every second while
 * records are handed out). A caught-up partition that receives nothing never holds the others back,
 * so live records go out as soon as they are read. Records are read from the stream only when the
 * order needs one, so the stream's own buffer limit still bounds what is fetched ahead. Within a
 * partition records keep their order (the commit position needs it): the order across partitions
 * is a bucket order as long as each partition holds its records in bucket order, as a topic of one
 * node's outputs does.
 *
 * @example
 * for await (const { record, message } of new KafkaBucketOrder(source).records()) await handle(record, message);
 */
export class KafkaBucketOrder<R extends PartitionRecord> {
  readonly #backlog = new BucketOrderedBacklog<OrderedRecord<R>>();
  #ends: ReadonlyMap<string, bigint> = new Map();
  #endsListedAt = 0;
  #listing = false;
  /** Each held partition's fetch position when the stream last held no unread record. */
  readonly #settled = new Map<string, bigint>();
  #overflowReported = false;

  readonly #maxBuffered: number;
  readonly #endsRefreshMs: number;

  constructor(
    private readonly source: PartitionSource<R>,
    options: KafkaBucketOrderOptions = {},
  ) {
    this.#maxBuffered = options.maxBuffered ?? 100_000;
    this.#endsRefreshMs = options.endsRefreshMs ?? 1000;
  }

  /** The records in bucket order; ends when the stream does, throws what it throws. */
  async *records(): AsyncGenerator<OrderedRecord<R>> {
    await this.listEnds();
    const iterator = this.source.stream[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = this.mayHandOut() ? this.#backlog.next() : null;
        if (next !== null) {
          this.#backlog.shift(next.key);
          this.refreshEnds();
          yield next.entry;
          continue;
        }
        const read = await iterator.next();
        if (read.done === true) return;
        this.add(read.value);
      }
    } finally {
      await iterator.return?.();
    }
  }

  private add(record: R): void {
    const message = this.source.decode(record);
    const entry = { record, message };
    this.#backlog.add(`${record.topic}:${record.partition}`, [
      { entry, timestamp: message?.timestamp ?? -Infinity },
    ]);
  }

  /**
   * True when the oldest record waiting here is the oldest this member will see: no held partition
   * without a waiting record may have an older one unread in the stream or still on the broker.
   */
  private mayHandOut(): boolean {
    if (this.#backlog.empty) return false;
    if (this.#backlog.size >= this.#maxBuffered) return this.overflow();
    const { readableLength, offsetsToFetch } = this.source.stream;
    const drained = readableLength === 0;
    let handOut = true;
    for (const key of this.source.assigned()) {
      const position = offsetsToFetch.get(key);
      if (position === undefined) continue;
      // Everything fetched up to here has been read: none of it waits in the stream.
      if (drained) this.#settled.set(key, position);
      if (!handOut || this.#backlog.count(key) > 0) continue;
      const unread = !drained && this.#settled.get(key) !== position;
      const end = this.#ends.get(key);
      if (unread || (end !== undefined && position < end)) handOut = false;
    }
    return handOut;
  }

  /** Hands out the oldest record although a partition may hold an older one; reported once. */
  private overflow(): boolean {
    if (!this.#overflowReported) {
      this.#overflowReported = true;
      log.warn(
        { buffered: this.#backlog.size },
        'kafka subscription holds too many records waiting for a lagging partition; handing out the oldest without waiting',
      );
    }
    return true;
  }

  private async listEnds(): Promise<void> {
    this.#listing = true;
    try {
      this.#ends = await this.source.listEnds();
    } finally {
      this.#listing = false;
      this.#endsListedAt = Date.now();
    }
  }

  /**
   * Lists the end offsets again in the background when the last listing (or attempt) is older than
   * `endsRefreshMs`; a failed one keeps the last ends.
   */
  private refreshEnds(): void {
    if (this.#listing || Date.now() - this.#endsListedAt < this.#endsRefreshMs) return;
    this.listEnds().catch((error: unknown) =>
      log.debug({ err: error }, 'listing end offsets failed; ordering by the last ones'),
    );
  }
}
