import { ErrorCode, QmtlError, quote, type Problem } from '../common/errors.js';
import { parseInterval, parsePeriod, type IntervalLike } from '../common/interval.js';
import type { DagJson } from '../dag/node-json.js';
import { topologicalSort } from '../dag/topo-sort.js';
import { Node } from './node.js';
import { rejectUnknownKeys } from './node-options.js';

/** Options of a {@link Strategy}. */
export interface StrategyOptions {
  /** Interval for nodes that set none. */
  readonly defaultInterval?: IntervalLike;
  /** Period for nodes that set none. */
  readonly defaultPeriod?: number;
}

const STRATEGY_OPTION_KEYS = ['defaultInterval', 'defaultPeriod'];

/**
 * A trading strategy: a DAG of nodes wired in `setup()` (SPEC §3.4).
 *
 * @example
 * class Crossover extends Strategy {
 *   constructor() { super({ defaultInterval: '1m', defaultPeriod: 30 }); }
 *   setup() {
 *     const price = new StreamInput({ tags: ['BTC'], historyProvider: provider });
 *     const fast = ema(price, { period: 10, field: 'close' });
 *     this.addNodes([price, fast]);
 *   }
 * }
 */
export abstract class Strategy {
  readonly defaultInterval: number | undefined;
  readonly defaultPeriod: number | undefined;
  #nodes: Node[] = [];
  #prepared = false;

  constructor(options: StrategyOptions = {}) {
    const name = new.target.name || 'Strategy';
    if (typeof options !== 'object' || options === null)
      throw new QmtlError(
        ErrorCode.InvalidStrategy,
        `${name} options must be an object, got ${quote(options)}`,
      );
    rejectUnknownKeys(options, STRATEGY_OPTION_KEYS, name, {
      code: ErrorCode.InvalidStrategy,
      hint: "a node's interval and period are set on the node",
    });
    this.defaultInterval =
      options.defaultInterval === undefined
        ? undefined
        : parseInterval(options.defaultInterval, `${name} defaultInterval`);
    this.defaultPeriod =
      options.defaultPeriod === undefined
        ? undefined
        : parsePeriod(options.defaultPeriod, `${name} defaultPeriod`);
  }

  /** Wires the strategy's nodes with {@link addNodes}. Called once by {@link prepare}. */
  abstract setup(): void;

  /** The strategy's name (its class name). */
  get name(): string {
    return this.constructor.name || 'Strategy';
  }

  /** The nodes added so far, in the order they were added. */
  get nodes(): readonly Node[] {
    return this.#nodes;
  }

  /** Adds nodes to the strategy's DAG; a node added twice is kept once. */
  addNodes(nodes: Node | readonly Node[]): void {
    const list = Array.isArray(nodes) ? nodes : [nodes];
    list.forEach((node, index) => {
      if (!(node instanceof Node)) {
        throw new QmtlError(
          ErrorCode.InvalidStrategy,
          `${this.name}.addNodes: item ${index} is not a node, got ${quote(node)}`,
        );
      }
    });
    for (const node of list as Node[]) if (!this.#nodes.includes(node)) this.#nodes.push(node);
  }

  /**
   * Runs `setup()` once, fills unset intervals and periods from the defaults and checks the DAG;
   * throws one error listing every problem (missing interval/period, inputs that were not added).
   */
  prepare(): this {
    if (this.#prepared) return this;
    this.#runSetup();
    const problems: Problem[] = [];
    for (const node of this.#nodes) {
      for (const conflict of node.applyDefaults(
        { interval: this.defaultInterval, period: this.defaultPeriod },
        this.name,
      ))
        problems.push({ code: ErrorCode.InvalidStrategy, message: conflict });
      if (node.interval === null)
        problems.push({
          code: ErrorCode.InvalidStrategy,
          message: `${node.label}: interval not specified and no defaultInterval set`,
        });
      if (node.period === null)
        problems.push({
          code: ErrorCode.InvalidStrategy,
          message: `${node.label}: period not specified and no defaultPeriod set`,
        });
    }
    for (const node of this.#nodes) {
      for (const input of node.inputs) {
        if (!this.#nodes.includes(input)) {
          problems.push({
            code: ErrorCode.UnknownInput,
            message: `${node.label} references input ${input.label} that was not added to the strategy (add it with addNodes)`,
          });
        }
      }
    }
    if (problems.length > 0)
      throw QmtlError.fromProblems(`strategy ${quote(this.name)} is invalid`, problems);
    this.#nodes = this.#topologicalNodes();
    this.#prepared = true;
    return this;
  }

  /** The strategy's DAG as JSON (SPEC §2.2), nodes in topological order, one entry per NodeID. */
  serialize(): DagJson {
    this.prepare();
    const seen = new Set<string>();
    const nodes = this.#nodes.filter((node) => !seen.has(node.nodeId) && seen.add(node.nodeId));
    return { nodes: nodes.map((node) => node.toJSON()) };
  }

  /** Calls `setup()`; what it throws is raised naming the strategy (the original is the cause). */
  #runSetup(): void {
    try {
      this.setup();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const known = error instanceof QmtlError ? error : null;
      throw new QmtlError(
        known?.code ?? ErrorCode.InvalidStrategy,
        `strategy ${quote(this.name)} setup() failed: ${message}`,
        {
          cause: error,
          ...(known && { problems: known.problems }),
        },
      );
    }
  }

  #topologicalNodes(): Node[] {
    const ids = new Map<Node, string>(this.#nodes.map((node, i) => [node, String(i)]));
    const { order, cycles } = topologicalSort(
      this.#nodes.map((node) => ({ id: ids.get(node)!, inputs: node.inputs.map((n) => ids.get(n)!) })),
    );
    if (cycles.length > 0) {
      const problems = cycles.map((cycle) => ({
        code: ErrorCode.DagCycle,
        message: `cycle: ${cycle.map((i) => this.#nodes[Number(i)]!.label).join(' -> ')}`,
      }));
      throw QmtlError.fromProblems(`strategy ${quote(this.name)} is invalid`, problems);
    }
    return order.map((i) => this.#nodes[Number(i)]!);
  }
}
