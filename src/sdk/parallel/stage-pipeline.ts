import type { SeriesRing } from '../cache/series-ring.js';
import type { NodeRuntime } from '../runner/node-runtime.js';
import type { ReplayProgress } from '../runner/replay.js';
import { computeError, TickEngine, type OnMissing } from '../runner/tick-engine.js';
import { BucketBatcher, PendingResult } from './bucket-batcher.js';
import { nodeTask, snapshotBucket, type NodeTask } from './bucket-task.js';
import type { ComputePool } from './compute-pool.js';
import { RuntimeFacade, type ProcessTracker } from './runtime-facade.js';
import { planStages } from './stage-plan.js';

/** A value a stage-1 node emitted to stage-2 consumers (`from` delivers to those only). */
interface CrossingValue {
  readonly from: NodeRuntime;
  readonly bucket: number;
  readonly value: unknown;
}

/** A stage-1 node's "no output" for stage-2 consumers' rings. */
interface CrossingEmpty {
  readonly rings: readonly SeriesRing[];
  readonly bucket: number;
}

/** What stage 2 must replay of one tick, in the order the serial engine would have done it. */
class TickLog {
  time = NaN;
  readonly events: (PendingResult | CrossingValue | CrossingEmpty)[] = [];
  /** Results not yet answered. */
  pending = 0;
  /** In the tick in which stage 1 failed: the rank of the node that failed. */
  failedRank = Infinity;
}

/** Options of a {@link StagePipeline}. */
export interface StagePipelineOptions {
  readonly pool: ComputePool;
  readonly onMissing: OnMissing;
  /** Buckets submitted and not yet applied, at most. */
  readonly maxInFlight: number;
  /** Successive buckets of a node sent to a thread as one task. */
  readonly bucketsPerTask: number;
  readonly onProgress?: ((progress: ReplayProgress) => void) | undefined;
}

/**
 * Two TickEngines over one execution graph. Stage 1 (every node that no offloaded node feeds)
 * runs ahead on the main thread and submits each ready bucket of an offloaded node to the pool;
 * stage 2 (the offloaded nodes' outputs and everything downstream) replays each tick's crossing
 * values and results in serial order as results arrive, so every node sees what it would see in
 * a serial run and every counter ends the same.
 */
export class StagePipeline {
  readonly #stageOne: TickEngine;
  readonly #stageTwo: TickEngine;
  readonly #stageOneOrder: readonly NodeRuntime[];
  readonly #order: readonly NodeRuntime[];
  readonly #stageTwoNodes: ReadonlySet<NodeRuntime>;
  readonly #tracker: ProcessTracker;
  readonly #tasks = new Map<NodeRuntime, NodeTask>();
  readonly #batcher: BucketBatcher;
  readonly #options: StagePipelineOptions;
  readonly #queue: (TickLog | ReplayProgress)[] = [];
  #head = 0;
  #log = new TickLog();
  #inFlight = 0;

  constructor(order: readonly NodeRuntime[], options: StagePipelineOptions) {
    this.#options = options;
    const plan = planStages(order, {
      submit: (runtime) => this.#submit(runtime),
      cross: (from, bucket, value) => this.#log.events.push({ from, bucket, value }),
      crossEmpty: (rings, bucket) => this.#log.events.push({ rings, bucket }),
    });
    for (const runtime of plan.offloaded) this.#tasks.set(runtime, nodeTask(runtime));
    this.#batcher = new BucketBatcher(options.pool, options.bucketsPerTask);
    this.#stageOneOrder = plan.stageOneOrder;
    this.#order = order;
    this.#stageTwoNodes = plan.stageTwo;
    this.#tracker = plan.tracker;
    this.#stageOne = new TickEngine(plan.stageOneOrder, options.onMissing);
    this.#stageTwo = new TickEngine(order, options.onMissing);
  }

  /** Emits a history row of `source` (a stream input of the graph) for the coming tick. */
  emit(source: NodeRuntime, bucket: number, row: unknown): void {
    this.#stageOne.emit(this.#stageOneOrder[source.rank]!, bucket, row);
  }

