import { ErrorCode, QmtlError, quote, shortId } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { formatTime } from '../../common/time.js';
import type { ReceivedMessage, Subscription, TopicBus } from '../../transport/topic-bus.js';
import type { HistoryRow } from '../history/protocols.js';
import type { ExecutionGraph } from '../runner/execution-graph.js';
import type { HistoryCallOptions } from '../runner/history-loader.js';
import type { Edge, NodeRuntime } from '../runner/node-runtime.js';
import type { TickEngine } from '../runner/tick-engine.js';
import type { StreamInput } from '../stream-input.js';
import { listenToEmits } from '../runner/emit-listeners.js';
import { DistinctBuckets } from './distinct-buckets.js';
import type { LiveFeedHandle } from './live-feed.js';
import { LiveRecording } from './live-recording.js';
import { keepConsuming, type NodeRoles } from './node-roles.js';
import { OutputPublisher } from './output-publisher.js';
import { recentOutputsOf, replayRecent, type RecentOutputs } from './recent-outputs.js';
import { warmUp, warmUpPromoted } from './warm-up.js';

/** Longest stretch of live bars processed without letting the event loop run timers and I/O, in ms. */
const YIELD_EVERY_MS = 20;

/** What a {@link LiveSession} runs with. */
export interface LiveSessionOptions {
  /** First live bucket, epoch seconds; history before it warms the nodes up. */
  readonly from: number;
  /** Last bucket: the session ends once every live input has passed it. Null = until stopped. */
  readonly until: number | null;
  /** Retries of a failing history fetch (the warm-up's, a ReplayFeed's). */
  readonly maxRetries: number;
  /** How long one history provider call (the warm-up's, a ReplayFeed's) may take, in ms. */
  readonly historyTimeoutMs: number;
  /** Where outputs are published and consumed nodes read; null when every node is local. */
  readonly bus: TopicBus | null;
  /** The bus as logs name it (its DSN, password hidden). */
  readonly busName?: string;
  /** Consumer group of this process's subscriptions (stable across restarts of the same strategies). */
  readonly consumerGroup: string;
  /** How long stop() leaves a bus that does not take outputs to take what is left, in ms. Default 10 s. */
  readonly stopGraceMs?: number;
  /** Called once after the warm-up, before the first live input (order routing starts here). */
  readonly onLive?: () => void;
}

/** Counters of a live session. */
export interface LiveCounters {
  /**
   * Bars fed by live feeds: one per stream and bucket. Rows that correct the newest bucket (a
   * repeated timestamp, or another row inside its interval) or arrive for an older one do not
   * count again, as the node cache adds no slot for them.
   */
  bars: number;
  /** Messages consumed from other processes' topics. */
  received: number;
  /** Messages skipped because they do not fit the node (another interval, a misaligned bucket). */
  skipped: number;
  /**
   * Distinct buckets of live data processed, all inputs together (feeds' bars, consumed topics'
   * and tag queries' messages), as in a backtest: a bucket counts once however many streams or
   * corrections deliver it. A row the node cache rejects (older than its stream's newest bar)
   * adds none; the warm-up is not counted.
   */
  ticks: number;
}

/**
 * The real-time part of a dry-run or live run (SPEC §3.5): warms the nodes up from history, then
 * feeds bars from the streams' live feeds and outputs of consumed nodes from their topics through
 * the tick engine, one event at a time, publishing every output of a node this process produces.
 * Consumed nodes are never computed: their inputs are detached and their values come from topics.
 */
