import type { Params } from '../node-options.js';
import type { NodeRuntime } from '../runner/node-runtime.js';
import { declaredInputs, distinctInputs } from '../runner/node-runtime.js';
import { snapshotCache, type RingSnapshot } from './ring-snapshot.js';

/** The global symbol a worker thread sets once tsx is registered in it. */
export const TSX_REGISTERED = Symbol.for('qmtl.tsxRegistered');

/** What a worker thread needs to know of a pure node: where its function is, and its view's shape. */
export interface NodeTask {
  /** Module URL and export name of the compute function. */
  readonly module: string;
  readonly exportName: string;
  readonly nodeId: string;
  readonly nodeName: string;
  readonly period: number;
  /** Declared upstreams in order, as `view.input(k)` indexes them. */
  readonly inputs: readonly { readonly id: string; readonly interval: number }[];
  readonly params: Params;
}

/** One bucket to compute: its time (`view.time`) and the node's cache at that moment. */
export interface BucketSnapshot {
  readonly time: number;
  readonly rings: readonly RingSnapshot[];
}

/** Successive buckets of one node, computed in order by one worker thread. */
export interface BucketBatch extends NodeTask {
  readonly buckets: readonly BucketSnapshot[];
}

/**
 * The outputs of a batch, in order. When a compute threw, `failed` is set, `error` is what it
 * threw, and `outputs` holds the buckets before it.
 */
export interface BatchOutcome {
  readonly outputs: unknown[];
  readonly failed: boolean;
  readonly error?: unknown;
}

/** The node part of the tasks computing `runtime`. */
export function nodeTask(runtime: NodeRuntime): NodeTask {
  return {
    module: runtime.node.worker!.module,
    exportName: runtime.node.worker!.export,
    nodeId: runtime.id,
    nodeName: runtime.node.name,
    period: runtime.period,
    inputs: declaredInputs(runtime.node, distinctInputs(runtime.node)),
    params: runtime.node.params,
  };
}

/** A copy of what `runtime` computes its current bucket (`view.time`) from. */
export function snapshotBucket(runtime: NodeRuntime): BucketSnapshot {
  return { time: runtime.view.time, rings: snapshotCache(runtime.cache) };
}

/** The buffers of a batch's snapshots: moved to the worker rather than copied. */
export function transferList(batch: BucketBatch): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const bucket of batch.buckets) {
    for (const ring of bucket.rings) {
      buffers.push(ring.times.buffer as ArrayBuffer);
      if (ring.numbers !== null) buffers.push(ring.numbers.buffer as ArrayBuffer);
    }
  }
  return buffers;
}
