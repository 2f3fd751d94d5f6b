import { describe, expect, it } from 'vitest';
import { ErrorCode, type QmtlError } from '../common/errors.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import { ProcessingNode } from '../sdk/processing-node.js';
import { Runner } from '../sdk/runner/runner.js';
import type { StreamInput } from '../sdk/stream-input.js';
import { Strategy } from '../sdk/strategy.js';
import { GarchGenerator } from './garch.js';
import { GarchHistoryProvider } from './garch-history-provider.js';
import { GeneratedHistoryProvider } from './generated-history-provider.js';
import { garchInput, hestonInput, roughBergomiInput } from './generator-inputs.js';
import { HestonGenerator } from './heston.js';
import type { BarGenerator } from './ohlcv-bar.js';
import { RoughBergomiGenerator } from './rough-bergomi.js';
import { errorOf } from './statistics.test-kit.js';

/** A multiple of 3,600, so it is aligned to every interval used here. */
const START = 1_699_999_200;

interface Case {
  readonly kind: string;
  readonly interval: number;
  readonly input: (options: Record<string, unknown>) => StreamInput;
  readonly generator: (options: Record<string, unknown>) => BarGenerator & { bars(n: number): unknown[] };
  /** One changed value for every model option, to show each one reaches the NodeID. */
  readonly variations: Record<string, unknown>;
}

// The factories take typed options; the table passes plain records through them.
type AnyOptions = never;
const CASES: readonly Case[] = [
  {
    kind: 'garch',
    interval: 60,
    input: (options) => garchInput(options as AnyOptions),
    generator: (options) => new GarchGenerator(options as AnyOptions),
    variations: {
      startPrice: 101,
      mu: 1e-5,
      omega: 2e-6,
      alpha: 0.06,
      beta: 0.89,
      stepsPerBar: 3,
      baseVolume: 10,
    },
  },
  {
    kind: 'heston',
    interval: 3_600,
    input: (options) => hestonInput(options as AnyOptions),
    generator: (options) => new HestonGenerator(options as AnyOptions),
    variations: {
      startPrice: 101,
      mu: 0.05,
      v0: 0.05,
      kappa: 3,
      theta: 0.05,
      xi: 0.4,
      rho: -0.5,
      stepsPerBar: 3,
      baseVolume: 10,
    },
  },
  {
    kind: 'rough_bergomi',
    interval: 300,
    input: (options) => roughBergomiInput(options as AnyOptions),
    generator: (options) => new RoughBergomiGenerator(options as AnyOptions),
    variations: {
      startPrice: 101,
      mu: 0.05,
      xi0: 0.05,
      eta: 1.5,
      hurst: 0.2,
      rho: -0.5,
      stepsPerBar: 3,
      baseVolume: 10,
      kernelSteps: 100,
    },
  },
];

/** A strategy that reads the stream's close and emits the bar's log return. */
function logReturnStrategy(price: StreamInput): { strategy: Strategy; returns: ProcessingNode } {
  const returns = new ProcessingNode({
    name: 'log_return',
    input: [price],
    interval: price.interval!,
    computeFn: (view) => {
      const bar = view.input<HistoryRow>(0).latest()!;
      return Math.log((bar['close'] as number) / (bar['open'] as number));
    },
  });
  const strategy = new (class LogReturn extends Strategy {
    setup(): void {
      this.addNodes([price, returns]);
    }
  })({ defaultPeriod: 1 });
  return { strategy, returns };
}

it("names a GARCH input's source as GarchHistoryProvider does", () => {
  const placement = { seed: 3, start: START, bars: 10, interval: 60 };
  expect(garchInput(placement).source).toBe(new GarchHistoryProvider(placement).sourceId);
});

describe.each(CASES)('$kind input', ({ kind, interval, input, generator, variations }) => {
  const base = { seed: 7, start: START, bars: 400, interval };
  const modelOptions = (options: Record<string, unknown>): Record<string, unknown> =>
    kind === 'garch' ? { seed: options['seed'] } : { seed: options['seed'], interval };

  it('is a StreamInput on the interval grid whose history is the generator bars', async () => {
    const stream = input({ ...base, interval: `${interval / 60}m`, period: 5, tags: ['SIM', kind] });
    expect([stream.name, stream.interval, stream.period, stream.tags]).toEqual([
      kind,
      interval,
      5,
      ['SIM', kind],
    ]);
    expect(stream.historyProvider).toBeInstanceOf(GeneratedHistoryProvider);
    const rows = await stream.historyProvider!.fetch(START, START + 400 * interval, {
      nodeId: stream.nodeId,
      interval,
    });
    const bars = generator(modelOptions(base)).bars(400);
    expect(rows).toEqual(bars.map((bar, k) => ({ ts: START + k * interval, ...(bar as object) })));
    expect(input({ ...base, name: 'sim' }).name).toBe('sim');
  });

  it('has a NodeID that changes with the seed, start and every model option, but not with bars', () => {
    const id = input(base).nodeId;
    expect(input(base).nodeId).toBe(id);
    expect(input({ ...base, bars: 10 }).nodeId).toBe(id);
    const changed = [
      input({ ...base, seed: 8 }),
      input({ ...base, start: START + 3_600 }),
      input({ ...base, interval: interval * 2 }),
      ...Object.entries(variations).map(([key, value]) => input({ ...base, [key]: value })),
    ].map((stream) => stream.nodeId);
    expect(new Set([id, ...changed]).size).toBe(changed.length + 1);
    expect(input(base).source).toMatch(new RegExp(`^${kind.replace('_', '-')}:\\{`));
  });

  it('replays its bars in a backtest, end to end', async () => {
    const stream = input(base);
    const { strategy, returns } = logReturnStrategy(stream);
    const result = await Runner.backtest(strategy, {
      startTime: START,
      endTime: START + 399 * interval,
      keepOutputs: 'all',
    });
    const bars = generator(modelOptions(base)).bars(400) as { open: number; close: number }[];
    expect(result.bars).toBe(400);
    expect(result.historyGaps).toEqual([]);
    expect(result.outputs(stream).timestamps()).toEqual(
      Float64Array.from(bars, (_, k) => START + k * interval),
    );
    expect(result.outputs<number>(returns).toArray()).toEqual(
      bars.map((bar, k) => [START + k * interval, Math.log(bar.close / bar.open)]),
    );
  });

  it('rejects bad options, naming every problem at once', () => {
    const error = errorOf<QmtlError>(() =>
      input({ seed: 1.5, start: 1.5, bars: -1, interval: 'soon', stepsPerBar: 0, volume: 3 }),
    );
    expect(error.problems.map((problem) => problem.message)).toEqual([
      expect.stringMatching(/^unknown option "volume" \(known: start, bars, interval, .*stepsPerBar/),
      'interval must look like "60s", "5m", "1h" or "1d", got "soon"',
      'seed must be a safe integer, got 1.5',
      'stepsPerBar must be a positive integer, got 0',
      'start must be an integer number of epoch seconds, got 1.5',
      'bars must be a non-negative integer, got -1',
    ]);
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(() => input({ ...base, start: START + 1 })).toThrow(
      `start must be aligned to interval ${interval} (a multiple of it), got ${START + 1}`,
    );
  });
});
