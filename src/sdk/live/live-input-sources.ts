import { ErrorCode, QmtlError, shortId } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import type { ReceivedMessage, Subscription, TopicBus } from '../../transport/topic-bus.js';
import type { HistoryRow } from '../history/protocols.js';
import type { NodeRuntime } from '../runner/node-runtime.js';
import type { StreamInput } from '../stream-input.js';
import type { LiveFeed, LiveFeedHandle } from './live-feed.js';
import type { LiveInputs } from './live-inputs.js';
import type { LiveSessionShutdown } from './live-session-shutdown.js';
import type { OutputPublisher } from './output-publisher.js';

/** Longest stretch of live bars processed without letting the event loop run timers and I/O, in ms. */
const YIELD_EVERY_MS = 20;

/** What a {@link LiveInputSources} reads with. */
export interface LiveInputSourcesOptions {
  /** Where consumed nodes' topics and TagQueryNodes' queues are read; null when every node is local. */
  readonly bus: TopicBus | null;
  /** How long one history provider call of a feed (a ReplayFeed's) may take, in ms. */
  readonly historyTimeoutMs: number;
  /** Retries of a feed's failing history fetch (a ReplayFeed's). */
  readonly maxRetries: number;
  /** Where the events go. */
  readonly inputs: LiveInputs;
  /** The session's end: no event is applied once it finished; a failure finishes it. */
  readonly shutdown: LiveSessionShutdown;
  /** Where outputs are published: a feed waits while it is behind. Null when nothing is published. */
  readonly publisher: OutputPublisher | null;
  /** The run's node of an id; throws for an id that is not in the run. */
  readonly runtimeOf: (nodeId: string) => NodeRuntime;
  /** Called when a feed ended (delivered its last bar, or was stopped). */
  readonly onFeedEnded: () => void;
}

/**
 * Reads a live session's inputs: starts the streams' live feeds and subscribes to the topics of
 * consumed nodes and to TagQueryNodes' queues, then hands their events to {@link LiveInputs} one
 * at a time, in arrival order, behind any task queued with {@link serial}.
 */
export class LiveInputSources {
  readonly #options: LiveInputSourcesOptions;
  readonly #feeds: LiveFeedHandle[] = [];
  readonly #subscriptions: Subscription[] = [];
  /** Consumed nodes whose topic is read. */
  readonly #subscribed = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();
  #lastYield = 0;

  constructor(options: LiveInputSourcesOptions) {
    this.#options = options;
  }

  /** How many feeds were started. */
  get feedCount(): number {
    return this.#feeds.length;
  }

  /** How many subscriptions were opened (a subscription never ends by itself). */
  get subscriptionCount(): number {
    return this.#subscriptions.length;
  }

  /** Resolves once every event and task queued so far has run (never rejects). */
  get idle(): Promise<unknown> {
    return this.#chain;
  }

