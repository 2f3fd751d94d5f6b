import { ErrorCode, QmtlError, quote, shortId } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { formatTime } from '../../common/time.js';
import { AppendOutcome } from '../cache/series-ring.js';
import type { Edge, NodeRuntime } from './node-runtime.js';

/** What to do when an upstream bucket is missing (SPEC §3.2). */
export const OnMissing = { Skip: 'skip', Fail: 'fail' } as const;
/** One of {@link OnMissing}. */
export type OnMissing = (typeof OnMissing)[keyof typeof OnMissing];

/**
 * Propagates outputs through the execution graph, one tick (one bucket timestamp) at a time.
 * Within a tick every node computes at most once, after all of its upstreams that fire in that
 * tick, in topological order: no node ever sees a half-updated set of inputs.
 */
export class TickEngine {
  readonly #order: readonly NodeRuntime[];
  readonly #dirty: Uint8Array;
  readonly #failOnMissing: boolean;
  /** Inputs may deliver out of step (live feeds and topics): see {@link inputAhead}. */
  readonly #outOfStep: boolean;
  #minDirty: number;
  #maxDirty = -1;

  /**
   * @param outOfStep true in live runs, whose inputs (feeds, topics) can deliver a later bucket
   * before an earlier one of another input; a replay merges its inputs bucket by bucket.
   */
  constructor(order: readonly NodeRuntime[], onMissing: OnMissing, outOfStep = false) {
    this.#order = order;
    this.#dirty = new Uint8Array(order.length);
    this.#minDirty = order.length;
    this.#failOnMissing = onMissing === OnMissing.Fail;
    this.#outOfStep = outOfStep;
  }

  /** A node (a source, or a node that just computed) emits `value` for `bucket`; its consumers are queued for this tick. */
  emit(from: NodeRuntime, bucket: number, value: unknown): void {
    from.emitted++;
    from.outputs?.push(bucket, value);
    from.onEmit?.(bucket, value);
    const edges = from.children;
    for (let e = 0; e < edges.length; e++) this.deliver(from.id, edges[e]!, bucket, value);
  }

  /** Computes every node queued during the tick at `time`, in topological order. */
  runTick(time: number): void {
    const dirty = this.#dirty;
    for (let rank = this.#minDirty; rank <= this.#maxDirty; rank++) {
      if (dirty[rank] === 0) continue;
      dirty[rank] = 0;
      this.#process(this.#order[rank]!, time);
    }
    this.#minDirty = this.#order.length;
    this.#maxDirty = -1;
  }

  #process(runtime: NodeRuntime, time: number): void {
    const gap = runtime.pendingGap;
    if (gap !== null) {
      runtime.pendingGap = null;
      if (this.#failOnMissing) throw missingDataError(runtime, gap);
      logSkip(runtime, gap);
      runtime.skips++;
      this.#observe(runtime, time);
      return;
    }
    if (runtime.fullInputs !== runtime.inputRings.length) {
      runtime.warmupBars++;
      this.#observe(runtime, time);
      return;
    }
    if (this.#outOfStep) {
      const ahead = inputAhead(runtime, time);
      if (ahead >= 0) {
        logAhead(runtime, ahead, time);
        runtime.skips++;
        return;
      }
    }
    const bucket = this.#bucket(runtime, time);
    let out: unknown;
    if (runtime.evaluator !== null) {
      if (runtime.computeCalls === 0 && logger.isLevelEnabled('debug'))
        logger.debug(
          { node_id: runtime.id, name: runtime.node.name, warmup_bars: runtime.warmupBars, bucket },
          'node warmed up: first compute',
        );
      runtime.computeCalls++;
      runtime.view.setTime(bucket);
      try {
        out = runtime.evaluator(runtime.view);
      } catch (error) {
        throw computeError(runtime, bucket, error);
      }
    } else {
      out = runtime.inputRings[0]?.latest();
    }
    if (bucket <= runtime.emitAfter) return;
    if (out === null || out === undefined) {
      runtime.emptyOutputs++;
      const edges = runtime.children;
      for (let e = 0; e < edges.length; e++) edges[e]!.ring.markEmpty(bucket);
      return;
    }
    this.emit(runtime, bucket, out);
  }

