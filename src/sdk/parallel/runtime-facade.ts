import type { NodeCache } from '../cache/node-cache.js';
import type { CacheView } from '../cache/cache-view.js';
import type { SeriesRing } from '../cache/series-ring.js';
import type { Evaluator, Node } from '../node.js';
import type { NodeStats } from '../runner/node-stats.js';
import type { Edge, NodeRuntime } from '../runner/node-runtime.js';
import type { OutputSeries } from '../runner/output-series.js';

/** The counters of a runtime that a facade can drop writes to. */
export type RuntimeCounter = 'emptyOutputs' | 'rejected';

/** What a {@link RuntimeFacade} shows instead of the real runtime's fields. */
export interface FacadeOptions {
  readonly children?: Edge[];
  readonly evaluator?: Evaluator;
  /**
   * The facade's emits re-deliver values the real runtime already emitted: they are not counted,
   * kept or published again.
   */
  readonly redelivery?: boolean;
  /** Counters whose writes are dropped because the pipeline counts them elsewhere. */
  readonly dropWrites?: readonly RuntimeCounter[];
  /** Learns the rank of each node the engine starts processing, so a failure can be placed in rank order. */
  readonly tracker?: ProcessTracker;
}

/** The rank of the node an engine processed last (or is processing). */
export interface ProcessTracker {
  rank: number;
}

/**
 * A stand-in for a runtime that a TickEngine can process or emit from: every counter and flag
 * reads and writes through to the real runtime (so counts, pending gaps and the cache stay one),
 * except the fields replaced in the options and the counters whose writes it drops. Lets the
 * parallel pipeline re-route one node's edges or compute without touching the serial engine or
 * the runtime itself. Implementing {@link NodeRuntime} makes the compiler list any field added
 * to it here.
 */
export class RuntimeFacade implements NodeRuntime {
  readonly node: Node;
  readonly id: string;
  readonly rank: number;
  readonly interval: number;
  readonly period: number;
  readonly cache: NodeCache;
  readonly view: CacheView<never>;
  readonly evaluator: Evaluator | null;
  readonly observer: ((view: CacheView<never>) => void) | null;
  readonly inputRings: SeriesRing[];
  readonly inputs: { id: string; interval: number }[];
  readonly children: Edge[];
  readonly #real: NodeRuntime;
  readonly #redelivery: boolean;
  readonly #drop: ReadonlySet<RuntimeCounter>;
  readonly #tracker: ProcessTracker | null;

  constructor(real: NodeRuntime, options: FacadeOptions) {
    this.#real = real;
    this.node = real.node;
    this.id = real.id;
    this.rank = real.rank;
    this.interval = real.interval;
    this.period = real.period;
    this.cache = real.cache;
    this.view = real.view;
    this.evaluator = options.evaluator ?? real.evaluator;
    this.observer = real.observer;
    this.inputRings = real.inputRings;
    this.inputs = real.inputs;
    this.children = options.children ?? real.children;
    this.#redelivery = options.redelivery ?? false;
    this.#drop = new Set(options.dropWrites ?? []);
    this.#tracker = options.tracker ?? null;
  }

  addInput(id: string, interval: number): Edge {
    return this.#real.addInput(id, interval);
  }

  removeInput(id: string): void {
    this.#real.removeInput(id);
  }

  get outputs(): OutputSeries | null {
    return this.#redelivery ? null : this.#real.outputs;
  }
  set outputs(outputs: OutputSeries | null) {
    this.#real.outputs = outputs;
  }
  get onEmit(): ((bucket: number, value: unknown) => void) | null {
    return this.#redelivery ? null : this.#real.onEmit;
  }
  set onEmit(onEmit: ((bucket: number, value: unknown) => void) | null) {
    this.#real.onEmit = onEmit;
  }
  get fullInputs(): number {
    return this.#real.fullInputs;
  }
  set fullInputs(value: number) {
    this.#real.fullInputs = value;
  }
  /** The engine reads this first when it processes the node (a target's is read on the real runtime). */
  get pendingGap(): [upstreamId: string, expected: number, actual: number] | null {
    if (this.#tracker !== null) this.#tracker.rank = this.rank;
    return this.#real.pendingGap;
  }
  set pendingGap(value: [upstreamId: string, expected: number, actual: number] | null) {
    this.#real.pendingGap = value;
  }
  get emitAfter(): number {
    return this.#real.emitAfter;
  }
  set emitAfter(value: number) {
    this.#real.emitAfter = value;
  }
  get nextBucket(): number {
    return this.#real.nextBucket;
  }
  set nextBucket(value: number) {
    this.#real.nextBucket = value;
  }
  get strategies(): number {
    return this.#real.strategies;
  }
  set strategies(value: number) {
    this.#real.strategies = value;
  }
  get occurrences(): number {
    return this.#real.occurrences;
  }
  set occurrences(value: number) {
    this.#real.occurrences = value;
  }
  get computeCalls(): number {
    return this.#real.computeCalls;
  }
  set computeCalls(value: number) {
    this.#real.computeCalls = value;
  }
  get skips(): number {
    return this.#real.skips;
  }
  set skips(value: number) {
    this.#real.skips = value;
  }
  get gaps(): number {
    return this.#real.gaps;
  }
  set gaps(value: number) {
    this.#real.gaps = value;
  }
  get warmupBars(): number {
    return this.#real.warmupBars;
  }
  set warmupBars(value: number) {
    this.#real.warmupBars = value;
  }
  get corrections(): number {
    return this.#real.corrections;
  }
  set corrections(value: number) {
    this.#real.corrections = value;
  }
  get rejected(): number {
    return this.#real.rejected;
  }
  set rejected(value: number) {
    if (!this.#drop.has('rejected')) this.#real.rejected = value;
  }
  get emitted(): number {
    return this.#real.emitted;
  }
  set emitted(value: number) {
    if (!this.#redelivery) this.#real.emitted = value;
  }
  get emptyOutputs(): number {
    return this.#real.emptyOutputs;
  }
  set emptyOutputs(value: number) {
    if (!this.#drop.has('emptyOutputs')) this.#real.emptyOutputs = value;
  }

  get ready(): boolean {
    return this.#real.ready;
  }

  stats(): NodeStats {
    return this.#real.stats();
  }
}
