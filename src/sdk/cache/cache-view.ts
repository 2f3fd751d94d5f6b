import { ErrorCode, QmtlError, quote, shortId } from '../../common/errors.js';
import type { NodeCache } from './node-cache.js';
import type { SeriesWindow } from './series-window.js';

/** Anything that has a node id: a node object, or a node-id string. */
export type NodeRef = { readonly nodeId: string } | string;

/** Options of {@link CacheView}. */
export interface CacheViewOptions<P> {
  /** Name of the node the view belongs to, for error messages. */
  readonly nodeName: string;
  /** Upstream node ids, in declaration order (what `input(k)` indexes). */
  readonly inputs: readonly string[];
  /** The node's interval: the default of `get(node)`. */
  readonly interval: number;
  readonly params: P;
  /** Called on every `get`/`input` read when reads are tracked (`cache_read_total`). */
  readonly onRead?: (upstreamId: string, interval: number) => void;
}

/**
 * The read-only view a compute function receives (SPEC §3.3): windows over the node's cache,
 * the node's `params`, and the bucket being computed. Any write attempt throws.
 *
 * @example
 * const signal = new ProcessingNode({
 *   input: [price, fast],
 *   params: { threshold: 0.001 },
 *   computeFn: (view) => (view.get(fast).latest()! / view.get(price).latest()! - 1 > view.params.threshold ? 1 : 0),
 * });
 */
export class CacheView<P = Record<string, unknown>> {
  readonly #cache: NodeCache;
  readonly #options: CacheViewOptions<P>;
  readonly #windows = new Map<string, SeriesWindow>();
  readonly #byNode = new Map<object, SeriesWindow>();
  readonly #log: Array<[upstreamId: string, interval: number]> | null;
  #time = NaN;

  constructor(cache: NodeCache, options: CacheViewOptions<P>) {
    this.#cache = cache;
    this.#options = options;
    this.#log = options.onRead ? [] : null;
    Object.freeze(this);
  }

  /** The node's parameters (part of its NodeID). */
  get params(): P {
    return this.#options.params;
  }

  /** The bucket timestamp (epoch seconds) being computed. */
  get time(): number {
    return this.#time;
  }

  /** The window over an upstream's series at `interval` (default: the node's interval). */
  get<T = number>(node: NodeRef, interval?: number): SeriesWindow<T> {
    const useDefault = interval === undefined || interval === this.#options.interval;
    if (useDefault && typeof node === 'object' && this.#log === null) {
      const hit = this.#byNode.get(node);
      if (hit) return hit as SeriesWindow<T>;
    }
    const id = typeof node === 'string' ? node : node.nodeId;
    const i = interval ?? this.#options.interval;
    const window = useDefault ? this.#defaultWindow(id) : this.#cache.window(id, i);
    if (!window) throw this.#unknownInput(id, i);
    if (this.#log !== null) {
      this.#log.push([id, i]);
      this.#options.onRead!(id, i);
    } else if (useDefault && typeof node === 'object') {
      this.#byNode.set(node, window);
    }
    return window as SeriesWindow<T>;
  }

  /** The window over the `index`-th declared input (default 0). */
  input<T = number>(index = 0): SeriesWindow<T> {
    const id = this.#options.inputs[index];
    if (id === undefined) {
      throw new QmtlError(ErrorCode.InvalidArgument, `node ${quote(this.#options.nodeName)} has ${this.#options.inputs.length} inputs; input(${index}) does not exist`);
    }
    return this.get<T>(id);
  }

  /** The (upstream id, interval) reads made through this view, when reads are tracked. */
  accessLog(): Array<[upstreamId: string, interval: number]> {
    return [...(this.#log ?? [])];
  }

  /** @internal Sets the bucket being computed; called by the runtime before each compute. */
  setTime(bucket: number): void {
    this.#time = bucket;
  }

  #defaultWindow(id: string): SeriesWindow | null {
    let window = this.#windows.get(id);
    if (!window) {
      const found = this.#cache.window(id, this.#options.interval);
      if (found) this.#windows.set(id, (window = found));
    }
    return window ?? null;
  }

  #unknownInput(id: string, interval: number): QmtlError {
    const inputs = this.#options.inputs.map(shortId).join(', ') || 'none';
    return new QmtlError(
      ErrorCode.UnknownInput,
      `node ${quote(this.#options.nodeName)} has no input ${quote(shortId(id))} at interval ${interval} (its inputs: ${inputs})`,
    );
  }
}
