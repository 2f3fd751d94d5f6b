/**
 * One node output on a topic (SPEC §2.9): the message key is the node id, the value JSON
 * `{"interval": int, "timestamp": int (epoch s, bucketed), "payload": any}`.
 */
export interface TopicMessage {
  /** The producing node's id: the message key (ordering is per key). */
  readonly nodeId: string;
  /** Bar interval in seconds. */
  readonly interval: number;
  /** Bucket timestamp, epoch seconds (a multiple of the interval). */
  readonly timestamp: number;
  readonly payload: unknown;
}

/** A message as a consumer receives it. */
export interface ReceivedMessage extends TopicMessage {
  readonly topic: string;
}

/** What a consumer subscribes with. */
export interface SubscribeOptions {
  readonly topics: readonly string[];
  /**
   * The consumer group: members of one group share the topics' messages and resume from the
   * group's committed position after a restart.
   */
  readonly group: string;
  /** Where a group with no committed position starts: the oldest message (default) or only new ones. */
  readonly from?: 'earliest' | 'latest';
  /**
   * Called once per delivered message, in order per topic and key. The message counts as handled
   * (its position is committed) only after the returned promise resolves; a rejection or a crash
   * means it is delivered again (at least once).
   */
  readonly onMessage: (message: ReceivedMessage) => void | Promise<void>;
}

/** A running subscription. */
export interface Subscription {
  /** Commits what was handled, stops fetching, leaves the group. Idempotent. */
  close(): Promise<void>;
}

/**
 * How the Runner moves node outputs between processes: publishes the outputs of nodes it computes
 * to their topics and consumes the topics of nodes another strategy produces. Adapters: in-process
 * (embedded mode), Kafka, Redis Streams — one contract suite (`topic-bus.contract.test-kit.ts`).
 * Topics are created by the DAG Manager; `ensureTopic` exists for tests and the embedded mode.
 */
export interface TopicBus {
  /** Creates the topic if it does not exist (idempotent). */
  ensureTopic(topic: string): Promise<void>;
  /** Appends messages to a topic, in order; resolves when they are durably accepted. */
  publish(topic: string, messages: readonly TopicMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * The newest message keyed `nodeId` on `topic` (looking back over the topic's tail), or null
   * when there is none: where a producer taking over a node resumes (SPEC §3.5, failover).
   */
  lastMessage(topic: string, nodeId: string): Promise<ReceivedMessage | null>;
  close(): Promise<void>;
}

/** How many messages at the tail of a topic (per partition) `lastMessage` looks back over. */
export const LAST_MESSAGE_LOOKBACK = 256;

/**
 * Wraps a handler so that a redelivered message (at-least-once) is handled once: per topic and
 * node id, a message whose bucket timestamp is not newer than the last one handled is skipped.
 * @example bus.subscribe({ topics, group, onMessage: oncePerBucket((m) => feed(m)) });
 */
export function oncePerBucket(
  handler: (message: ReceivedMessage) => void | Promise<void>,
): (message: ReceivedMessage) => Promise<void> {
  const last = new Map<string, number>();
  return async (message) => {
    const key = `${message.topic}\u0000${message.nodeId}`;
    const seen = last.get(key);
    if (seen !== undefined && message.timestamp <= seen) return;
    await handler(message);
    last.set(key, message.timestamp);
  };
}

/** The wire value of a message (SPEC §2.9). */
export function encodeTopicValue(message: TopicMessage): string {
  return JSON.stringify({
    interval: message.interval,
    timestamp: message.timestamp,
    payload: message.payload,
  });
}

/**
 * Reads a wire value back; null for a value that is not a qmtl topic message (it is skipped and
 * logged by the adapter, never delivered).
 */
export function decodeTopicValue(topic: string, nodeId: string, value: string): ReceivedMessage | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { interval, timestamp, payload } = parsed as Record<string, unknown>;
  if (!Number.isSafeInteger(interval) || !Number.isSafeInteger(timestamp)) return null;
  return { topic, nodeId, interval: interval as number, timestamp: timestamp as number, payload };
}
