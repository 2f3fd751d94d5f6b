import { ErrorCode, QmtlError, quote, shortId } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { formatTime } from '../../common/time.js';
import type { TopicBus } from '../../transport/topic-bus.js';
import type { ExecutionGraph } from '../runner/execution-graph.js';
import type { HistoryCallOptions } from '../runner/history-loader.js';
import type { NodeRuntime } from '../runner/node-runtime.js';
import type { TickEngine } from '../runner/tick-engine.js';
import type { StreamInput } from '../stream-input.js';
import { listenToEmits } from '../runner/emit-listeners.js';
import { LiveInputSources } from './live-input-sources.js';
import { LiveInputs, type LiveCounters } from './live-inputs.js';
import { LiveRecording } from './live-recording.js';
import { LiveSessionShutdown } from './live-session-shutdown.js';
import { keepConsuming, type NodeRoles } from './node-roles.js';
import { OutputPublisher } from './output-publisher.js';
import { recentOutputsOf, replayRecent, type RecentOutputs } from './recent-outputs.js';
import { warmUp, warmUpPromoted } from './warm-up.js';

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

export type { LiveCounters } from './live-inputs.js';

/**
 * The real-time part of a dry-run or live run (SPEC §3.5): warms the nodes up from history, then
 * feeds bars from the streams' live feeds and outputs of consumed nodes from their topics through
 * the tick engine, one event at a time, publishing every output of a node this process produces.
 * Consumed nodes are never computed: their inputs are detached and their values come from topics.
 *
 * This class runs the warm-up, take-overs and publishing; {@link LiveInputSources} reads the
 * inputs, {@link LiveInputs} applies and counts what they deliver, and {@link LiveSessionShutdown}
 * ends the session.
 */
