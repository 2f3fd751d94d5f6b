import { logger } from '../../common/logger.js';
import type { ReceivedMessage } from '../../transport/topic-bus.js';
import type { HistoryRow } from '../history/protocols.js';
import type { Edge, NodeRuntime } from '../runner/node-runtime.js';
import type { TickEngine } from '../runner/tick-engine.js';
import type { StreamInput } from '../stream-input.js';
import { DistinctBuckets } from './distinct-buckets.js';
import type { LiveRecording } from './live-recording.js';
import type { RecentOutputs } from './recent-outputs.js';

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

/** What a {@link LiveInputs} applies the inputs' events with. */
export interface LiveInputsOptions {
  /** Last bucket: an input that delivers a later one has ended. Null = until stopped. */
  readonly until: number | null;
  /** The nodes whose values come from topics, now (they change when the session takes one over). */
  readonly consumed: () => ReadonlyMap<string, string>;
  /** Per consumed node, its newest outputs: what a node taken over later is warmed up with. */
  readonly recent: ReadonlyMap<string, RecentOutputs>;
  /** Where a stream with an event recorder hands its live bars. */
  readonly recording: LiveRecording;
  /** The run's node of an id; throws for an id that is not in the run. */
  readonly runtimeOf: (nodeId: string) => NodeRuntime;
  /** Called when an input ends because it passed `until`. */
  readonly onEnded: () => void;
}

/**
 * The live inputs of a session and what they delivered: which are still open (`feed:ID`,
 * `topic:ID`, `tq:ID`), the newest bucket of each, and each bar or message applied to the tick
 * engine, in the order given, and counted. Redelivered, out-of-date and misfit messages are
 * dropped here; a message is applied once.
 */
export class LiveInputs {
  readonly counters: LiveCounters = { bars: 0, received: 0, skipped: 0, ticks: 0 };
  readonly #engine: TickEngine;
  readonly #options: LiveInputsOptions;
  /** Live inputs that have not yet passed `until` (or ended). */
  readonly #open = new Set<string>();
  /** Per consumed node, and per TagQueryNode queue (`ID\0queue`): the newest bucket received. */
  readonly #lastReceived = new Map<string, number>();
  /** Per live stream: the newest bucket counted in `counters.bars`. */
  readonly #lastBar = new Map<string, number>();
  /** Per live stream: the bucket its feed starts at. */
  readonly #feedStart = new Map<string, number>();
  /** The buckets counted in `counters.ticks`. */
  readonly #ticks = new DistinctBuckets(() => this.#oldestOpenBucket());
  /** TagQueryNode runtime id → its queues (topics) → the edge that feeds it. */
  readonly #queueEdges = new Map<string, Map<string, Edge>>();

  constructor(engine: TickEngine, options: LiveInputsOptions) {
    this.#engine = engine;
    this.#options = options;
  }

  /** How many inputs are open. */
  get openCount(): number {
    return this.#open.size;
  }

  /** Opens an input: the session runs until every open input has passed `until` or ended. */
  open(name: string): void {
    this.#open.add(name);
  }

  isOpen(name: string): boolean {
    return this.#open.has(name);
  }

  /** Closes an input (a feed that ended, a topic this process now computes) without ending the run. */
  close(name: string): void {
    this.#open.delete(name);
  }

  /** Opens a stream's feed, which starts at bucket `start`. */
  openFeed(nodeId: string, start: number): string {
    const name = `feed:${nodeId}`;
    this.open(name);
    this.#feedStart.set(nodeId, start);
    return name;
  }

  /** The newest bucket received from a consumed node's topic; undefined before the first. */
  lastReceived(nodeId: string): number | undefined {
    return this.#lastReceived.get(nodeId);
  }

  /** Takes everything on a consumed node's topic up to `bucket` as received (a warm-up covered it). */
  receivedUpTo(nodeId: string, bucket: number): void {
    this.#lastReceived.set(nodeId, bucket);
  }

  /** Of `queues`, those that do not feed the TagQueryNode `nodeId` yet. */
  newQueues(nodeId: string, queues: readonly string[]): string[] {
    const edges = this.#queueEdges.get(nodeId);
    return edges === undefined ? [...queues] : queues.filter((queue) => !edges.has(queue));
  }

  /** Makes `queue` an upstream of the TagQueryNode `runtime`. */
  addQueue(runtime: NodeRuntime, queue: string): void {
    let edges = this.#queueEdges.get(runtime.id);
    if (edges === undefined) this.#queueEdges.set(runtime.id, (edges = new Map<string, Edge>()));
    edges.set(queue, runtime.addInput(queue, runtime.interval));
  }

