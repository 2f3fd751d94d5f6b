import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { parseInterval, parsePeriod, type IntervalLike } from '../common/interval.js';
import { codeHash, computeNodeId, objectHash } from '../dag/node-id.js';
import type { NodeJson } from '../dag/node-json.js';
import type { CacheView } from './cache/cache-view.js';
import {
  frozenJsonObject,
  rejectUnknownKeys,
  stringList,
  workerSpec,
  type Params,
  type WorkerSpec,
} from './node-options.js';

export type { Params, WorkerSpec } from './node-options.js';

/**
 * A node's compute function: takes exactly one argument, the read-only {@link CacheView}, and
 * returns the output for the current bucket, or `null`/`undefined` for "no output". It must be
 * pure (no I/O, no hidden state): only its source text, `params`, inputs, interval and period
 * make up the NodeID, so variables it captures from an enclosing scope are invisible to the id.
 */
// Declared through a method signature so Node<SpecificParams> stays assignable to Node<Params>.
export type ComputeFn<P = Params> = { compute(view: CacheView<P>): unknown }['compute'];

/**
 * What the runtime calls for each computed bucket of a node. A stateful evaluator may also have
 * `observe`, called instead on triggers that do not compute (warm-up, or skipped after a gap), so
 * it can take in every bar even when its window is too short to hold them all later.
 */
export type Evaluator = ((view: CacheView<never>) => unknown) & {
  observe?: (view: CacheView<never>) => void;
};

/** Options shared by every node (SPEC §3.1). */
export interface NodeOptions<P extends Params = Params> {
  /** Upstream node(s), in the order the compute function reads them. */
  readonly input?: Node | readonly Node[] | null;
  readonly computeFn?: ComputeFn<P> | null;
  readonly name?: string;
  /** Bar interval: seconds, or `"30s" | "5m" | "1h" | "1d"`. Filled from the strategy default when absent. */
  readonly interval?: IntervalLike;
  /** Bars of history per upstream the node needs before it computes. Filled from the strategy default when absent. */
  readonly period?: number;
  /** Labels; not part of the NodeID (except for sources, whose tags identify the stream). */
  readonly tags?: readonly string[];
  /** Parameters the compute function reads as `view.params`; part of the NodeID. */
  readonly params?: P;
  /** Declared output schema; part of the NodeID. */
  readonly schema?: Record<string, unknown>;
  /**
   * Where worker threads load `computeFn` from when a run has workers (`{ workers: N }`): the
   * module URL and export name of the same function. Not part of the NodeID.
   */
  readonly worker?: WorkerSpec | null;
}

const NODE_OPTION_KEYS = [
  'input',
  'computeFn',
  'name',
  'interval',
  'period',
  'tags',
  'params',
  'schema',
  'worker',
] as const;

/** Bumped whenever any node's identity changes, so cached NodeIDs (which include upstream ids) are recomputed. */
let identityEpoch = 0;

/**
 * The base of every DAG node (SPEC §3.1). A node's identity — and so its NodeID — is its type,
 * the source text of its compute function, its identity config (interval, period, params,
 * upstream NodeIDs) and its schema. Two nodes with the same NodeID compute the same stream, and a
 * run computes them once.
 */
export class Node<P extends Params = Params> {
  /** The `node_type` on the wire; subclasses override it. */
  static readonly nodeType: string = 'Node';

  readonly inputs: readonly Node[];
  readonly computeFn: ComputeFn<P> | null;
  readonly name: string;
  readonly params: Readonly<P>;
  readonly schema: Readonly<Record<string, unknown>>;
  /** Where worker threads load the compute function from, or null (computed on the main thread). */
  readonly worker: WorkerSpec | null;
  #interval: number | null;
  #period: number | null;
  /** The strategy whose defaults set the interval / period; absent when set on the node. */
  readonly #defaultedBy = new Map<'interval' | 'period', string>();
  #tags: string[];
  #cachedId: { epoch: number; id: string; configHash: string } | null = null;
  #codeHash: string | null = null;

