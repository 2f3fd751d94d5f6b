import { ErrorCode, QmtlError } from '../../../common/errors.js';
import { isRecord } from '../../../common/is-record.js';
import type { ReceivedMessage, TopicBus } from '../../../transport/topic-bus.js';
import type { HistoryRow } from '../../history/protocols.js';
import type { LiveFeed, LiveFeedHandle, LiveFeedStart } from '../live-feed.js';
import { FeedRun } from './feed-run.js';
import { nonEmptyString, objectWith, validateOptions } from './feed-options.js';

/** Options of a {@link TopicFeed}. */
export interface TopicFeedOptions {
  /** The topic bus to consume (memory, Kafka, Redis Streams). */
  readonly bus: TopicBus;
  /** The topic whose messages become bars. */
  readonly topic: string;
  /** The consumer group: a restarted feed of the same group resumes after what it handled. */
  readonly group: string;
}

const CHECKS = {
  bus: objectWith('subscribe'),
  topic: nonEmptyString,
  group: nonEmptyString,
};

/**
 * Turns a topic message into a row: an object payload becomes `{ ...payload, ts: timestamp }`,
 * any other payload `{ ts: timestamp, value: payload }`.
 * @example messageRow({ timestamp: 60, payload: { close: 1 }, … }) // { close: 1, ts: 60 }
 */
export function messageRow(message: Pick<ReceivedMessage, 'timestamp' | 'payload'>): HistoryRow {
  return isRecord(message.payload)
    ? { ...message.payload, ts: message.timestamp }
    : { ts: message.timestamp, value: message.payload };
}

/**
 * A feed that turns the messages of one topic of a {@link TopicBus} into bars (see
 * {@link messageRow}), for a stream another process publishes. Messages older than `from` or not
 * newer than the last delivered are skipped, so the bus's at-least-once redeliveries are harmless.
 * A message counts as handled on the bus only once its `onRow` resolved; if `onRow` rejects, the
 * feed ends through `onError` and the message stays unhandled for the group. It runs until stopped.
 *
 * @example
 * const feed = new TopicFeed({ bus, topic: 'btc_ohlcv_a1b2c3_v1', group: 'strategy-7' });
 * const price = new StreamInput({ tags: ['BTC'], interval: '1m', period: 20, historyProvider, liveFeed: feed });
 */
export class TopicFeed implements LiveFeed {
  readonly #bus: TopicBus;
  readonly #topic: string;
  readonly #group: string;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: TopicFeedOptions) {
    validateOptions('TopicFeed', options, CHECKS, ['bus', 'topic', 'group']);
    this.#bus = options.bus;
    this.#topic = options.topic;
    this.#group = options.group;
  }

  /** Subscribes (resolving once subscribed) and delivers messages in the background until `stop()`. */
  async start(options: LiveFeedStart): Promise<LiveFeedHandle> {
    const run = new FeedRun('TopicFeed', options);
    const subscription = await this.#bus.subscribe({
      topics: [this.#topic],
      group: this.#group,
      onMessage: async (message) => {
        // Rejecting keeps an undelivered message uncommitted, so the group sees it again.
        if (!(await run.deliver(messageRow(message))))
          throw new QmtlError(
            ErrorCode.Unavailable,
            `TopicFeed on topic "${this.#topic}" did not deliver bucket ${message.timestamp}: the feed ended (stopped, or onRow failed)`,
          );
      },
    });
    run.log('info', { topic: this.#topic, group: this.#group }, 'TopicFeed subscribed');
    run.onEnd(() => subscription.close());
    return run.handle();
  }
}