  /** Drops `queue` from the TagQueryNode `runtime`: its buffer, and its messages from now on. */
  removeQueue(runtime: NodeRuntime, queue: string): void {
    this.#queueEdges.get(runtime.id)?.delete(queue);
    this.#lastReceived.delete(`${runtime.id}\u0000${queue}`);
    runtime.removeInput(queue);
  }

  /**
   * Applies a live feed's row to its stream `runtime`, whose feed is the input `name`. False when
   * the row was not applied: it has no numeric `ts`, or it is past `until` (the feed has ended).
   */
  applyRow(runtime: NodeRuntime, row: HistoryRow, name: string): boolean {
    const ts = row?.ts;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      logger.warn({ node_id: runtime.id, row }, 'live row without a numeric ts skipped');
      return false;
    }
    const bucket = ts - (ts % runtime.interval);
    if (this.#pastUntil(name, bucket)) return false;
    this.#engine.emit(runtime, bucket, row);
    this.#engine.runTick(bucket);
    const newest = this.#lastBar.get(runtime.id) ?? -Infinity;
    // A row of an older bucket than the stream's newest is rejected by the cache: no tick, and
    // not recorded, so a backtest over the recording computes on the bars this run used. A late
    // row of the newest bucket corrects it, here and in the recording (the last row stands).
    if (bucket >= newest) {
      this.#countTick(bucket);
      const recorder = (runtime.node as StreamInput).eventRecorder;
      if (recorder !== null)
        this.#options.recording.record(recorder, runtime.id, runtime.interval, bucket, row);
    }
    if (bucket > newest) {
      this.#lastBar.set(runtime.id, bucket);
      this.counters.bars++;
    }
    this.#endIfAtUntil(name, bucket);
    return true;
  }

  /** Applies a message of a consumed node's topic, unless it was applied already or does not fit. */
  applyMessage(message: ReceivedMessage): void {
    if (!this.#options.consumed().has(message.nodeId)) return;
    const runtime = this.#options.runtimeOf(message.nodeId);
    if (!this.#fits(runtime, message)) return;
    const last = this.#lastReceived.get(runtime.id) ?? -Infinity;
    // Redelivered (at least once) or out of date: already applied.
    if (message.timestamp <= last) return;
    const name = `topic:${runtime.id}`;
    if (this.#pastUntil(name, message.timestamp)) return;
    this.#lastReceived.set(runtime.id, message.timestamp);
    this.#engine.emit(runtime, message.timestamp, message.payload);
    this.#options.recent.get(runtime.id)?.push(message.timestamp, message.payload);
    this.#engine.runTick(message.timestamp);
    this.counters.received++;
    this.#countTick(message.timestamp);
    this.#endIfAtUntil(name, message.timestamp);
  }

  /** Applies a message of one of the queues of the TagQueryNode `runtime`, as {@link applyMessage}. */
  applyQueueMessage(runtime: NodeRuntime, message: ReceivedMessage): void {
    const edge = this.#queueEdges.get(runtime.id)?.get(message.topic);
    if (edge === undefined || !this.#fits(runtime, message)) return;
    const key = `${runtime.id}\u0000${message.topic}`;
    if (message.timestamp <= (this.#lastReceived.get(key) ?? -Infinity)) return;
    const name = `tq:${runtime.id}`;
    if (this.#pastUntil(name, message.timestamp)) return;
    this.#lastReceived.set(key, message.timestamp);
    this.#engine.deliver(message.nodeId, edge, message.timestamp, message.payload);
    this.#engine.runTick(message.timestamp);
    this.counters.received++;
    this.#countTick(message.timestamp);
    this.#endIfAtUntil(name, message.timestamp);
  }

  /** True, ending the input `name`, when `bucket` is past `until`. */
  #pastUntil(name: string, bucket: number): boolean {
    const until = this.#options.until;
    if (until === null || bucket <= until) return false;
    this.#end(name);
    return true;
  }

  /** Ends the input `name` once it delivered `until` itself. */
  #endIfAtUntil(name: string, bucket: number): void {
    const until = this.#options.until;
    if (until !== null && bucket >= until) this.#end(name);
  }

  #end(name: string): void {
    this.#open.delete(name);
    this.#options.onEnded();
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
    for (const name of this.#open) {
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
}
