import { ErrorCode, QmtlError, quote, shortId } from '../../common/errors.js';
import type { SeriesRing } from '../cache/series-ring.js';
import type { Edge, NodeRuntime } from '../runner/node-runtime.js';
import { CrossingTap } from './crossing-tap.js';
import { RuntimeFacade, type ProcessTracker } from './runtime-facade.js';

/** What the stage-1 engine tells the pipeline while it runs a tick. */
export interface StageHooks {
  /** An offloaded node is ready to compute its current bucket (`runtime.view.time`). */
  submit(runtime: NodeRuntime): void;
  /** A stage-1 node emitted a value that stage-2 nodes consume; `from` emits it to them only. */
  cross(from: NodeRuntime, bucket: number, value: unknown): void;
  /** A stage-1 node had no output for `bucket`; the rings of its stage-2 consumers must learn it. */
  crossEmpty(rings: readonly SeriesRing[], bucket: number): void;
}

/** How a run splits into the stage the main thread runs ahead (1) and the stage behind the pool (2). */
export interface StagePlan {
  /** Nodes the pool computes: pure nodes with a `worker` that no other such node feeds. */
  readonly offloaded: readonly NodeRuntime[];
  /** Nodes downstream of an offloaded node: stage 2, run in bucket order as results arrive. */
  readonly stageTwo: ReadonlySet<NodeRuntime>;
  /**
   * The stage-1 engine's order (indexed by rank, like the graph's): offloaded nodes submit their
   * bucket instead of computing it, and nodes feeding stage 2 hand those values to the hooks.
   */
  readonly stageOneOrder: readonly NodeRuntime[];
  /** The rank of the stage-1 node processed last: where in a tick stage 1 failed. */
  readonly tracker: ProcessTracker;
}

/**
 * Which nodes the pool computes and which run behind it. A node with a `worker` downstream of
 * another one computes inline in stage 2 (its inputs only exist there).
 */
export function splitStages(order: readonly NodeRuntime[]): Pick<StagePlan, 'offloaded' | 'stageTwo'> {
  const offloaded = new Set<NodeRuntime>();
  const stageTwo = new Set<NodeRuntime>();
  // Topological order: every parent is classified before its children.
  for (const runtime of order) {
    if (runtime.node.worker !== null) {
      checkPure(runtime);
      if (!stageTwo.has(runtime)) offloaded.add(runtime);
    }
    if (offloaded.has(runtime) || stageTwo.has(runtime))
      for (const edge of runtime.children) stageTwo.add(edge.target);
  }
  return { offloaded: [...offloaded], stageTwo };
}

/** Splits the graph for a parallel replay and builds the stage-1 engine's order around `hooks`. */
export function planStages(order: readonly NodeRuntime[], hooks: StageHooks): StagePlan {
  const { offloaded, stageTwo } = splitStages(order);
  const tracker = { rank: -1 };
  const stageOneOrder = order.map((runtime) => {
    if (offloaded.includes(runtime)) return submitting(runtime, hooks, tracker);
    return stageTwo.has(runtime) ? runtime : tapped(runtime, stageTwo, hooks, tracker);
  });
  return { offloaded, stageTwo, stageOneOrder, tracker };
}

/** The offloaded node as stage 1 sees it: warm-up and gaps as usual, then a submitted task instead of a compute. */
function submitting(runtime: NodeRuntime, hooks: StageHooks, tracker: ProcessTracker): NodeRuntime {
  return new RuntimeFacade(runtime, {
    tracker,
    evaluator: () => {
      hooks.submit(runtime);
      return null;
    },
    // Its outputs reach its consumers in stage 2, where the "no output" counted here is settled.
    children: [],
    dropWrites: ['emptyOutputs'],
  });
}

/** A stage-1 node; its edges into stage 2, if any, are replaced by one tap that records what they would carry. */
function tapped(
  runtime: NodeRuntime,
  stageTwo: ReadonlySet<NodeRuntime>,
  hooks: StageHooks,
  tracker: ProcessTracker,
): NodeRuntime {
  const crossing: Edge[] = runtime.children.filter((edge) => stageTwo.has(edge.target));
  if (crossing.length === 0) return new RuntimeFacade(runtime, { tracker });
  const local = runtime.children.filter((edge) => !stageTwo.has(edge.target));
  const replayFrom = new RuntimeFacade(runtime, { children: crossing, redelivery: true });
  const rings = crossing.map((edge) => edge.ring);
  const tap = new CrossingTap(
    (bucket, value) => hooks.cross(replayFrom, bucket, value),
    (bucket) => hooks.crossEmpty(rings, bucket),
  );
  const sink = new RuntimeFacade(runtime, { dropWrites: ['rejected'] });
  return new RuntimeFacade(runtime, { tracker, children: [...local, { target: sink, ring: tap }] });
}

function checkPure(runtime: NodeRuntime): void {
  if (runtime.evaluator === runtime.node.computeFn && runtime.observer === null) return;
  throw new QmtlError(
    ErrorCode.InvalidNode,
    `node ${quote(runtime.node.name)} (${shortId(runtime.id)}) sets worker ${quote(runtime.node.worker)}, but it computes through a stateful evaluator, not its computeFn alone; only a pure computeFn can run on workers`,
  );
}