export class LiveSession {
  readonly counters: LiveCounters;
  readonly publisher: OutputPublisher | null;
  /** The live bars handed to the streams' event recorders; flushed when the session closes. */
  readonly recording = new LiveRecording();
  /** Settles when the session ends: every input passed `until`, every feed ended, stop, or an error. */
  readonly done: Promise<void>;
  readonly #graph: ExecutionGraph;
  readonly #engine: TickEngine;
  readonly #options: LiveSessionOptions;
  #roles: NodeRoles;
  readonly #inputs: LiveInputs;
  readonly #shutdown: LiveSessionShutdown;
  readonly #sources: LiveInputSources;
  /** Per produced node: outputs at or before this bucket are not published (already on the topic). */
  readonly #publishAfter = new Map<string, number>();
  /**
   * Per consumed node, its newest outputs, as many as its largest consumer's period (detached
   * consumers included): what a node taken over later is warmed up with.
   */
  readonly #recent: ReadonlyMap<string, RecentOutputs>;
  #publishing = false;

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
    this.#shutdown = new LiveSessionShutdown({
      publisher: this.publisher,
      busName: options.busName ?? 'topic bus',
      ...(options.stopGraceMs !== undefined && { stopGraceMs: options.stopGraceMs }),
      stopInputs: () => this.#sources.stop(),
      recording: this.recording,
    });
    this.done = this.#shutdown.done;
    for (const nodeId of roles.consumed.keys()) graph.detachInputs(this.#runtime(nodeId));
    this.#recent = recentOutputsOf(graph, roles.consumed.keys());
    this.#inputs = new LiveInputs(engine, {
      until: options.until,
      consumed: () => this.#roles.consumed,
      recent: this.#recent,
      recording: this.recording,
      runtimeOf: (nodeId) => this.#runtime(nodeId),
      onEnded: () => this.#checkFinished(),
    });
    this.counters = this.#inputs.counters;
    this.#sources = new LiveInputSources({
      bus: options.bus,
      historyTimeoutMs: options.historyTimeoutMs,
      maxRetries: options.maxRetries,
      inputs: this.#inputs,
      shutdown: this.#shutdown,
      publisher: this.publisher,
      runtimeOf: (nodeId) => this.#runtime(nodeId),
      onFeedEnded: () => this.#checkFinished(),
    });
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
        if (this.#roles.tagQueues.has(runtime.id)) this.#inputs.open(`tq:${runtime.id}`);
    const streams = this.#localStreams(this.#graph.sources);
    // Every stream with a history provider warms up, consumed ones too: a node computed here from a
    // stream another process produces needs its last bars as much as one computed from a local stream.
    const warmed = this.#graph.sources.filter(
      (runtime) => (runtime.node as StreamInput).historyProvider !== null,
    );
    await warmUp(this.#engine, this.#graph, warmed, this.#options.from - 1, this.#history());
    // What a consumed stream's topic holds before the live start is covered by that warm-up.
    for (const runtime of warmed)
      if (this.#roles.consumed.has(runtime.id)) this.#inputs.receivedUpTo(runtime.id, this.#options.from - 1);
    this.#options.onLive?.();
    this.#publishing = true;
    await this.#sources.subscribe(this.#roles.consumed, this.#options.consumerGroup);
    // Rows before the start were replayed by the warm-up; the rest of the bucket the start falls
    // in comes from the feed (its late rows correct that bucket).
    for (const stream of streams)
      await this.#sources.startFeed(stream, this.#options.from, this.#options.from);
    logger.info(
      {
        from: formatTime(this.#options.from),
        feeds: this.#sources.feedCount,
        consumed: this.#inputs.openCount - this.#sources.feedCount,
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
    if (promoted.length === 0 || this.#shutdown.finished) return;
    await this.#drain(promoted, lastPublished);
    await this.#sources.serial(async () => {
      this.#roles = keepConsuming(roles, this.#roles, promoted);
      const runtimes = promoted.map((id) => this.#runtime(id));
      for (const runtime of runtimes) {
        this.#graph.attachInputs(runtime);
        this.#publishAfter.set(runtime.id, lastPublished.get(runtime.id) ?? this.#options.from - 1);
        // A computed node does not emit again what readers here already received or the old
        // producer published; its warm-up only rebuilds its state.
        runtime.emitAfter = Math.max(
          lastPublished.get(runtime.id) ?? this.#options.from - 1,
          this.#inputs.lastReceived(runtime.id) ?? -Infinity,
        );
        this.#publishTo(runtime, roles.produced.get(runtime.id)!);
        this.#inputs.close(`topic:${runtime.id}`);
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
      await this.#sources.subscribe(
        this.#roles.consumed,
        `${this.#options.consumerGroup}-takeover-${shortId(runtimes[0]!.id)}`,
      );
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
        await this.#sources.startFeed(
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
    if (this.#options.bus === null || this.#shutdown.finished) return;
    const runtime = this.#runtime(nodeId);
    const added = this.#inputs.newQueues(nodeId, queues);
    if (added.length === 0) return;
    await this.#sources.serial(() => {
      for (const queue of added) this.#inputs.addQueue(runtime, queue);
    });
    await this.#sources.subscribeQueues(
      runtime,
      added,
      `${this.#options.consumerGroup}-tq-${shortId(nodeId)}`,
    );
    logger.info({ node: runtime.node.name, queues: added }, 'tag query: queues added');
  }

  /** Queues left a TagQueryNode: their buffers are dropped and their messages ignored. */
  async removeQueues(nodeId: string, queues: readonly string[]): Promise<void> {
    const runtime = this.#runtime(nodeId);
    await this.#sources.serial(() => {
      for (const queue of queues) this.#inputs.removeQueue(runtime, queue);
    });
    logger.info({ node: runtime.node.name, queues }, 'tag query: queues removed');
  }

  /** Ends the run with `error` at once: nothing more is computed or published. */
  fail(error: Error): void {
    this.#publishing = false;
    this.#shutdown.finish(error);
  }

  /**
   * Stops feeds and subscriptions and publishes what is left. A bus that does not take it gets
   * `graceMs` (default `stopGraceMs`, 10 s; 0: none), then the rest is abandoned and reported.
   * Idempotent; a later call can only shorten the grace.
   */
  stop(graceMs?: number): Promise<void> {
    return this.#shutdown.stop(graceMs);
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
          this.#inputs.isOpen(`topic:${id}`) &&
          (this.#inputs.lastReceived(id) ?? -Infinity) < (lastPublished.get(id) ?? -Infinity),
      );
    while (behind().length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    if (behind().length > 0)
      logger.warn({ nodes: behind() }, 'taking over before every published bucket was consumed');
  }

  #checkFinished(): void {
    if (this.#inputs.openCount > 0 || this.#shutdown.finished) return;
    const everyInputFinite = this.#options.until !== null || this.#sources.subscriptionCount === 0;
    if (everyInputFinite) void this.#sources.idle.then(() => this.#shutdown.close());
  }
}