export class LiveSession {
  readonly counters: LiveCounters = { bars: 0, received: 0, skipped: 0, ticks: 0 };
  readonly publisher: OutputPublisher | null;
  /** The live bars handed to the streams' event recorders; flushed when the session closes. */
  readonly recording = new LiveRecording();
  readonly #graph: ExecutionGraph;
  readonly #engine: TickEngine;
  readonly #options: LiveSessionOptions;
  #roles: NodeRoles;
  /** Per consumed node: the newest bucket received. */
  readonly #lastReceived = new Map<string, number>();
  /** Per live stream: the newest bucket counted in `counters.bars`. */
  readonly #lastBar = new Map<string, number>();
  /** Per live stream: the bucket its feed starts at. */
  readonly #feedStart = new Map<string, number>();
  /** The buckets counted in `counters.ticks`. */
  readonly #ticks = new DistinctBuckets(() => this.#oldestOpenBucket());
  /** TagQueryNode runtime id → its queues (topics) → the edge that feeds it. */
  readonly #queueEdges = new Map<string, Map<string, Edge>>();
  readonly #feeds: LiveFeedHandle[] = [];
  readonly #subscriptions: Subscription[] = [];
  /** Per produced node: outputs at or before this bucket are not published (already on the topic). */
  readonly #publishAfter = new Map<string, number>();
  /**
   * Per consumed node, its newest outputs, as many as its largest consumer's period (detached
   * consumers included): what a node taken over later is warmed up with.
   */
  readonly #recent: ReadonlyMap<string, RecentOutputs>;
  /** Consumed nodes whose topic is read. */
  readonly #subscribed = new Set<string>();
  /** Live inputs that have not yet passed `until` (or ended). */
  readonly #pending = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();
  /** Aborted when the session starts closing: releases a feed waiting for room in the backlog. */
  readonly #closing = new AbortController();
  #closed: Promise<void> | null = null;
  #stopRequested = false;
  /** True once the closing flush settled: nothing is left to abandon. */
  #flushed = false;
  /** When unpublished outputs are abandoned (a stop's grace ends), epoch ms; null: not set. */
  #abandonAt: number | null = null;
  #abandonTimer: NodeJS.Timeout | undefined;
  #publishing = false;
  #lastYield = 0;
  #finished = false;
  #resolveDone!: () => void;
  #rejectDone!: (error: Error) => void;
  /** Settles when the session ends: every input passed `until`, every feed ended, stop, or an error. */
  readonly done: Promise<void>;

  constructor(graph: ExecutionGraph, engine: TickEngine, roles: NodeRoles, options: LiveSessionOptions) {
    this.#graph = graph;
    this.#engine = engine;
    this.#roles = roles;
    this.#options = options;
    this.publisher =
      options.bus === null
        ? null
        : new OutputPublisher(options.bus, {
            ...(options.busName !== undefined && { busName: options.busName }),
          });
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => undefined);
    for (const nodeId of roles.consumed.keys()) graph.detachInputs(this.#runtime(nodeId));
    this.#recent = recentOutputsOf(graph, roles.consumed.keys());
    for (const [nodeId, topic] of roles.produced) this.#publishTo(this.#runtime(nodeId), topic);
  }

  /** The roles the session runs with now (they change when it takes a node over). */
  get roles(): NodeRoles {
    return this.#roles;
  }

