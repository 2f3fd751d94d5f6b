import { logger } from '../../common/logger.js';
import type { ExecutionGraph } from '../runner/execution-graph.js';
import { distinctInputs, type Edge, type NodeRuntime } from '../runner/node-runtime.js';
import type { TickEngine } from '../runner/tick-engine.js';

/** The newest `capacity` outputs of a node, oldest first: a fixed ring of (bucket, value). */
export class RecentOutputs {
  readonly capacity: number;
  readonly #buckets: Float64Array;
  readonly #values: unknown[];
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#buckets = new Float64Array(capacity);
    this.#values = new Array<unknown>(capacity);
  }

  push(bucket: number, value: unknown): void {
    this.#buckets[this.#next] = bucket;
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#count < this.capacity) this.#count++;
  }

  /** True when it holds `capacity` outputs: any older ones were dropped to make room. */
  get full(): boolean {
    return this.#count === this.capacity;
  }

  /** The held outputs, oldest first. */
  *entries(): Generator<[bucket: number, value: unknown]> {
    const first = (this.#next - this.#count + this.capacity) % this.capacity;
    for (let k = 0; k < this.#count; k++) {
      const i = (first + k) % this.capacity;
      yield [this.#buckets[i]!, this.#values[i]];
    }
  }
}

/**
 * Buckets a consumed input may run ahead of a consumed node it feeds (its producer is faster
 * than that node's): the buffer keeps them on top of the readers' period.
 */
export const RECENT_LEAD_BUCKETS = 1024;

/**
 * A buffer per consumed node, as long as the largest period of the nodes reading it (detached
 * ones included) plus {@link RECENT_LEAD_BUCKETS}: what a node taken over later is warmed up
 * with. A node is taken over from the bucket after its last published one, while its input may
 * already be many buckets further; every one of those buckets must be computed, each from a full
 * window.
 */
export function recentOutputsOf(
  graph: ExecutionGraph,
  consumed: Iterable<string>,
): Map<string, RecentOutputs> {
  const ids = new Set(consumed);
  const periods = new Map<string, number>();
  for (const runtime of graph.order)
    for (const { id } of distinctInputs(runtime.node))
      if (ids.has(id)) periods.set(id, Math.max(periods.get(id) ?? 0, runtime.period));
  return new Map([...periods].map(([id, period]) => [id, new RecentOutputs(period + RECENT_LEAD_BUCKETS)]));
}

/**
 * Feeds nodes a process takes over the newest outputs it received of their consumed inputs, in
 * bucket order, so they are warm at once (they emit none of those buckets: `emitAfter`). Inputs in
 * `skip` (streams warmed up from their history instead) are left out.
 */
export function replayRecent(
  engine: TickEngine,
  graph: ExecutionGraph,
  promoted: readonly NodeRuntime[],
  recent: ReadonlyMap<string, RecentOutputs>,
  skip: ReadonlySet<string> = new Set(),
): void {
  const entries: { from: string; edge: Edge; bucket: number; value: unknown }[] = [];
  for (const target of promoted) {
    for (const { id } of distinctInputs(target.node)) {
      if (skip.has(id)) continue;
      const edge = graph.runtimeOf(id)?.children.find((e) => e.target === target);
      const buffer = recent.get(id);
      if (edge === undefined || buffer === undefined) continue;
      const held = [...buffer.entries()];
      // The first bucket the target emits needs the `period` outputs up to it.
      const needed = target.emitAfter + edge.ring.interval - (target.period - 1) * edge.ring.interval;
      if (buffer.full && held.length > 0 && held[0]![0] > needed)
        logger.warn(
          { node: target.node.name, input: id, lead_buckets: RECENT_LEAD_BUCKETS },
          'take-over: the input ran further ahead than the outputs kept; the first buckets after the hand-over are missed',
        );
      for (const [bucket, value] of held) entries.push({ from: id, edge, bucket, value });
    }
  }
  entries.sort((a, b) => a.bucket - b.bucket);
  for (let i = 0; i < entries.length;) {
    const bucket = entries[i]!.bucket;
    for (; i < entries.length && entries[i]!.bucket === bucket; i++)
      engine.deliver(entries[i]!.from, entries[i]!.edge, bucket, entries[i]!.value);
    engine.runTick(bucket);
  }
}
