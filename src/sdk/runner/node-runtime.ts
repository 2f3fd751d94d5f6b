import { ErrorCode, QmtlError } from '../../common/errors.js';
import { NodeCache } from '../cache/node-cache.js';
import { CacheView } from '../cache/cache-view.js';
import type { SeriesRing } from '../cache/series-ring.js';
import type { Evaluator, Node } from '../node.js';
import type { NodeStats } from './node-stats.js';
import type { OutputSeries } from './output-series.js';

/** A node's distinct upstreams, each with its interval: the key of the ring that holds its outputs. */
export function distinctInputs(node: Node): { id: string; interval: number }[] {
  const seen = new Map<string, number>();
  for (const input of node.inputs) if (!seen.has(input.nodeId)) seen.set(input.nodeId, input.interval!);
  return [...seen].map(([id, interval]) => ({ id, interval }));
}

/**
 * What `view.input(k)` indexes: the declared inputs in order, an upstream declared twice (two
 * nodes with one NodeID) at both of its places. Without repeats it is `distinct` itself, the list
 * a TagQueryNode's queue changes update.
 */
export function declaredInputs(
  node: Node,
  distinct: { id: string; interval: number }[],
): readonly { id: string; interval: number }[] {
  if (node.inputs.length === distinct.length) return distinct;
  return node.inputs.map((input) => ({ id: input.nodeId, interval: input.interval! }));
}

/** An edge of the execution graph: the child, and the child's ring that holds this parent's outputs. */
export interface Edge {
  readonly target: NodeRuntime;
  readonly ring: SeriesRing;
}

/**
 * The state one node has during one run: its cache, view, evaluator, edges and counters. One
 * runtime per NodeID, however many strategies contain the node.
 */
export class NodeRuntime {
  readonly node: Node;
  readonly id: string;
  /** Position in the topological order of the run. */
  readonly rank: number;
  readonly interval: number;
  readonly period: number;
  readonly cache: NodeCache;
  readonly view: CacheView<never>;
  readonly evaluator: Evaluator | null;
  /** The evaluator's `observe` hook, for triggers that do not compute. */
  readonly observer: ((view: CacheView<never>) => void) | null;
  /** One ring per distinct upstream, in declaration order. */
  readonly inputRings: SeriesRing[] = [];
  readonly children: Edge[] = [];
  /** Rings that hold at least `period` bars; the node is ready when this equals `inputRings.length`. */
  fullInputs = 0;
  /** Set during a tick when an upstream append opened a gap: [upstream id, expected bucket, actual bucket]. */
  pendingGap: [upstreamId: string, expected: number, actual: number] | null = null;
  /** The bucket after the last one computed: lets aligned, contiguous ticks skip a modulo. */
  nextBucket = NaN;
  outputs: OutputSeries | null = null;
  /**
   * Outputs for buckets at or before this one are computed but not emitted: a node a process takes
   * over re-computes buckets its readers already have (live runs). -Infinity otherwise.
   */
  emitAfter = -Infinity;
  /** Called with every output the node emits (publishing to its topic in live runs), or null. */
  onEmit: ((bucket: number, value: unknown) => void) | null = null;
  /** Strategies of the run that contain this node. */
  strategies = 0;
  /** Node objects across those strategies with this NodeID (a node declared twice counts twice). */
  occurrences = 0;
  computeCalls = 0;
  skips = 0;
  gaps = 0;
  warmupBars = 0;
  corrections = 0;
  rejected = 0;
  emitted = 0;
  emptyOutputs = 0;

  /** The view's inputs: the declared distinct upstreams, or a TagQueryNode's current queues. */
  readonly inputs: { id: string; interval: number }[];

  constructor(node: Node, rank: number, onRead?: (upstreamId: string, interval: number) => void) {
    this.node = node;
    this.id = node.nodeId;
    this.rank = rank;
    this.interval = node.interval!;
    this.period = node.period!;
    this.cache = new NodeCache(this.period);
    const inputs = distinctInputs(node);
    this.inputs = inputs;
    try {
      for (const input of inputs) this.inputRings.push(this.cache.ring(input.id, input.interval));
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `${node.label}: period ${this.period} is too large to hold in memory (${error.message}); a node keeps its last period bars of every input`,
        { cause: error },
      );
    }
    this.view = new CacheView<never>(this.cache, {
      nodeName: node.name,
      inputs: declaredInputs(node, inputs),
      params: node.params as never,
      ...(onRead && { onRead }),
    });
    this.evaluator = node.createEvaluator();
    this.observer = this.evaluator?.observe ?? null;
  }

  /**
   * A queue joins a TagQueryNode's upstreams (SPEC §3.6): its ring starts empty, so the node is
   * back in warm-up until it holds `period` bars. Returns the edge that feeds it.
   */
  addInput(id: string, interval: number): Edge {
    const existing = this.inputs.findIndex((input) => input.id === id);
    if (existing >= 0) return { target: this, ring: this.inputRings[existing]! };
    const ring = this.cache.ring(id, interval);
    this.inputs.push({ id, interval });
    this.inputRings.push(ring);
    this.view.inputsChanged();
    return { target: this, ring };
  }

  /** A queue leaves a TagQueryNode's upstreams: its buffer is dropped. */
  removeInput(id: string): void {
    const index = this.inputs.findIndex((input) => input.id === id);
    if (index < 0) return;
    const { interval } = this.inputs.splice(index, 1)[0]!;
    const ring = this.inputRings.splice(index, 1)[0]!;
    if (ring.count >= this.period) this.fullInputs--;
    this.cache.drop(id, interval);
    this.view.inputsChanged();
  }

  /** Whether every declared upstream holds `period` bars. */
  get ready(): boolean {
    return this.fullInputs === this.inputRings.length;
  }

  /** The counters as a plain object. */
  stats(): NodeStats {
    return {
      nodeId: this.id,
      name: this.node.name,
      nodeType: this.node.nodeType,
      computeCalls: this.computeCalls,
      skips: this.skips,
      gaps: this.gaps,
      warmupBars: this.warmupBars,
      corrections: this.corrections,
      rejected: this.rejected,
      outputs: this.emitted,
      emptyOutputs: this.emptyOutputs,
      strategies: this.strategies,
    };
  }
}
