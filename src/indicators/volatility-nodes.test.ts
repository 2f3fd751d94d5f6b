import { describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import type { Node } from '../sdk/node.js';
import { ATR } from './atr.js';
import { BollingerBands, type Bands } from './bollinger-bands.js';
import { ChandelierExit } from './chandelier-exit.js';
import type { PriceBar, StreamingIndicator } from './indicator.js';
import { randomBars } from './indicator-contract.test-kit.js';
import type { IndicatorNode } from './indicator-node.js';
import { KeltnerChannel } from './keltner-channel.js';
import { sma } from './node-factories.js';
import { SMA } from './sma.js';
import { SuperTrend } from './supertrend.js';
import { atr, bollingerBands, chandelierExit, keltnerChannel, supertrend } from './volatility-nodes.js';
import { INTERVAL, runNodes, stream } from './indicator-node.test-kit.js';

/** OHLCV rows, bar k (0-based) at ts (k + 1)·60, from seeded random bars. */
const rowsOf = (count: number): HistoryRow[] =>
  randomBars(count, 17).map(({ open, high, low, close, volume }, k) => ({
    ts: (k + 1) * INTERVAL,
    open,
    high,
    low,
    close,
    volume,
  }));

const rows = rowsOf(80);
/** The same bars as the indicators see them: prices plus the bucket timestamp. */
const bars: PriceBar[] = rows.map((row) => ({
  open: row['open'] as number,
  high: row['high'] as number,
  low: row['low'] as number,
  close: row['close'] as number,
  volume: row['volume'] as number,
  time: row.ts,
}));

/** What `indicator` returns when fed `inputs` directly, as [ts, result] for every non-null result. */
function direct<In, Out>(
  indicator: StreamingIndicator<In, Out>,
  inputs: readonly In[],
): Array<[number, Out]> {
  const out: Array<[number, Out]> = [];
  inputs.forEach((x, k) => {
    const value = indicator.update(x);
    if (value !== null) out.push([rows[k]!.ts, value]);
  });
  return out;
}

/** Backtests `stream(history) → make(stream) [→ after(node)]` and returns the last node's outputs. */
const run = <T>(
  history: readonly HistoryRow[],
  make: (source: Node) => IndicatorNode,
  after?: (node: IndicatorNode) => IndicatorNode,
) =>
  runNodes<T>(history, (source) => {
    const node = make(source);
    return after === undefined ? [node] : [node, after(node)];
  });

describe('volatility indicator nodes in a backtest', () => {
  it('bollingerBands emits what BollingerBands returns for the closes, from bar period', async () => {
    const outputs = await run<Bands>(rows, (price) =>
      bollingerBands(price, { period: 10, multiplier: 1.5, field: 'close' }),
    );
    expect(outputs).toEqual(
      direct(
        new BollingerBands(10, 1.5),
        bars.map((bar) => bar.close),
      ),
    );
    expect(outputs[0]![0]).toBe(10 * INTERVAL);
    expect(outputs).toHaveLength(71);
    expect(Object.isFrozen(outputs[0]![1])).toBe(true);
  });

  it('atr emits what ATR returns for the bars, from bar period', async () => {
    const outputs = await run<number>(rows, (price) => atr(price));
    expect(outputs).toEqual(direct(new ATR(14), bars));
    expect(outputs[0]![0]).toBe(14 * INTERVAL);
  });

  it('chandelierExit emits what ChandelierExit returns for the bars', async () => {
    const outputs = await run(rows, (price) => chandelierExit(price, { period: 5, multiplier: 2 }));
    expect(outputs).toEqual(direct(new ChandelierExit(5, 2), bars));
    expect(outputs[0]![0]).toBe(5 * INTERVAL);
  });

  it('keltnerChannel emits what KeltnerChannel returns for the bars, from the longer period', async () => {
    const outputs = await run(rows, (price) => keltnerChannel(price, { emaPeriod: 8, atrPeriod: 12 }));
    expect(outputs).toEqual(direct(new KeltnerChannel(8, 12, 2), bars));
    expect(outputs[0]![0]).toBe(12 * INTERVAL);
    expect(await run(rows, (price) => keltnerChannel(price))).toEqual(direct(new KeltnerChannel(), bars));
  });

  it('supertrend emits what SuperTrend returns for the bars, flips included', async () => {
    const outputs = await run<{ value: number; direction: number }>(rows, (price) =>
      supertrend(price, { period: 4, multiplier: 1 }),
    );
    expect(outputs).toEqual(direct(new SuperTrend(4, 1), bars));
    expect(new Set(outputs.map(([, result]) => result.direction))).toEqual(new Set([1, -1]));
  });

  it('reads renamed fields', async () => {
    const renamed = rows.map(({ high, low, close, ...rest }) => ({ ...rest, h: high, l: low, last: close }));
    const fields = { high: 'h', low: 'l', close: 'last' };
    expect(await run(renamed, (price) => supertrend(price, { fields }))).toEqual(
      await run(rows, (price) => supertrend(price)),
    );
    expect(await run(renamed, (price) => atr(price, { period: 5, fields }))).toEqual(
      direct(new ATR(5), bars),
    );
    expect(await run(renamed, (price) => bollingerBands(price, { period: 5, field: 'last' }))).toEqual(
      direct(
        new BollingerBands(5),
        bars.map((bar) => bar.close),
      ),
    );
  });

  it('feeds one band to a downstream indicator with field', async () => {
    const outputs = await run<number>(
      rows,
      (price) => bollingerBands(price, { period: 10, field: 'close' }),
      (bands) => sma(bands, { period: 3, field: 'upper' }),
    );
    const average = new SMA(3);
    const expected = direct(
      new BollingerBands(10),
      bars.map((bar) => bar.close),
    ).flatMap(([ts, bands]): Array<[number, number]> => {
      const value = average.update(bands.upper);
      return value === null ? [] : [[ts, value]];
    });
    expect(outputs).toEqual(expected);
    expect(outputs).toHaveLength(80 - 10 + 1 - 2);
  });
});

describe('volatility indicator node identity', () => {
  const price = stream([], ['BTC']);

  it('gives the same NodeID for the same params, defaults included', () => {
    expect(bollingerBands(price, { field: 'close' }).nodeId).toBe(
      bollingerBands(price, { period: 20, multiplier: 2, field: 'close' }).nodeId,
    );
    expect(atr(price).nodeId).toBe(atr(price, { period: 14 }).nodeId);
    expect(chandelierExit(price).nodeId).toBe(chandelierExit(price, { period: 22, multiplier: 3 }).nodeId);
    expect(keltnerChannel(price).nodeId).toBe(
      keltnerChannel(price, { emaPeriod: 20, atrPeriod: 10, multiplier: 2 }).nodeId,
    );
    expect(supertrend(price).nodeId).toBe(supertrend(price, { period: 10, multiplier: 3 }).nodeId);
  });

  it('gives distinct NodeIDs for distinct params, fields and indicators', () => {
    const ids = [
      bollingerBands(price, { field: 'close' }),
      bollingerBands(price, { period: 21, field: 'close' }),
      bollingerBands(price, { multiplier: 2.5, field: 'close' }),
      bollingerBands(price, { field: 'open' }),
      atr(price),
      atr(price, { period: 15 }),
      atr(price, { fields: { close: 'last' } }),
      chandelierExit(price),
      chandelierExit(price, { period: 14 }),
      chandelierExit(price, { multiplier: 2 }),
      keltnerChannel(price),
      keltnerChannel(price, { emaPeriod: 21 }),
      keltnerChannel(price, { atrPeriod: 11 }),
      keltnerChannel(price, { multiplier: 1 }),
      // Swapping the two periods must not give the same node.
      keltnerChannel(price, { emaPeriod: 10, atrPeriod: 20 }),
      keltnerChannel(price, { emaPeriod: 20, atrPeriod: 10, multiplier: 3 }),
      supertrend(price),
      supertrend(price, { period: 7 }),
      supertrend(price, { multiplier: 2 }),
    ].map((node) => node.nodeId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('puts the params in the node and takes the warm-up length as its period', () => {
    expect(keltnerChannel(price, { emaPeriod: 5, atrPeriod: 9 }).params).toMatchObject({
      indicator: 'KeltnerChannel',
      emaPeriod: 5,
      atrPeriod: 9,
      multiplier: 2,
      fields: null,
    });
    expect(bollingerBands(price, { field: 'close' }).params).toMatchObject({
      indicator: 'BollingerBands',
      period: 20,
      multiplier: 2,
      field: 'close',
    });
    expect(keltnerChannel(price, { emaPeriod: 5, atrPeriod: 9 }).period).toBe(9);
    expect(supertrend(price).period).toBe(10);
    expect(chandelierExit(price).period).toBe(22);
    expect(atr(price).name).toBe('atr_14');
    expect(supertrend(price, { name: 'trend' }).name).toBe('trend');
  });
});

describe('volatility indicator node options', () => {
  const price = stream([]);

  it('rejects bad params at construction, naming the indicator, parameter and value', () => {
    const invalid = expect.objectContaining({ code: ErrorCode.InvalidArgument });
    expect(() => bollingerBands(price, { period: 0 })).toThrow(invalid);
    expect(() => bollingerBands(price, { multiplier: -1 })).toThrow(
      'BollingerBands multiplier must be a positive finite number, got -1',
    );
    expect(() => atr(price, { period: 1.5 })).toThrow('ATR period must be a positive integer, got 1.5');
    expect(() => chandelierExit(price, { multiplier: 0 })).toThrow(/ChandelierExit multiplier .* got 0/);
    expect(() => keltnerChannel(price, { atrPeriod: 0 })).toThrow(/KeltnerChannel atr period .* got 0/);
    expect(() => supertrend(price, { period: -2 })).toThrow(invalid);
  });

  it('takes field for bollingerBands and fields for the bar indicators, not the other way round', () => {
    expect(() => atr(price, { field: 'close' })).toThrow(/atr\(\): reads the bar fields high, low, close/);
    expect(() => bollingerBands(price, { fields: { close: 'last' } })).toThrow(/use field, not fields/);
    expect(() => supertrend(price, { fields: { volume: 'qty' } })).toThrow(/fields\.volume is not read/);
  });

  it('fails the run naming the node and the field when a bar lacks high', async () => {
    const withoutHigh = rows.map(({ high: _high, ...rest }) => rest);
    const error = await run(withoutHigh, (source) => atr(source, { period: 3 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).message).toMatch(/node "atr_3" .*field "high" of .* is not a number/s);
  });
});