  constructor(options: NodeOptions<P> = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${new.target.nodeType} options must be an object, got ${quote(options)}`,
      );
    }
    const what = `${new.target.nodeType}${typeof options.name === 'string' ? ` ${quote(options.name)}` : ''}`;
    rejectUnknownKeys(options, NODE_OPTION_KEYS, what);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name.trim() === '')) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: name must be a non-empty string, got ${quote(options.name)}`,
      );
    }
    this.inputs = normalizeInputs(options.input, what);
    this.computeFn = checkComputeFn(options.computeFn, what);
    this.name = options.name ?? new.target.nodeType;
    this.#interval = options.interval == null ? null : parseInterval(options.interval, `${what}: interval`);
    this.#period = options.period == null ? null : parsePeriod(options.period, `${what}: period`);
    this.#tags = options.tags == null ? [] : stringList(options.tags, 'tags', what);
    this.params = frozenJsonObject<P>(options.params ?? {}, 'params', what);
    this.schema = frozenJsonObject(options.schema ?? {}, 'schema', what);
    this.worker = options.worker == null ? null : workerSpec(options.worker, what);
    if (this.worker !== null && this.computeFn === null) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: worker ${quote(this.worker)} needs a computeFn (the function its module exports), got none`,
      );
    }
    if (this.computeFn === null && this.inputs.length > 1) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: a node without computeFn passes its input through, so it takes at most one input (got ${this.inputs.length})`,
      );
    }
  }

  /** The `node_type` of this node. */
  get nodeType(): string {
    return (this.constructor as typeof Node).nodeType;
  }

  /** Bar interval in seconds, or null until a strategy default fills it. */
  get interval(): number | null {
    return this.#interval;
  }

  /** Bars of history per upstream, or null until a strategy default fills it. */
  get period(): number | null {
    return this.#period;
  }

  /** The node's tags, in the order they were added. */
  get tags(): readonly string[] {
    return this.#tags;
  }

  /** Adds a tag if absent. Changes the NodeID only where tags are part of the identity (sources). */
  addTag(tag: string): this {
    if (typeof tag !== 'string' || tag === '') {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${this.label}: a tag must be a non-empty string, got ${quote(tag)}`,
      );
    }
    if (!this.#tags.includes(tag)) {
      this.#tags = [...this.#tags, tag];
      if (this.tagsAreIdentity) identityEpoch++;
    }
    return this;
  }

  /** sha256 of the compute function's source (SPEC §2.3). */
  get codeHash(): string {
    return (this.#codeHash ??= this.computeCodeHash());
  }

  /** sha256 of the canonical identity config. */
  get configHash(): string {
    return this.#identity().configHash;
  }

  /** sha256 of the canonical schema. */
  get schemaHash(): string {
    return objectHash(this.schema);
  }

  /** The content address of the node (SPEC §2.3). */
  get nodeId(): string {
    return this.#identity().id;
  }

  /** `name` and short id, for messages. */
  get label(): string {
    return `${this.nodeType} ${quote(this.name)}`;
  }

  /** The identity config whose canonical JSON is hashed into `config_hash`. */
  identityConfig(): Record<string, unknown> {
    return {
      interval: this.#interval,
      period: this.#period,
      params: this.params,
      inputs: this.inputs.map((n) => n.nodeId),
    };
  }

  /** The node as DAG JSON (SPEC §2.2). */
  toJSON(): NodeJson {
    return {
      node_id: this.nodeId,
      node_type: this.nodeType,
      name: this.name,
      interval: this.#interval,
      period: this.#period,
      tags: [...this.#tags],
      inputs: this.inputs.map((n) => n.nodeId),
      code_hash: this.codeHash,
      config_hash: this.configHash,
      schema_hash: this.schemaHash,
      pre_warmup: true,
      config: this.identityConfig(),
    };
  }

  /**
   * Fills interval and period left unset from the defaults of `strategy`. A value an earlier
   * strategy's defaults filled is kept (one node object has one identity): a strategy whose
   * default differs gets the conflict back, as a problem message, instead of silently changing
   * the other strategy's node.
   */
  applyDefaults(
    defaults: { interval?: number | undefined; period?: number | undefined },
    strategy: string,
  ): string[] {
    const conflicts: string[] = [];
    this.#interval = this.#withDefault('interval', this.#interval, defaults.interval, strategy, conflicts);
    this.#period = this.#withDefault('period', this.#period, defaults.period, strategy, conflicts);
    return conflicts;
  }

  /** `current`, or `wanted` when unset; a default differing from an earlier strategy's is a conflict. */
  #withDefault(
    key: 'interval' | 'period',
    current: number | null,
    wanted: number | undefined,
    strategy: string,
    conflicts: string[],
  ): number | null {
    if (wanted === undefined) return current;
    if (current === null) {
      this.#defaultedBy.set(key, strategy);
      identityEpoch++;
      return wanted;
    }
    const by = this.#defaultedBy.get(key);
    if (by !== undefined && current !== wanted)
      conflicts.push(defaultConflict(this, key, current, by, wanted));
    return current;
  }

  /**
   * @internal Creates what the runtime calls for each bucket this node computes, fresh for each
   * run (stateful nodes such as indicators keep their state in it). Null = pass the input through.
   */
  createEvaluator(): Evaluator | null {
    return this.computeFn;
  }

  /** The code hash; subclasses whose code is not `computeFn` override this. */
  protected computeCodeHash(): string {
    return codeHash(this.computeFn);
  }

  /** Whether tags are part of this node's identity (sources). */
  protected get tagsAreIdentity(): boolean {
    return false;
  }

  /** Subclasses call this after changing identity state they own. */
  protected identityChanged(): void {
    identityEpoch++;
  }

  #identity(): { id: string; configHash: string } {
    const cached = this.#cachedId;
    if (cached !== null && cached.epoch === identityEpoch) return cached;
    const configHash = objectHash(this.identityConfig());
    const id = computeNodeId({
      nodeType: this.nodeType,
      codeHash: this.codeHash,
      configHash,
      schemaHash: this.schemaHash,
    });
    this.#cachedId = { epoch: identityEpoch, id, configHash };
    return this.#cachedId;
  }
}

function normalizeInputs(input: unknown, what: string): readonly Node[] {
  if (input == null) return Object.freeze([]);
  const list: unknown[] = input instanceof Node ? [input] : Array.isArray(input) ? input : [];
  if (!(input instanceof Node) && !Array.isArray(input)) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: input must be a node or an array of nodes (maps and objects are not accepted), got ${quote(input)}`,
    );
  }
  list.forEach((item, index) => {
    if (!(item instanceof Node)) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: input[${index}] must be a node, got ${quote(item)}`,
      );
    }
  });
  return Object.freeze([...(list as Node[])]);
}

function defaultConflict(node: Node, key: string, value: number, by: string, other: number): string {
  return (
    `${node.label}: ${key} ${value} came from the defaults of strategy ${quote(by)}, so this ` +
    `strategy's default ${key} ${other} cannot apply (one node object has one ${key}: set it on ` +
    'the node, or create the node in setup())'
  );
}

/** Functions whose call does not return their value, by constructor name. */
const NOT_PLAIN_FUNCTIONS = new Map([
  ['AsyncFunction', 'an async function'],
  ['GeneratorFunction', 'a generator function'],
  ['AsyncGeneratorFunction', 'an async generator function'],
]);

function checkComputeFn<P>(fn: unknown, what: string): ComputeFn<P> | null {
  if (fn == null) return null;
  if (typeof fn !== 'function') {
    throw new QmtlError(ErrorCode.InvalidNode, `${what}: computeFn must be a function, got ${quote(fn)}`);
  }
  if (fn.length !== 1) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: computeFn must take exactly one parameter (the CacheView), but it declares ${fn.length}`,
    );
  }
  const kind = NOT_PLAIN_FUNCTIONS.get(fn.constructor.name);
  if (kind !== undefined) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: computeFn must be a synchronous function returning the bucket's value, got ${kind}` +
        ' (its result would be a Promise or an iterator; fetch data with a HistoryProvider or a live feed instead)',
    );
  }
  return fn as ComputeFn<P>;
}
