import { ErrorCode, QmtlError, quote, type Problem } from '../common/errors.js';
import { canonicalJson } from '../common/hash.js';
import { parseInterval, type IntervalLike } from '../common/interval.js';
import { StreamInput } from '../sdk/stream-input.js';
import { GarchGenerator } from './garch.js';
import {
  GARCH_DEFAULTS,
  resolveGarchOptions,
  type GarchOptions,
  type ResolvedGarchOptions,
} from './garch-options.js';
import { GeneratedHistoryProvider, placementProblems } from './generated-history-provider.js';
import { HestonGenerator } from './heston.js';
import {
  HESTON_DEFAULTS,
  resolveHestonOptions,
  type HestonOptions,
  type ResolvedHestonOptions,
} from './heston-options.js';
import type { BarGenerator } from './ohlcv-bar.js';
import { RoughBergomiGenerator } from './rough-bergomi.js';
import {
  resolveRoughBergomiOptions,
  ROUGH_BERGOMI_DEFAULTS,
  type ResolvedRoughBergomiOptions,
  type RoughBergomiOptions,
} from './rough-bergomi-options.js';

/** What every generator input takes besides the model: the stream's options and its time grid. */
export interface GeneratorInputOptions {
  /** Timestamp of bar 0, epoch seconds, a multiple of the interval. */
  readonly start: number;
  /** Number of bars the stream's history holds; a non-negative integer. */
  readonly bars: number;
  /** Bar interval (`60`, `"1m"`, …); for Heston and rough Bergomi it also sets the model's time step. */
  readonly interval: IntervalLike;
  /** Bars of history needed to warm up downstream nodes (default: the strategy's). */
  readonly period?: number;
  /** Tags of the stream; part of the NodeID. */
  readonly tags?: readonly string[];
  /** Name of the stream node (default `garch`, `heston` or `rough_bergomi`). */
  readonly name?: string;
}

/** Options of {@link garchInput}. */
export interface GarchInputOptions extends GarchOptions, GeneratorInputOptions {}
/** Options of {@link hestonInput}; the model's interval is the stream's. */
export interface HestonInputOptions extends Omit<HestonOptions, 'interval'>, GeneratorInputOptions {}
/** Options of {@link roughBergomiInput}; the model's interval is the stream's. */
export interface RoughBergomiInputOptions
  extends Omit<RoughBergomiOptions, 'interval'>, GeneratorInputOptions {}

/**
 * A StreamInput whose history is a seeded GARCH(1,1) market ({@link GarchGenerator}): bar k is
 * at `start + k·interval`. Its source id holds every option, so each parameter set is its own node.
 *
 * @example
 * const price = garchInput({ seed: 7, start: 1_700_000_040, bars: 10_000, interval: '1m', tags: ['SIM'] });
 * await Runner.backtest(strategyUsing(price), { startTime: 1_700_000_040, endTime: 1_700_600_040 });
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` (or `QMTL_INVALID_INTERVAL`) listing every invalid option.
 */
export function garchInput(options: GarchInputOptions): StreamInput {
  return generatorInput<GarchOptions, ResolvedGarchOptions>(options, {
    kind: 'garch',
    name: 'garch',
    modelKeys: Object.keys(GARCH_DEFAULTS),
    resolve: (model) => resolveGarchOptions(model),
    create: (resolved) => new GarchGenerator(resolved),
  });
}

/**
 * A StreamInput whose history is a seeded Heston market ({@link HestonGenerator}) with the
 * stream's interval as the bar length, so `dt = interval / (stepsPerBar · 365 days)` years.
 *
 * @example
 * const price = hestonInput({ seed: 7, start: 1_699_999_200, bars: 24 * 365, interval: '1h', theta: 0.09 });
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` (or `QMTL_INVALID_INTERVAL`) listing every invalid option.
 */