  /** Lets a stateful evaluator take in the bars of a trigger that does not compute. */
  #observe(runtime: NodeRuntime, time: number): void {
    if (runtime.observer === null) return;
    const bucket = this.#bucket(runtime, time);
    runtime.view.setTime(bucket);
    try {
      runtime.observer(runtime.view);
    } catch (error) {
      throw computeError(runtime, bucket, error);
    }
  }

  #bucket(runtime: NodeRuntime, time: number): number {
    const bucket = time === runtime.nextBucket ? time : time - (time % runtime.interval);
    runtime.nextBucket = bucket + runtime.interval;
    return bucket;
  }

  /**
   * Appends `value` for `bucket` to the ring of one edge and queues its target for this tick. The
   * ring is on the parent's interval grid, so `bucket` is already aligned.
   */
  deliver(fromId: string, edge: Edge, bucket: number, value: unknown): void {
    const { target, ring } = edge;
    const countBefore = ring.count;
    const outcome = ring.append(bucket, value);
    if (outcome === AppendOutcome.Rejected) {
      target.rejected++;
      return;
    }
    if (outcome === AppendOutcome.Corrected) target.corrections++;
    else if (outcome === AppendOutcome.Gap) {
      target.gaps++;
      target.pendingGap ??= [fromId, ring.expectedBucket, bucket];
    }
    if (countBefore + 1 === target.period && ring.count === target.period) target.fullInputs++;
    const rank = target.rank;
    if (this.#dirty[rank] === 0) {
      this.#dirty[rank] = 1;
      if (rank < this.#minDirty) this.#minDirty = rank;
      if (rank > this.#maxDirty) this.#maxDirty = rank;
    }
  }
}

/**
 * The index of an input ring that already holds a bucket later than the tick at `time`, or -1.
 * That happens only in live runs, when inputs arrive from different feeds or topics out of step
 * (a topic's backlog read after another's); computing then would mix a later bucket of that input
 * into this one (look-ahead), so the trigger is skipped.
 */
function inputAhead(runtime: NodeRuntime, time: number): number {
  const rings = runtime.inputRings;
  for (let i = 0; i < rings.length; i++) if (rings[i]!.lastBucket > time) return i;
  return -1;
}

/** Logs a trigger skipped for an input that is ahead (see {@link logSkipped}). */
function logAhead(runtime: NodeRuntime, index: number, time: number): void {
  logSkipped(
    runtime,
    'input already holds a later bucket: trigger skipped rather than mixing buckets',
    () => ({
      upstream_id: runtime.inputs[index]?.id,
      bucket: time,
      upstream_bucket: runtime.inputRings[index]!.lastBucket,
    }),
  );
}

/** Logs a trigger dropped for a missing upstream bucket (SPEC §3.2; see {@link logSkipped}). */
function logSkip(runtime: NodeRuntime, [upstreamId, expected, actual]: [string, number, number]): void {
  logSkipped(runtime, 'missing upstream bucket: trigger skipped', () => ({
    upstream_id: upstreamId,
    expected,
    actual,
  }));
}

/**
 * Logs a skipped trigger of `runtime`, before its `skips` counts it: the first of a node at warn
 * level, later ones at debug (a sparse stream can skip thousands; all are counted in the stats).
 * `fields` is called only when the line is logged.
 */
function logSkipped(runtime: NodeRuntime, message: string, fields: () => Record<string, unknown>): void {
  const first = runtime.skips === 0;
  if (!first && !logger.isLevelEnabled('debug')) return;
  const line = { node_id: runtime.id, name: runtime.node.name, ...fields() };
  if (first) logger.warn(line, `${message} (later skips of this node are logged at debug)`);
  else logger.debug(line, message);
}

function missingDataError(
  runtime: NodeRuntime,
  [upstreamId, expected, actual]: [string, number, number],
): QmtlError {
  const upstream = runtime.node.inputs.find((input) => input.nodeId === upstreamId);
  const named =
    upstream === undefined ? quote(shortId(upstreamId)) : `${quote(upstream.name)} (${shortId(upstreamId)})`;
  return new QmtlError(
    ErrorCode.MissingData,
    `node ${quote(runtime.node.name)} (${shortId(runtime.id)}): upstream ${named} is missing data: expected bucket ${formatTime(expected)} (${expected}), got ${formatTime(actual)} (${actual})`,
  );
}

/** The error of a compute function that threw (also raised by the parallel replay, word for word). */
export function computeError(runtime: NodeRuntime, bucket: number, error: unknown): QmtlError {
  const message = error instanceof Error ? error.message : String(error);
  return new QmtlError(
    ErrorCode.ComputeFailed,
    `node ${quote(runtime.node.name)} (${shortId(runtime.id)}) failed computing bucket ${formatTime(bucket)}: ${message}`,
    { cause: error },
  );
}