  /** Warms up, subscribes to consumed topics and starts the live feeds of the streams produced here. */
  async start(): Promise<void> {
    // A tag query's queues come and go at run time: it is a live input from the start.
    if (this.#options.bus !== null)
      for (const runtime of this.#graph.order)
        if (this.#roles.tagQueues.has(runtime.id)) this.#pending.add(`tq:${runtime.id}`);
    const streams = this.#localStreams(this.#graph.sources);
    // Every stream with a history provider warms up, consumed ones too: a node computed here from a
    // stream another process produces needs its last bars as much as one computed from a local stream.
    const warmed = this.#graph.sources.filter(
      (runtime) => (runtime.node as StreamInput).historyProvider !== null,
    );
    await warmUp(this.#engine, this.#graph, warmed, this.#options.from - 1, this.#history());
    // What a consumed stream's topic holds before the live start is covered by that warm-up.
    for (const runtime of warmed)
      if (this.#roles.consumed.has(runtime.id)) this.#lastReceived.set(runtime.id, this.#options.from - 1);
    this.#options.onLive?.();
    this.#publishing = true;
    await this.#subscribe();
    // Rows before the start were replayed by the warm-up; the rest of the bucket the start falls
    // in comes from the feed (its late rows correct that bucket).
    for (const stream of streams) await this.#startFeed(stream, this.#options.from, this.#options.from);
    logger.info(
      {
        from: formatTime(this.#options.from),
        feeds: this.#feeds.length,
        consumed: this.#pending.size - this.#feeds.length,
      },
      'running live',
    );
    this.#checkFinished();
  }

  /**
   * Takes over computing and publishing `promoted` (nodes this process consumed and now produces,
   * after their producer stopped or died), from the bucket after the last one on each topic.
   */
  async takeOver(
    nodeIds: readonly string[],
    roles: NodeRoles,
    lastPublished: ReadonlyMap<string, number>,
  ): Promise<void> {
    const until = this.#options.until;
    // A node whose topic already reaches the end of this run needs no new producer here.
    const promoted = nodeIds.filter((id) => until === null || (lastPublished.get(id) ?? -Infinity) < until);
    if (promoted.length === 0 || this.#finished) return;
    await this.#drain(promoted, lastPublished);
    await this.#serial(async () => {
      this.#roles = keepConsuming(roles, this.#roles, promoted);
      const runtimes = promoted.map((id) => this.#runtime(id));
      for (const runtime of runtimes) {
        this.#graph.attachInputs(runtime);
        this.#publishAfter.set(runtime.id, lastPublished.get(runtime.id) ?? this.#options.from - 1);
        // A computed node does not emit again what readers here already received or the old
        // producer published; its warm-up only rebuilds its state.
        runtime.emitAfter = Math.max(
          lastPublished.get(runtime.id) ?? this.#options.from - 1,
          this.#lastReceived.get(runtime.id) ?? -Infinity,
        );
        this.#publishTo(runtime, roles.produced.get(runtime.id)!);
        this.#pending.delete(`topic:${runtime.id}`);
      }
      const streams = this.#localStreams(runtimes.filter((r) => this.#graph.sources.includes(r)));
      // Promoted streams with history are warmed from it below. Their recent outputs received
      // here are newer than most of that history: replayed first, they would make the rings
      // reject the older bars and leave the nodes reading them cold.
      const fromHistory = new Set(
        streams.filter((s) => (s.node as StreamInput).historyProvider !== null).map((s) => s.id),
      );
      replayRecent(this.#engine, this.#graph, runtimes, this.#recent, fromHistory);
      // Inputs of the promoted nodes that another process still produces: read them now (from
      // their beginning, under a group of this take-over) if nothing here read them before.
      await this.#subscribe(`${this.#options.consumerGroup}-takeover-${shortId(runtimes[0]!.id)}`);
      const resumeAt = Math.min(
        ...streams.map((s) => (lastPublished.get(s.id) ?? this.#options.from - s.interval) + s.interval),
      );
      await warmUpPromoted(
        this.#engine,
        this.#graph,
        new Set(runtimes),
        streams,
        resumeAt - 1,
        this.#history(),
      );
      for (const stream of streams)
        await this.#startFeed(
          stream,
          (lastPublished.get(stream.id) ?? this.#options.from - stream.interval) + stream.interval,
        );
      logger.info(
        {
          nodes: runtimes.map((r) => `${r.node.name}:${shortId(r.id)}`),
          ...(Number.isFinite(resumeAt) && { resume_at: formatTime(resumeAt) }),
        },
        'took over producing nodes whose producer stopped',
      );
    });
  }

  /**
   * Queues joined a TagQueryNode (resolved at start, or announced on `/ws`): they become its
   * upstreams and are read from their beginning, which warms the node up again (SPEC §3.6).
   */
  async addQueues(nodeId: string, queues: readonly string[]): Promise<void> {
    const bus = this.#options.bus;
    if (bus === null || this.#finished) return;
    const runtime = this.#runtime(nodeId);
    let edges = this.#queueEdges.get(nodeId);
    if (edges === undefined) this.#queueEdges.set(nodeId, (edges = new Map<string, Edge>()));
    const added = queues.filter((queue) => !edges.has(queue));
    if (added.length === 0) return;
    await this.#serial(() => {
      for (const queue of added) edges.set(queue, runtime.addInput(queue, runtime.interval));
    });
    this.#subscriptions.push(
      await bus.subscribe({
        topics: added,
        group: `${this.#options.consumerGroup}-tq-${shortId(nodeId)}`,
        from: 'earliest',
        onMessage: (message) => this.#serial(() => this.#onQueueMessage(runtime, message)),
      }),
    );
    logger.info({ node: runtime.node.name, queues: added }, 'tag query: queues added');
  }

  /** Queues left a TagQueryNode: their buffers are dropped and their messages ignored. */
  async removeQueues(nodeId: string, queues: readonly string[]): Promise<void> {
    const runtime = this.#runtime(nodeId);
    await this.#serial(() => {
      for (const queue of queues) {
        this.#queueEdges.get(nodeId)?.delete(queue);
        this.#lastReceived.delete(`${nodeId}\u0000${queue}`);
        runtime.removeInput(queue);
      }
    });
    logger.info({ node: runtime.node.name, queues }, 'tag query: queues removed');
  }

  /** Ends the run with `error` at once: nothing more is computed or published. */
  fail(error: Error): void {
    this.#publishing = false;
    this.#finish(error);
  }

  /**
   * Stops feeds and subscriptions and publishes what is left. A bus that does not take it gets
   * `graceMs` (default `stopGraceMs`, 10 s; 0: none), then the rest is abandoned and reported.
   * Idempotent; a later call can only shorten the grace.
   */
  async stop(graceMs = this.#options.stopGraceMs ?? 10_000): Promise<void> {
    const publisher = this.publisher;
    if (!this.#stopRequested && publisher !== null && publisher.backlog > 0 && !publisher.abandoned)
      logger.warn(
        { bus: this.#busName, unpublished: publisher.backlog, graceMs },
        'stopping with outputs the topic bus has not taken: they are abandoned unless it takes them within graceMs',
      );
    this.#stopRequested = true;
    this.#abandonWithin(graceMs);
    await this.#close();
  }

  /**
   * Stops the inputs, then waits until the bus took every output or a stop's grace ran out. The
   * end of a run (endTime, feeds ended) waits for the bus without limit: nothing it computed is lost.
   */
  #close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort();
      await Promise.all(this.#feeds.map((feed) => feed.stop()));
      await Promise.all(this.#subscriptions.map((subscription) => subscription.close()));
      await this.#chain.catch(() => undefined);
      await this.recording.finish();
      const publisher = this.publisher;
      if (publisher === null) return this.#finish(null);
      if (!this.#stopRequested && publisher.backlog > 0)
        logger.warn(
          { bus: this.#busName, unpublished: publisher.backlog },
          'the run reached its end with outputs the topic bus has not taken: it ends once they are published (stop() or Ctrl-C abandons them)',
        );
      const unpublished = await publisher.flush();
      clearTimeout(this.#abandonTimer);
      this.#flushed = true;
      if (unpublished > 0)
        logger.error(
          { bus: this.#busName, unpublished },
          'the run stopped with outputs the topic bus did not take: they are not published',
        );
      this.#finish(null);
    })();
    return this.#closed;
  }

  /** Abandons unpublished outputs `ms` from now, unless an earlier deadline is set. */
  #abandonWithin(ms: number): void {
    const publisher = this.publisher;
    if (publisher === null || this.#flushed || !(ms < Infinity)) return;
    const at = Date.now() + Math.max(0, ms);
    if (this.#abandonAt !== null && this.#abandonAt <= at) return;
    this.#abandonAt = at;
    clearTimeout(this.#abandonTimer);
    if (ms <= 0) publisher.abandon();
    else this.#abandonTimer = setTimeout(() => publisher.abandon(), ms).unref();
  }

  get #busName(): string {
    return this.#options.busName ?? 'topic bus';
  }

  /** How the warm-ups call history providers. */
  #history(): HistoryCallOptions {
    return { maxRetries: this.#options.maxRetries, timeoutMs: this.#options.historyTimeoutMs };
  }

  #runtime(nodeId: string): NodeRuntime {
    const runtime = this.#graph.runtimeOf(nodeId);
    if (runtime === undefined)
      throw new QmtlError(
        ErrorCode.InvalidDag,
        `the Gateway's diff names node ${quote(nodeId)}, which is not in the run`,
      );
    return runtime;
  }

  /** The stream inputs among `candidates` that this process produces (not consumed). */
  #localStreams(candidates: readonly NodeRuntime[]): NodeRuntime[] {
    return candidates.filter((runtime) => !this.#roles.consumed.has(runtime.id));
  }

  /**
   * Publishes the node's outputs to its topic from now on: each bucket after `publishAfter`, in
   * order. A recompute of the newest bucket (a correction) goes out again; a late recompute of an
   * older one (one stream lagging another) does not, since every reader's ring would refuse it.
   */
  #publishTo(runtime: NodeRuntime, topic: string): void {
    const publisher = this.publisher;
    if (publisher === null) return;
    let newest = -Infinity;
    listenToEmits(runtime, (bucket, payload) => {
      if (!this.#publishing || bucket <= (this.#publishAfter.get(runtime.id) ?? -Infinity)) return;
      if (bucket < newest) return;
      newest = bucket;
      publisher.add(topic, { nodeId: runtime.id, interval: runtime.interval, timestamp: bucket, payload });
    });
  }

  /** Waits (bounded) until the consumer has received, for each promoted node, what is on its topic. */
  async #drain(promoted: readonly string[], lastPublished: ReadonlyMap<string, number>): Promise<void> {
    const deadline = Date.now() + 10_000;
    const behind = (): string[] =>
      promoted.filter(
        (id) =>
          this.#pending.has(`topic:${id}`) &&
          (this.#lastReceived.get(id) ?? -Infinity) < (lastPublished.get(id) ?? -Infinity),
      );
    while (behind().length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    if (behind().length > 0)
      logger.warn({ nodes: behind() }, 'taking over before every published bucket was consumed');
  }

  /**
   * Reads the topics of the consumed nodes something here reads (a computed child, kept outputs,
   * or a listener such as the order router) and that are not read yet; consumed nodes nothing
   * reads are not fetched at all. A group with no position starts at the topic's beginning, which
   * warms their readers up.
   */
  async #subscribe(group = this.#options.consumerGroup): Promise<void> {
    const bus = this.#options.bus;
    if (bus === null) return;
    const topics = new Set<string>();
    for (const [nodeId, topic] of this.#roles.consumed) {
      const runtime = this.#runtime(nodeId);
      const unread = runtime.children.length === 0 && runtime.outputs === null && runtime.onEmit === null;
      if (this.#subscribed.has(nodeId) || unread) continue;
      topics.add(topic);
      this.#subscribed.add(nodeId);
      this.#pending.add(`topic:${nodeId}`);
    }
    if (topics.size === 0) return;
    this.#subscriptions.push(
      await bus.subscribe({
        topics: [...topics],
        group,
        from: 'earliest',
        onMessage: (message) => this.#serial(() => this.#onMessage(message)),
      }),
    );
  }

  /**
   * Starts a stream's feed at the bucket holding `from` (feeds start at a bucket); rows before
   * `skipBefore` are left out (the warm-up replayed them).
   */
  async #startFeed(runtime: NodeRuntime, from: number, skipBefore = -Infinity): Promise<void> {
    const feed = (runtime.node as StreamInput).liveFeed;
    if (feed === null) {
      logger.warn(
        { node_id: runtime.id, name: runtime.node.name },
        'stream input has no liveFeed; it gets no live data',
      );
      return;
    }
    const name = `feed:${runtime.id}`;
    this.#pending.add(name);
    const interval = runtime.interval;
    const start = from - (from % interval);
    this.#feedStart.set(runtime.id, start);
    const handle = await feed.start({
      key: { nodeId: runtime.id, interval },
      from: start,
      onRow: (row) =>
        row?.ts < skipBefore ? undefined : this.#serial(() => this.#onRow(runtime, row, name)),
      onError: (error) => this.#finish(error),
      historyTimeoutMs: this.#options.historyTimeoutMs,
      historyMaxRetries: this.#options.maxRetries,
    });
    this.#feeds.push(handle);
    void handle.done.then(() => {
      this.#pending.delete(name);
      this.#checkFinished();
    });
  }

  async #onRow(runtime: NodeRuntime, row: HistoryRow, name: string): Promise<void> {
    if (this.#finished) return;
    const ts = row?.ts;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      logger.warn({ node_id: runtime.id, row }, 'live row without a numeric ts skipped');
      return;
    }
    const bucket = ts - (ts % runtime.interval);
    const until = this.#options.until;
    if (until !== null && bucket > until) {
      this.#pending.delete(name);
      this.#checkFinished();
      return;
    }
    this.#engine.emit(runtime, bucket, row);
    this.#engine.runTick(bucket);
    const newest = this.#lastBar.get(runtime.id) ?? -Infinity;
    // A row of an older bucket than the stream's newest is rejected by the cache: no tick.
    if (bucket >= newest) this.#countTick(bucket);
    if (bucket > newest) {
      this.#lastBar.set(runtime.id, bucket);
      this.counters.bars++;
    }
    const recorder = (runtime.node as StreamInput).eventRecorder;
    if (recorder !== null) this.recording.record(recorder, runtime.id, runtime.interval, bucket, row);
    if (until !== null && bucket >= until) {
      this.#pending.delete(name);
      this.#checkFinished();
    }
    await this.publisher?.room(this.#closing.signal);
    // A feed that answers at once would keep this loop in microtasks: let timers (heartbeats) and I/O run.
    if (performance.now() - this.#lastYield > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.#lastYield = performance.now();
    }
  }

  #onMessage(message: ReceivedMessage): void {
    if (this.#finished || !this.#roles.consumed.has(message.nodeId)) return;
    const runtime = this.#runtime(message.nodeId);
    if (!this.#fits(runtime, message)) return;
    const last = this.#lastReceived.get(runtime.id) ?? -Infinity;
    // Redelivered (at least once) or out of date: already applied.
    if (message.timestamp <= last) return;
    const until = this.#options.until;
    if (until !== null && message.timestamp > until) {
      this.#pending.delete(`topic:${runtime.id}`);
      this.#checkFinished();
      return;
    }
    this.#lastReceived.set(runtime.id, message.timestamp);
    this.#engine.emit(runtime, message.timestamp, message.payload);
    this.#recent.get(runtime.id)?.push(message.timestamp, message.payload);
    this.#engine.runTick(message.timestamp);
    this.counters.received++;
    this.#countTick(message.timestamp);
    if (until !== null && message.timestamp >= until) {
      this.#pending.delete(`topic:${runtime.id}`);
      this.#checkFinished();
    }
  }

  #onQueueMessage(runtime: NodeRuntime, message: ReceivedMessage): void {
    const edge = this.#queueEdges.get(runtime.id)?.get(message.topic);
    if (this.#finished || edge === undefined || !this.#fits(runtime, message)) return;
    const key = `${runtime.id}\u0000${message.topic}`;
    if (message.timestamp <= (this.#lastReceived.get(key) ?? -Infinity)) return;
    if (this.#options.until !== null && message.timestamp > this.#options.until) {
      this.#pending.delete(`tq:${runtime.id}`);
      this.#checkFinished();
      return;
    }
    this.#lastReceived.set(key, message.timestamp);
    this.#engine.deliver(message.nodeId, edge, message.timestamp, message.payload);
    this.#engine.runTick(message.timestamp);
    this.counters.received++;
    this.#countTick(message.timestamp);
    const until = this.#options.until;
    if (until !== null && message.timestamp >= until) {
      this.#pending.delete(`tq:${runtime.id}`);
      this.#checkFinished();
    }
  }

  #countTick(bucket: number): void {
    if (this.#ticks.add(bucket)) this.counters.ticks++;
  }

  /**
   * The oldest bucket a live input can still deliver without the node cache or the duplicate
   * check refusing it: a feed's newest bar (a correction repeats it) or its start, a topic's or
   * queue's newest message (-Infinity before the first). Infinity when no input is open. Inputs
   * opened later (a take-over, a queue added) start after what was counted, or their older buckets
   * are taken as counted.
   */
  #oldestOpenBucket(): number {
    let oldest = Infinity;
    for (const name of this.#pending) {
      const id = name.slice(name.indexOf(':') + 1);
      if (name.startsWith('feed:'))
        oldest = Math.min(oldest, this.#lastBar.get(id) ?? this.#feedStart.get(id) ?? -Infinity);
      else if (name.startsWith('topic:')) oldest = Math.min(oldest, this.#lastReceived.get(id) ?? -Infinity);
      else
        for (const queue of this.#queueEdges.get(id)?.keys() ?? [])
          oldest = Math.min(oldest, this.#lastReceived.get(`${id}\u0000${queue}`) ?? -Infinity);
    }
    return oldest;
  }

  /**
   * A message fits a node when it has the node's interval and a bucket on its grid; anything else
   * (a foreign or corrupted producer) is skipped and counted, never fed to the engine.
   */
  #fits(runtime: NodeRuntime, message: ReceivedMessage): boolean {
    if (message.interval === runtime.interval && message.timestamp % runtime.interval === 0) return true;
    this.counters.skipped++;
    logger.warn(
      {
        topic: message.topic,
        node_id: message.nodeId,
        interval: message.interval,
        timestamp: message.timestamp,
        expected_interval: runtime.interval,
      },
      'topic message skipped: its interval or bucket does not fit the node',
    );
    return false;
  }

  /** Runs `task` after every event queued before it; a failure ends the session with that error. */
  #serial<T>(task: () => T | Promise<T>): Promise<T> {
    const next = this.#chain.then(task);
    this.#chain = next.catch((error: unknown) =>
      this.#finish(error instanceof Error ? error : new Error(String(error))),
    );
    return next;
  }

  #checkFinished(): void {
    if (this.#pending.size > 0 || this.#finished) return;
    const everyInputFinite = this.#options.until !== null || this.#subscriptions.length === 0;
    if (everyInputFinite) void this.#chain.then(() => this.#close());
  }

  #finish(error: Error | null): void {
    if (this.#finished) return;
    this.#finished = true;
    if (error === null) this.#resolveDone();
    else {
      logger.error({ err: error }, 'live run failed');
      this.#rejectDone(error);
      void this.stop();
    }
  }
}