  /**
   * Runs stage 1 of the tick at `time` and applies what stage 2 can. Returns a promise when the
   * caller must wait (too many results outstanding, or a failure), else null.
   */
  tick(time: number): Promise<void> | null {
    const log = this.#log;
    log.time = time;
    try {
      this.#stageOne.runTick(time);
    } catch (error) {
      log.failedRank = this.#tracker.rank;
      return this.#failAfterEarlierTicks(error);
    }
    if (log.events.length > 0) {
      this.#queue.push(log);
      this.#log = new TickLog();
    }
    if (this.#inFlight < this.#options.maxInFlight) {
      this.#drainReady();
      return null;
    }
    return this.#drainUntil(this.#options.maxInFlight - 1);
  }

  /** Reports `progress` once stage 2 has caught up with everything before it. */
  progress(progress: ReplayProgress): void {
    if (this.#head === this.#queue.length) this.#options.onProgress?.(progress);
    else this.#queue.push(progress);
  }

  /** Waits for every result and applies every queued tick. */
  async finish(): Promise<void> {
    await this.#drainUntil(0);
  }

  #submit(runtime: NodeRuntime): void {
    const log = this.#log;
    const result = new PendingResult(runtime, runtime.view.time, log);
    log.events.push(result);
    log.pending++;
    this.#inFlight++;
    this.#batcher.add(runtime, this.#tasks.get(runtime)!, snapshotBucket(runtime), result);
  }

  async #drainUntil(limit: number): Promise<void> {
    this.#drainReady();
    while (this.#inFlight > limit) {
      this.#batcher.flush();
      const head = this.#queue[this.#head] as TickLog;
      const waiting = head.events.find((e): e is PendingResult => e instanceof PendingResult && !e.settled);
      await waiting!.done;
      this.#drainReady();
    }
  }

  /** Applies queued ticks, oldest first, up to the first one still waiting for a result. */
  #drainReady(): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const item = queue[this.#head]!;
      if (item instanceof TickLog) {
        if (item.pending > 0) break;
        this.#head++;
        this.#apply(item);
      } else {
        this.#head++;
        this.#options.onProgress?.(item);
      }
    }
    if (this.#head === queue.length || this.#head > 4096) {
      queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #apply(log: TickLog): void {
    if (log.failedRank !== Infinity) return this.#applyFailedTick(log);
    this.#applyEvents(log, this.#stageTwo);
    this.#stageTwo.runTick(log.time);
  }

  #applyEvents(log: TickLog, engine: TickEngine): void {
    for (const event of log.events) {
      if (event instanceof PendingResult) this.#applyResult(event, engine);
      else if ('rings' in event) for (const ring of event.rings) ring.markEmpty(event.bucket);
      else engine.emit(event.from, event.bucket, event.value);
    }
  }

  /**
   * The tick in which stage 1 failed: stage 2 runs it too, in an engine that tracks ranks, and
   * throws only a failure of a node ranked before the stage-1 one (serially, it would come first).
   */
  #applyFailedTick(log: TickLog): void {
    const tracker = this.#tracker;
    const tracked = this.#order.map((runtime) =>
      this.#stageTwoNodes.has(runtime) ? new RuntimeFacade(runtime, { tracker }) : runtime,
    );
    const engine = new TickEngine(tracked, this.#options.onMissing);
    tracker.rank = -1;
    try {
      this.#applyEvents(log, engine);
      engine.runTick(log.time);
    } catch (error) {
      if (tracker.rank < log.failedRank) throw error;
    }
  }

  /** What the serial engine does with a compute's output. */
  #applyResult(result: PendingResult, engine: TickEngine): void {
    this.#inFlight--;
    const { runtime, bucket } = result;
    if (result.failed) throw computeError(runtime, bucket, result.error);
    if (result.value === null || result.value === undefined) {
      runtime.emptyOutputs++;
      for (const edge of runtime.children) edge.ring.markEmpty(bucket);
      return;
    }
    engine.emit(runtime, bucket, result.value);
  }

  /** Stage 1 failed at this tick: a failure of an earlier tick in stage 2 is reported first, as serially. */
  async #failAfterEarlierTicks(error: unknown): Promise<never> {
    if (this.#log.events.length > 0) this.#queue.push(this.#log);
    this.#log = new TickLog();
    await this.#drainUntil(0);
    throw error;
  }
}