export function hestonInput(options: HestonInputOptions): StreamInput {
  return generatorInput<Omit<HestonOptions, 'interval'>, ResolvedHestonOptions>(options, {
    kind: 'heston',
    name: 'heston',
    modelKeys: Object.keys(HESTON_DEFAULTS),
    resolve: (model, interval) => resolveHestonOptions({ ...model, interval }),
    create: (resolved) => new HestonGenerator(resolved),
  });
}

/**
 * A StreamInput whose history is a seeded rough Bergomi market ({@link RoughBergomiGenerator})
 * with the stream's interval as the bar length. Replaying n bars costs O(n²) (see the generator
 * for the cost and `kernelSteps`).
 *
 * @example
 * const price = roughBergomiInput({ seed: 7, start: 1_700_000_100, bars: 2_000, interval: '5m', hurst: 0.07 });
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` (or `QMTL_INVALID_INTERVAL`) listing every invalid option.
 */
export function roughBergomiInput(options: RoughBergomiInputOptions): StreamInput {
  return generatorInput<Omit<RoughBergomiOptions, 'interval'>, ResolvedRoughBergomiOptions>(options, {
    kind: 'rough-bergomi',
    name: 'rough_bergomi',
    modelKeys: Object.keys(ROUGH_BERGOMI_DEFAULTS),
    resolve: (model, interval) => resolveRoughBergomiOptions({ ...model, interval }),
    create: (resolved) => new RoughBergomiGenerator(resolved),
  });
}

/** How to build one kind of generator input from its model options `M`. */
interface InputKind<M, R> {
  /** Prefix of the source id. */
  readonly kind: string;
  /** Default name of the stream node. */
  readonly name: string;
  /** The model's option names besides `seed`. */
  readonly modelKeys: readonly string[];
  /** Resolves the model options for bars of `interval` seconds. */
  readonly resolve: (model: M, interval: number) => { options: R; problems: Problem[] };
  readonly create: (resolved: R) => BarGenerator;
}

const INPUT_KEYS = ['start', 'bars', 'interval', 'period', 'tags', 'name'];

function generatorInput<M extends object, R extends object>(
  options: GeneratorInputOptions & M,
  kind: InputKind<M, R>,
): StreamInput {
  const { start, bars, interval, period, tags, name, ...model } = options;
  const problems = unknownKeys(options, [...new Set([...INPUT_KEYS, 'seed', ...kind.modelKeys])]);
  const seconds = intervalSeconds(interval, problems);
  // An unreadable interval is reported once, above; 1 s keeps the other checks meaningful.
  const step = seconds ?? 1;
  // Unknown keys are reported above with every option this input knows; the model sees its own.
  const modelOptions = Object.fromEntries(
    Object.entries(model).filter(([key]) => key === 'seed' || kind.modelKeys.includes(key)),
  );
  const { options: resolved, problems: modelProblems } = kind.resolve(modelOptions as M, step);
  problems.push(...modelProblems, ...placementProblems({ start, bars, interval: step }));
  if (problems.length > 0) throw QmtlError.fromProblems(`Invalid ${kind.kind} input options`, problems);
  const provider = new GeneratedHistoryProvider({
    generator: kind.create(resolved),
    // `bars` is left out: extending the range keeps every existing row, so the source is the same.
    sourceId: `${kind.kind}:${canonicalJson({ ...resolved, start, interval: step })}`,
    start,
    bars,
    interval: step,
  });
  return new StreamInput({
    name: name ?? kind.name,
    interval: step,
    ...(period !== undefined && { period }),
    ...(tags !== undefined && { tags }),
    historyProvider: provider,
  });
}

function unknownKeys(options: object, known: readonly string[]): Problem[] {
  return Object.keys(options)
    .filter((key) => !known.includes(key))
    .map((key) => ({
      code: ErrorCode.InvalidArgument,
      message: `unknown option ${quote(key)} (known: ${known.join(', ')})`,
    }));
}

function intervalSeconds(interval: unknown, problems: Problem[]): number | null {
  try {
    return parseInterval(interval, 'interval');
  } catch (error) {
    if (!(error instanceof QmtlError)) throw error;
    problems.push({ code: error.code, message: error.message });
    return null;
  }
}
