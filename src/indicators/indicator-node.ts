import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { sha256Hex } from '../common/hash.js';
import type { IntervalLike } from '../common/interval.js';
import { packageVersion } from '../common/package-version.js';
import type { CacheView } from '../sdk/cache/cache-view.js';
import type { SeriesWindow } from '../sdk/cache/series-window.js';
import type { Evaluator, Node } from '../sdk/node.js';
import { rejectUnknownKeys } from '../sdk/node-options.js';
import { ProcessingNode } from '../sdk/processing-node.js';
import type { BarField, StreamingIndicator } from './indicator.js';

/** Options every indicator node factory accepts. */
export interface IndicatorNodeOptions {
  /**
   * For indicators of one number per bar: the field to read from record payloads, e.g. `'close'`
   * for OHLCV bars. Omit for numeric inputs.
   */
  readonly field?: string;
  /**
   * For bar indicators (ATR, OBV, …): payload field names when they differ from
   * `open`/`high`/`low`/`close`/`volume`, e.g. `{ close: 'last', volume: 'qty' }`.
   */
  readonly fields?: Partial<Record<BarField, string>>;
  /** Default: the source's interval (or the strategy default). */
  readonly interval?: IntervalLike;
  readonly name?: string;
  readonly tags?: readonly string[];
}

/** Parameter values of an indicator (part of the NodeID). */
export type IndicatorParamValue = number | boolean | string;

/** Any indicator, whatever it reads and returns. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- inputs are checked by the indicator
export type AnyIndicator = StreamingIndicator<any, unknown>;

/** How to build one kind of indicator node. */
export interface IndicatorDefinition<P extends Record<string, IndicatorParamValue>> {
  /** Indicator name, e.g. `'EMA'`. */
  readonly indicator: string;
  /** The class whose source text is part of the node's code hash. */
  readonly indicatorClass: abstract new (...args: never[]) => AnyIndicator;
  readonly create: (params: P) => AnyIndicator;
  /**
   * The bar fields the indicator reads, for bar indicators: each payload becomes a
   * {@link PriceBar} with these fields plus `time` (the bucket timestamp). Omit for indicators of
   * one number per bar.
   */
  readonly reads?: readonly BarField[];
}

type IndicatorParams = Record<string, IndicatorParamValue | null>;

/**
 * A node that runs a streaming indicator over one input (SPEC §6): O(1) per bar, with the
 * indicator's state kept per run. Its params (indicator name, periods, field) are part of the
 * NodeID, so `ema(price, { period: 10 })` and `ema(price, { period: 20 })` are different nodes
 * while two strategies' `ema(price, { period: 10 })` are one. Its period is the indicator's
 * warm-up length, so it emits from the first bar the indicator is warm.
 */
export class IndicatorNode extends ProcessingNode<IndicatorParams> {
  static override readonly nodeType: string = 'IndicatorNode';
  readonly #definition: IndicatorDefinition<Record<string, IndicatorParamValue>>;
  readonly #indicatorParams: Record<string, IndicatorParamValue>;

  constructor(
    definition: IndicatorDefinition<Record<string, IndicatorParamValue>>,
    source: Node,
    params: Record<string, IndicatorParamValue>,
    options: IndicatorNodeOptions,
  ) {
    const snake = snakeCase(definition.indicator);
    const what = `${camelCase(snake)}()`;
    rejectUnknownKeys(options, [...Object.keys(params), ...NODE_OPTION_KEYS], what);
    const input = inputParams(what, definition.reads, options);
    const indicator = definition.create(params);
    const interval = options.interval ?? source?.interval ?? undefined;
    super({
      input: source,
      name: options.name ?? [snake, ...Object.values(params)].join('_'),
      period: indicator.warmupPeriod,
      params: { indicator: definition.indicator, ...params, ...input },
      ...(interval != null && { interval }),
      ...(options.tags !== undefined && { tags: options.tags }),
    });
    this.#definition = definition;
    this.#indicatorParams = params;
  }

  override createEvaluator(): Evaluator {
    const indicator = this.#definition.create(this.#indicatorParams);
    const { reads } = this.#definition;
    const read =
      reads === undefined
        ? fieldReader(this.params['field'] as string | null, this.name)
        : barReader(reads, parseRenames(this.params['fields'] as string | null), this.name);
    return indicatorEvaluator(indicator, read);
  }

  /**
   * The evaluator's and the indicator class's source, and qmtl's version: the class calls helpers
   * (input checks, rolling extremes) whose source is not part of it, so a release that changes
   * one gives its nodes new ids rather than reusing the queues of nodes computed the old way.
   */
  protected override computeCodeHash(): string {
    const indicatorSource = Function.prototype.toString.call(this.#definition.indicatorClass);
    return sha256Hex(`${indicatorEvaluator.toString()}\n${indicatorSource}\nqmtl ${packageVersion()}`);
  }
}

/**
 * Feeds each new bar of the input window to the indicator once, and a re-emitted newest bar as a
 * `replace` (late correction). `observe` takes in bars on triggers that do not compute (warm-up,
 * skipped gaps), so no bar is lost however many triggers are skipped. Its source text is part of
 * every indicator node's code hash.
 */
export function indicatorEvaluator(indicator: AnyIndicator, read: InputReader): Evaluator {
  let window: SeriesWindow<unknown> | null = null;
  let seen = 0;
  // A trigger with no new bar can only be a late correction of the newest one (one input).
  const takeIn = (view: CacheView<never>): unknown => {
    window ??= view.input<unknown>(0);
    const fresh = window.appended - seen;
    seen += fresh;
    const newest = window.length - 1;
    if (fresh === 0) return indicator.replace(read(window, newest));
    if (fresh === 1) return indicator.update(read(window, newest));
    for (let k = Math.max(0, window.length - fresh); k < window.length; k++)
      indicator.update(read(window, k));
    return indicator.result;
  };
  return Object.assign((view: CacheView<never>) => takeIn(view), {
    observe: (view: CacheView<never>) => void takeIn(view),
  });
}

/** Turns the payload at index `k` of the input window (and, for bars, its bucket timestamp) into the indicator's input. */
type InputReader = (window: SeriesWindow<unknown>, k: number) => unknown;

function fieldReader(field: string | null, name: string): InputReader {
  if (field === null) {
    return (window, k) => {
      const value = window.at(k);
      if (typeof value === 'number') return value;
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `indicator node ${quote(name)} received ${quote(value)}; set field (e.g. field: 'close') to read a record`,
      );
    };
  }
  return (window, k) => {
    const value = window.at(k);
    const x = (value as Record<string, unknown> | null)?.[field];
    if (typeof x === 'number') return x;
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `indicator node ${quote(name)}: field ${quote(field)} of ${quote(value)} is not a number`,
    );
  };
}

