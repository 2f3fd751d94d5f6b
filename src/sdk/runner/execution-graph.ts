import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { topologicalSort } from '../../dag/topo-sort.js';
import { Node } from '../node.js';
import { StreamInput } from '../stream-input.js';
import type { Strategy } from '../strategy.js';
import { distinctInputs, NodeRuntime, type Edge } from './node-runtime.js';
import { OutputSeries } from './output-series.js';

/** Which nodes keep the series they emit: leaves of each strategy, all, none, or the listed nodes. */
export type KeepOutputs = 'leaves' | 'all' | 'none' | readonly Node[];

/** How much computation sharing saved in one run. */
export interface DedupReport {
  readonly strategies: number;
  /** Nodes summed over every strategy's DAG. */
  readonly nodesInDags: number;
  /** Distinct NodeIDs, each computed once. */
  readonly nodesComputed: number;
  /** Compute calls made. */
  readonly computeCalls: number;
  /** Compute calls the run would have made without sharing, minus those it made. */
  readonly computeCallsSaved: number;
}

/**
 * The union of the strategies' DAGs with one {@link NodeRuntime} per NodeID: a node shared by
 * several strategies (or declared twice) is computed once and its outputs fan out to every
 * consumer.
 */
export class ExecutionGraph {
  /** Runtimes in topological order. */
  readonly order: NodeRuntime[];
  /** Stream inputs, in first-seen order. */
  readonly sources: NodeRuntime[];
  readonly #byId: Map<string, NodeRuntime>;
  readonly #strategies: readonly Strategy[];
  /** Edges removed by {@link detachInputs}, by target, each with its parent. */
  readonly #detached = new Map<NodeRuntime, { parent: NodeRuntime; edge: Edge }[]>();

  constructor(
    strategies: readonly Strategy[],
    keep: KeepOutputs,
    onRead?: (upstreamId: string, interval: number) => void,
    outputLimit = Infinity,
  ) {
    this.#strategies = strategies;
    const canonical = new Map<string, Node>();
    for (const strategy of strategies)
      for (const node of strategy.nodes) {
        const first = canonical.get(node.nodeId);
        if (first === undefined) canonical.set(node.nodeId, node);
        else warnOnOtherProvider(first, node);
      }
    const { order } = topologicalSort(
      [...canonical.values()].map((node) => ({ id: node.nodeId, inputs: node.inputs.map((n) => n.nodeId) })),
    );
    this.order = order.map((id, rank) => new NodeRuntime(canonical.get(id)!, rank, onRead));
    this.#byId = new Map(this.order.map((runtime) => [runtime.id, runtime]));
    for (const runtime of this.order) {
      distinctInputs(runtime.node).forEach(({ id }, index) => {
        this.#byId.get(id)!.children.push({ target: runtime, ring: runtime.inputRings[index]! });
      });
    }
    this.sources = this.order.filter((runtime) => runtime.node instanceof StreamInput);
    for (const strategy of strategies) {
      for (const node of strategy.nodes) this.#byId.get(node.nodeId)!.occurrences++;
      for (const id of new Set(strategy.nodes.map((n) => n.nodeId))) this.#byId.get(id)!.strategies++;
    }
    for (const id of this.#keptIds(keep)) this.#byId.get(id)!.outputs = new OutputSeries(outputLimit);
  }

  /** The runtime of a node (or of the node with the same NodeID), or undefined. */
  runtimeOf(node: Node | string): NodeRuntime | undefined {
    return this.#byId.get(typeof node === 'string' ? node : node.nodeId);
  }

  /**
   * Stops feeding `target` from its upstreams: its outputs come from elsewhere (a topic another
   * process publishes), so it is never computed here. Idempotent.
   */
  detachInputs(target: NodeRuntime): void {
    if (this.#detached.has(target)) return;
    const removed: { parent: NodeRuntime; edge: Edge }[] = [];
    for (const { id } of distinctInputs(target.node)) {
      const parent = this.#byId.get(id)!;
      const index = parent.children.findIndex((edge) => edge.target === target);
      if (index >= 0) removed.push({ parent, edge: parent.children.splice(index, 1)[0]! });
    }
    this.#detached.set(target, removed);
  }

  /** Undoes {@link detachInputs}: `target` is computed from its upstreams again. */
  attachInputs(target: NodeRuntime): void {
    for (const { parent, edge } of this.#detached.get(target) ?? []) parent.children.push(edge);
    this.#detached.delete(target);
  }

  /** Totals of computation sharing. */
  dedupReport(): DedupReport {
    let nodesInDags = 0;
    let computeCalls = 0;
    let withoutSharing = 0;
    for (const strategy of this.#strategies) nodesInDags += strategy.nodes.length;
    for (const runtime of this.order) {
      computeCalls += runtime.computeCalls;
      withoutSharing += runtime.computeCalls * runtime.occurrences;
    }
    return {
      strategies: this.#strategies.length,
      nodesInDags,
      nodesComputed: this.order.length,
      computeCalls,
      computeCallsSaved: withoutSharing - computeCalls,
    };
  }

  #keptIds(keep: KeepOutputs): Set<string> {
    if (keep === 'none') return new Set();
    if (keep === 'all') return new Set(this.#byId.keys());
    if (keep !== 'leaves') return new Set(keep.map((node, index) => this.#keptId(node, index)));
    const leaves = new Set<string>();
    for (const strategy of this.#strategies) {
      const consumed = new Set(strategy.nodes.flatMap((node) => node.inputs.map((n) => n.nodeId)));
      for (const node of strategy.nodes) if (!consumed.has(node.nodeId)) leaves.add(node.nodeId);
    }
    return leaves;
  }

  /** The NodeID of `keepOutputs[index]`, which must be a node of the run. */
  #keptId(node: unknown, index: number): string {
    if (node instanceof Node && this.#byId.has(node.nodeId)) return node.nodeId;
    const what =
      node instanceof Node ? `${node.label}, which is in none of the run's strategies` : quote(node);
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `keepOutputs[${index}] must be a node of the run's strategies, got ${what}`,
    );
  }
}

const warnedProviders = new WeakSet<Node>();

/**
 * Two StreamInputs with one NodeID are one stream, read from the first one's provider. When the
 * other has a different provider object (two in-memory data sets under the same tags and
 * interval, say), its data is silently not read: say so, once per stream.
 */
function warnOnOtherProvider(first: Node, other: Node): void {
  if (!(first instanceof StreamInput) || !(other instanceof StreamInput)) return;
  const [mine, theirs] = [first.historyProvider, other.historyProvider];
  // Providers that name one data source (two CsvHistoryProviders of one file) read the same rows.
  const sameSource = mine?.sourceId !== undefined && mine.sourceId === theirs?.sourceId;
  if (mine === theirs || sameSource || warnedProviders.has(first)) return;
  warnedProviders.add(first);
  logger.warn(
    { node_id: first.nodeId, name: first.name },
    'StreamInputs with one NodeID (same tags, interval and source) have different history providers: ' +
      "only the first one's is read; give each data source its own `source` (or provider sourceId) to keep them apart",
  );
}
