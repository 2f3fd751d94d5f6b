import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { sha256Hex } from '../common/hash.js';
import type { IntervalLike } from '../common/interval.js';
import type { CacheView } from '../sdk/cache/cache-view.js';
import type { SeriesWindow } from '../sdk/cache/series-window.js';
import type { Evaluator, Node } from '../sdk/node.js';
import { ProcessingNode } from '../sdk/processing-node.js';
import type { StreamingIndicator } from './indicator.js';

/** Options every indicator node factory accepts. */
export interface IndicatorNodeOptions {
  /** Field to read from record payloads, e.g. `'close'` for OHLCV bars. Omit for numeric inputs. */
  readonly field?: string;
  /** Default: the source's interval (or the strategy default). */
  readonly interval?: IntervalLike;
  readonly name?: string;
  readonly tags?: readonly string[];
}

/** How to build one kind of indicator node. */
export interface IndicatorDefinition<P extends Record<string, number>> {
  /** Indicator name, e.g. `'EMA'`. */
  readonly indicator: string;
  /** The class whose source text is part of the node's code hash. */
  readonly indicatorClass: abstract new (...args: never[]) => StreamingIndicator;
  readonly create: (params: P) => StreamingIndicator;
}

type IndicatorParams = Record<string, string | number | null>;

/**
 * A node that runs a streaming indicator over one input (SPEC §6): O(1) per bar, with the
 * indicator's state kept per run. Its params (indicator name, periods, field) are part of the
 * NodeID, so `ema(price, { period: 10 })` and `ema(price, { period: 20 })` are different nodes
 * while two strategies' `ema(price, { period: 10 })` are one. Its period is the indicator's
 * warm-up length, so it emits from the first bar the indicator is warm.
 */
export class IndicatorNode extends ProcessingNode<IndicatorParams> {
  static override readonly nodeType: string = 'IndicatorNode';
  readonly #definition: IndicatorDefinition<Record<string, number>>;
  readonly #indicatorParams: Record<string, number>;

  constructor(
    definition: IndicatorDefinition<Record<string, number>>,
    source: Node,
    params: Record<string, number>,
    options: IndicatorNodeOptions,
  ) {
    const what = `${definition.indicator.toLowerCase()}()`;
    if (options.field !== undefined && (typeof options.field !== 'string' || options.field === '')) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: field must be a non-empty string, got ${quote(options.field)}`,
      );
    }
    const indicator = definition.create(params);
    const interval = options.interval ?? source?.interval ?? undefined;
    super({
      input: source,
      name: options.name ?? `${definition.indicator.toLowerCase()}_${Object.values(params).join('_')}`,
      period: indicator.warmupPeriod,
      params: { indicator: definition.indicator, ...params, field: options.field ?? null },
      ...(interval != null && { interval }),
      ...(options.tags !== undefined && { tags: options.tags }),
    });
    this.#definition = definition;
    this.#indicatorParams = params;
  }

  override createEvaluator(): Evaluator {
    const indicator = this.#definition.create(this.#indicatorParams);
    return indicatorEvaluator(indicator, fieldReader(this.params.field as string | null, this.name));
  }

  protected override computeCodeHash(): string {
    const indicatorSource = Function.prototype.toString.call(this.#definition.indicatorClass);
    return sha256Hex(`${indicatorEvaluator.toString()}\n${indicatorSource}`);
  }
}

/**
 * Feeds each new bar of the input window to the indicator once, and a re-emitted newest bar as a
 * `replace` (late correction). `observe` takes in bars on triggers that do not compute (warm-up,
 * skipped gaps), so no bar is lost however many triggers are skipped. Its source text is part of
 * every indicator node's code hash.
 */
function indicatorEvaluator(indicator: StreamingIndicator, read: (value: unknown) => number): Evaluator {
  let window: SeriesWindow<unknown> | null = null;
  let seen = 0;
  // A trigger with no new bar can only be a late correction of the newest one (one input).
  const takeIn = (view: CacheView<never>): number | null => {
    window ??= view.input<unknown>(0);
    const fresh = window.appended - seen;
    seen += fresh;
    if (fresh === 0) return indicator.replace(read(window.latest()));
    if (fresh === 1) return indicator.update(read(window.latest()));
    for (let k = Math.max(0, window.length - fresh); k < window.length; k++)
      indicator.update(read(window.at(k)));
    return indicator.result;
  };
  return Object.assign((view: CacheView<never>) => takeIn(view), {
    observe: (view: CacheView<never>) => void takeIn(view),
  });
}

function fieldReader(field: string | null, name: string): (value: unknown) => number {
  if (field === null) {
    return (value) => {
      if (typeof value === 'number') return value;
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `indicator node ${quote(name)} received ${quote(value)}; set field (e.g. field: 'close') to read a record`,
      );
    };
  }
  return (value) => {
    const x = (value as Record<string, unknown> | null)?.[field];
    if (typeof x === 'number') return x;
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `indicator node ${quote(name)}: field ${quote(field)} of ${quote(value)} is not a number`,
    );
  };
}
