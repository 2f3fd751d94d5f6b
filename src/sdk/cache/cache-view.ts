import { ErrorCode, QmtlError, quote, shortId } from '../../common/errors.js';
import type { NodeCache } from './node-cache.js';
import type { SeriesWindow } from './series-window.js';

/** Anything that has a node id: a node object, or a node-id string. */
export type NodeRef = { readonly nodeId: string } | string;

/** Options of {@link CacheView}. */
export interface CacheViewOptions<P> {
  /** Name of the node the view belongs to, for error messages. */
  readonly nodeName: string;
  /** Upstreams in declaration order (what `input(k)` indexes), each with its interval. */
  readonly inputs: readonly { readonly id: string; readonly interval: number }[];
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
  readonly #inputWindows: (SeriesWindow | undefined)[] = [];
  readonly #intervals: Map<string, number>;
  readonly #log: Array<[upstreamId: string, interval: number]> | null;
  #time = NaN;

  constructor(cache: NodeCache, options: CacheViewOptions<P>) {
    this.#cache = cache;
    this.#options = options;
    this.#log = options.onRead ? [] : null;
    this.#intervals = new Map(options.inputs.map((input) => [input.id, input.interval]));
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

  /** The window over an upstream's series (by default at that upstream's own interval). */
  get<T = number>(node: NodeRef, interval?: number): SeriesWindow<T> {
    if (interval === undefined && typeof node === 'object' && this.#log === null) {
      const hit = this.#byNode.get(node);
      if (hit) return hit as SeriesWindow<T>;
    }
    const id = typeof node === 'string' ? node : node.nodeId;
    const i = interval ?? this.#intervals.get(id) ?? NaN;
    const useDefault = i === this.#intervals.get(id);
    const window = useDefault ? this.#defaultWindow(id, i) : this.#cache.window(id, i);
    if (!window) throw this.#unknownInput(id, i);
    if (this.#log !== null) {
      this.#log.push([id, i]);
      this.#options.onRead!(id, i);
    } else if (interval === undefined && typeof node === 'object') {
      this.#byNode.set(node, window);
    }
    return window as SeriesWindow<T>;
  }

  /** The window over the `index`-th declared input (default 0). */
  input<T = number>(index = 0): SeriesWindow<T> {
    const cached = this.#inputWindows[index];
    if (cached !== undefined) return cached as SeriesWindow<T>;
    const id = this.#options.inputs[index]?.id;
    if (id === undefined) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `node ${quote(this.#options.nodeName)} has ${this.#options.inputs.length} inputs; input(${index}) does not exist`,
      );
    }
    const window = this.get<T>(id);
    if (this.#log === null) this.#inputWindows[index] = window;
    return window;
  }

  /** The (upstream id, interval) reads made through this view, when reads are tracked. */
  accessLog(): Array<[upstreamId: string, interval: number]> {
    return [...(this.#log ?? [])];
  }

  /**
   * @internal The runtime changed the node's inputs (a TagQueryNode's queues came or went):
   * re-reads them and forgets the windows handed out so far.
   */
  inputsChanged(): void {
    this.#intervals.clear();
    for (const input of this.#options.inputs) this.#intervals.set(input.id, input.interval);
    this.#windows.clear();
    this.#byNode.clear();
    this.#inputWindows.length = 0;
  }

  /** @internal Sets the bucket being computed; called by the runtime before each compute. */
  setTime(bucket: number): void {
    this.#time = bucket;
  }

  #defaultWindow(id: string, interval: number): SeriesWindow | null {
    let window = this.#windows.get(id);
    if (!window) {
      const found = this.#cache.window(id, interval);
      if (found) this.#windows.set(id, (window = found));
    }
    return window ?? null;
  }

  #unknownInput(id: string, interval: number): QmtlError {
    const inputs =
      this.#options.inputs.map((input) => `${shortId(input.id)}@${input.interval}s`).join(', ') || 'none';
    const at = Number.isNaN(interval) ? '' : ` at interval ${interval}`;
    return new QmtlError(
      ErrorCode.UnknownInput,
      `node ${quote(this.#options.nodeName)} has no input ${quote(shortId(id))}${at} (its inputs: ${inputs})`,
    );
  }
}