  /** Runs `task` after every event queued before it; a failure ends the session with that error. */
  serial<T>(task: () => T | Promise<T>): Promise<T> {
    const next = this.#chain.then(task);
    this.#chain = next.catch((error: unknown) =>
      this.#options.shutdown.finish(error instanceof Error ? error : new Error(String(error))),
    );
    return next;
  }

  /**
   * Starts a stream's feed at the bucket holding `from` (feeds start at a bucket); rows before
   * `skipBefore` are left out (the warm-up replayed them).
   */
  async startFeed(runtime: NodeRuntime, from: number, skipBefore = -Infinity): Promise<void> {
    const feed = (runtime.node as StreamInput).liveFeed;
    if (feed === null) {
      logger.warn(
        { node_id: runtime.id, name: runtime.node.name },
        'stream input has no liveFeed; it gets no live data',
      );
      return;
    }
    const { inputs, shutdown } = this.#options;
    const interval = runtime.interval;
    const start = from - (from % interval);
    const name = inputs.openFeed(runtime.id, start);
    let handle: LiveFeedHandle;
    try {
      handle = await feed.start({
        key: { nodeId: runtime.id, interval },
        from: start,
        onRow: (row) =>
          row?.ts < skipBefore ? undefined : this.serial(() => this.#onRow(runtime, row, name)),
        onError: (error) => shutdown.finish(error),
        historyTimeoutMs: this.#options.historyTimeoutMs,
        historyMaxRetries: this.#options.maxRetries,
      });
    } catch (error) {
      inputs.close(name);
      throw feedStartError(runtime, feed, error);
    }
    this.#feeds.push(handle);
    void handle.done.then(() => {
      inputs.close(name);
      this.#options.onFeedEnded();
    });
  }

  /**
   * Reads the topics of the consumed nodes something here reads (a computed child, kept outputs,
   * or a listener such as the order router) and that are not read yet; consumed nodes nothing
   * reads are not fetched at all. A group with no position starts at the topic's beginning, which
   * warms their readers up.
   */
  async subscribe(consumed: ReadonlyMap<string, string>, group: string): Promise<void> {
    const { bus, inputs } = this.#options;
    if (bus === null) return;
    const topics = new Set<string>();
    for (const [nodeId, topic] of consumed) {
      const runtime = this.#options.runtimeOf(nodeId);
      const unread = runtime.children.length === 0 && runtime.outputs === null && runtime.onEmit === null;
      if (this.#subscribed.has(nodeId) || unread) continue;
      topics.add(topic);
      this.#subscribed.add(nodeId);
      inputs.open(`topic:${nodeId}`);
    }
    if (topics.size > 0) await this.#read(bus, [...topics], group, (message) => inputs.applyMessage(message));
  }

  /** Reads `queues`, upstreams of the TagQueryNode `runtime`, from their beginning. */
  async subscribeQueues(runtime: NodeRuntime, queues: readonly string[], group: string): Promise<void> {
    const { bus, inputs } = this.#options;
    if (bus !== null)
      await this.#read(bus, [...queues], group, (message) => inputs.applyQueueMessage(runtime, message));
  }

  /** Stops the feeds and subscriptions, then waits for the events already queued. */
  async stop(): Promise<void> {
    await Promise.all(this.#feeds.map((feed) => feed.stop()));
    await Promise.all(this.#subscriptions.map((subscription) => subscription.close()));
    await this.#chain.catch(() => undefined);
  }

  /**
   * Reads `topics` (from their beginning for a new `group`), applying each message in turn until
   * the session finished.
   */
  async #read(
    bus: TopicBus,
    topics: string[],
    group: string,
    apply: (message: ReceivedMessage) => void,
  ): Promise<void> {
    const { shutdown } = this.#options;
    this.#subscriptions.push(
      await bus.subscribe({
        topics,
        group,
        from: 'earliest',
        onMessage: (message) =>
          this.serial(() => {
            if (!shutdown.finished) apply(message);
          }),
      }),
    );
  }

  /** Applies a feed's row, then waits while the bus is behind, and lets timers and I/O run now and then. */
  async #onRow(runtime: NodeRuntime, row: HistoryRow, name: string): Promise<void> {
    const { inputs, shutdown, publisher } = this.#options;
    if (shutdown.finished || !inputs.applyRow(runtime, row, name)) return;
    await publisher?.room(shutdown.closing);
    // A feed that answers at once would keep this loop in microtasks: let timers (heartbeats) and I/O run.
    if (performance.now() - this.#lastYield > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.#lastYield = performance.now();
    }
  }
}

/**
 * The error of a feed whose `start` failed: names the stream (name and short id) and the feed, with
 * the feed's error as `cause`. A QmtlError keeps its code (a feed's invalid start option); any
 * other failure (a refused connection, say) is `QMTL_UNAVAILABLE`.
 */
function feedStartError(runtime: NodeRuntime, feed: LiveFeed, error: unknown): QmtlError {
  const feedClass = (feed as object).constructor;
  const feedName = typeof feedClass === 'function' && feedClass !== Object ? ` ${feedClass.name}` : '';
  const reason = error instanceof Error ? error.message : String(error);
  return new QmtlError(
    error instanceof QmtlError ? error.code : ErrorCode.Unavailable,
    `liveFeed${feedName} of ${runtime.node.label} (${shortId(runtime.id)}) failed to start: ${reason}`,
    { cause: error },
  );
}