/** Builds a bar of the `reads` fields (renamed per `renames`) plus `time` from record payloads. */
function barReader(reads: readonly BarField[], renames: Map<BarField, string>, name: string): InputReader {
  const sources = reads.map((field) => [field, renames.get(field) ?? field] as const);
  return (window, k) => {
    const value = window.at(k);
    const time = window.timeAt(k)!;
    const record = value as Record<string, unknown> | null;
    const bar: Record<string, number> = { time };
    for (const [field, source] of sources) {
      const x = typeof record === 'object' && record !== null ? record[source] : undefined;
      if (typeof x !== 'number') {
        throw new QmtlError(
          ErrorCode.InvalidArgument,
          `indicator node ${quote(name)}: field ${quote(source)} of ${quote(value)} is not a number` +
            (source === field ? ` (rename it with fields: { ${field}: '…' })` : ''),
        );
      }
      bar[field] = x;
    }
    return bar;
  };
}

/**
 * The NodeID params describing how inputs are read: `field` for numeric indicators, `fields`
 * (renames as `close:last,volume:qty`, sorted; null when none) for bar indicators.
 */
function inputParams(
  what: string,
  reads: readonly BarField[] | undefined,
  options: IndicatorNodeOptions,
): IndicatorParams {
  const { field, fields } = options;
  if (reads === undefined) {
    if (fields !== undefined) {
      throw new QmtlError(ErrorCode.InvalidNode, `${what}: takes one number per bar; use field, not fields`);
    }
    if (field !== undefined && (typeof field !== 'string' || field === '')) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: field must be a non-empty string, got ${quote(field)}`,
      );
    }
    return { field: field ?? null };
  }
  if (field !== undefined) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: reads the bar fields ${reads.join(', ')}; rename them with fields: { ${reads[0]}: '…' }, not field`,
    );
  }
  if (fields === undefined) return { fields: null };
  if (typeof fields !== 'object' || fields === null) {
    throw new QmtlError(ErrorCode.InvalidNode, `${what}: fields must be an object, got ${quote(fields)}`);
  }
  const renames: string[] = [];
  for (const [key, source] of Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!(reads as readonly string[]).includes(key)) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: fields.${key} is not read by this indicator (it reads ${reads.join(', ')})`,
      );
    }
    if (typeof source !== 'string' || source === '' || /[:,]/.test(source)) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: fields.${key} must be a non-empty field name without ':' or ',', got ${quote(source)}`,
      );
    }
    if (source !== key) renames.push(`${key}:${source}`);
  }
  return { fields: renames.length === 0 ? null : renames.join(',') };
}

function parseRenames(fields: string | null): Map<BarField, string> {
  const renames = new Map<BarField, string>();
  if (fields === null) return renames;
  for (const pair of fields.split(',')) {
    const [field, source] = pair.split(':') as [BarField, string];
    renames.set(field, source);
  }
  return renames;
}

/**
 * Builds an {@link IndicatorNode} with typed params: what every node factory calls.
 * @example
 * export const sma = (source: Node, { period, ...options }: IndicatorNodeOptions & { period: number }) =>
 *   indicatorNode({ indicator: 'SMA', indicatorClass: SMA, create: (p) => new SMA(p.period) }, source, { period }, options);
 */
export function indicatorNode<P extends Record<string, IndicatorParamValue>>(
  definition: IndicatorDefinition<P>,
  source: Node,
  params: P,
  options: IndicatorNodeOptions,
): IndicatorNode {
  return new IndicatorNode(
    definition as unknown as IndicatorDefinition<Record<string, IndicatorParamValue>>,
    source,
    params,
    options,
  );
}

/** What every indicator node factory takes besides its indicator's parameters. */
const NODE_OPTION_KEYS = ['field', 'fields', 'interval', 'name', 'tags'];

/** A factory's `options` argument, checked to be an object (so destructuring it cannot throw a TypeError). */
export function factoryOptions<T>(options: T, what: string): T {
  if (typeof options !== 'object' || options === null) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: options must be an object such as { period: 20 }, got ${quote(options)}`,
    );
  }
  return options;
}

/** `AnchoredVWAP` → `anchored_vwap`, `StochRSI` → `stoch_rsi`: default node names (SPEC §6 names). */
function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** `anchored_vwap` → `anchoredVwap`: the factory's name, for messages. */
function camelCase(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_match, c: string) => c.toUpperCase());
}
