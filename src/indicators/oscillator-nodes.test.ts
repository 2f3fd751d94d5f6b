import { describe, expect, it } from 'vitest';
import type { HistoryRow } from '../sdk/history/protocols.js';
import type { Node } from '../sdk/node.js';
import { IchimokuCloud } from './ichimoku-cloud.js';
import { randomBars } from './indicator-contract.test-kit.js';
import type { IndicatorNode } from './indicator-node.js';
import { KalmanTrend } from './kalman-trend.js';
import { KDJ } from './kdj.js';
import { ichimokuCloud, kalmanTrend, kdj, stochRsi } from './oscillator-nodes.js';
import { StochRSI } from './stoch-rsi.js';
import { INTERVAL, runNodes, stream, fedDirectly as reference } from './indicator-node.test-kit.js';

/** OHLCV rows one interval apart; bar k (1-based) sits at ts k·60. */
const rowsOf = (count: number, seed = 3): HistoryRow[] =>
  randomBars(count, seed).map(({ time: _time, ...bar }, k) => ({ ...bar, ts: (k + 1) * INTERVAL }));

const close = (row: HistoryRow) => row['close'] as number;
const bar = (row: HistoryRow) => ({
  high: row['high'] as number,
  low: row['low'] as number,
  close: row['close'] as number,
  time: row.ts,
});

/** Backtests `source → make(source)` over every row and returns the indicator node's outputs. */
const run = (rows: readonly HistoryRow[], make: (source: Node) => IndicatorNode) =>
  runNodes<unknown>(rows, (source) => [make(source)]);

describe('oscillator nodes in a backtest', () => {
  const rows = rowsOf(120);

  it('stochRsi emits what StochRSI returns for the same closes, from bar rsiPeriod + stochPeriod', async () => {
    const outputs = await run(rows, (price) =>
      stochRsi(price, { rsiPeriod: 5, stochPeriod: 7, field: 'close' }),
    );
    expect(outputs).toEqual(reference(new StochRSI(5, 7), rows, close));
    expect(outputs[0]![0]).toBe(12 * INTERVAL);
  });

  it('stochRsi reads the field it is given', async () => {
    const outputs = await run(rows, (price) => stochRsi(price, { field: 'open' }));
    expect(outputs).toEqual(reference(new StochRSI(), rows, (row) => row['open'] as number));
    expect(outputs).not.toEqual(reference(new StochRSI(), rows, close));
  });

  it('kdj emits what KDJ returns for the same bars, as frozen records from bar period', async () => {
    const outputs = await run(rows, (price) => kdj(price, { period: 9 }));
    expect(outputs).toEqual(reference(new KDJ(9), rows, bar));
    expect(outputs[0]![0]).toBe(9 * INTERVAL);
    expect(outputs.every(([, value]) => Object.isFrozen(value))).toBe(true);
    expect(new Set(outputs.map(([, value]) => value)).size).toBe(outputs.length);
  });

  it('kdj reads renamed bar fields', async () => {
    const renamed = rows.map(({ close: last, ...row }) => ({ ...row, last }));
    const outputs = await run(renamed, (price) => kdj(price, { fields: { close: 'last' } }));
    expect(outputs).toEqual(reference(new KDJ(), rows, bar));
  });

  it('ichimokuCloud emits what IchimokuCloud returns, from bar 78 with the defaults', async () => {
    const outputs = await run(rows, (price) => ichimokuCloud(price));
    expect(outputs).toEqual(reference(new IchimokuCloud(), rows, bar));
    expect(outputs[0]![0]).toBe(78 * INTERVAL);
    expect(outputs).toHaveLength(120 - 77);
  });

  it('ichimokuCloud passes its look-backs and displacement on', async () => {
    const outputs = await run(rows, (price) =>
      ichimokuCloud(price, { tenkan: 5, kijun: 10, senkouB: 20, displacement: 3 }),
    );
    expect(outputs).toEqual(reference(new IchimokuCloud(5, 10, 20, 3), rows, bar));
  });

  it('kalmanTrend emits what KalmanTrend returns, from the first bar', async () => {
    const outputs = await run(rows, (price) =>
      kalmanTrend(price, { processVariance: 1e-3, measurementVariance: 0.5, field: 'close' }),
    );
    expect(outputs).toEqual(reference(new KalmanTrend(1e-3, 0.5), rows, close));
    expect(outputs[0]![0]).toBe(INTERVAL);
  });
});

describe('oscillator node identity', () => {
  const price = stream([], ['BTC']);

  it('gives the same NodeID for the same params, defaults included', () => {
    expect(stochRsi(price, { field: 'close' }).nodeId).toBe(
      stochRsi(price, { rsiPeriod: 14, stochPeriod: 14, field: 'close' }).nodeId,
    );
    expect(kdj(price).nodeId).toBe(kdj(price, { period: 9 }).nodeId);
    expect(ichimokuCloud(price).nodeId).toBe(
      ichimokuCloud(price, { tenkan: 9, kijun: 26, senkouB: 52, displacement: 26 }).nodeId,
    );
    expect(kalmanTrend(price).nodeId).toBe(kalmanTrend(price, { processVariance: 1e-5 }).nodeId);
  });

  it('gives distinct NodeIDs for distinct params, fields and indicators', () => {
    const ids = [
      stochRsi(price).nodeId,
      stochRsi(price, { rsiPeriod: 7 }).nodeId,
      stochRsi(price, { stochPeriod: 7 }).nodeId,
      stochRsi(price, { field: 'close' }).nodeId,
      kdj(price).nodeId,
      kdj(price, { period: 14 }).nodeId,
      kdj(price, { fields: { close: 'last' } }).nodeId,
      ichimokuCloud(price).nodeId,
      ichimokuCloud(price, { displacement: 0 }).nodeId,
      ichimokuCloud(price, { tenkan: 10 }).nodeId,
      kalmanTrend(price).nodeId,
      kalmanTrend(price, { measurementVariance: 1 }).nodeId,
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('takes the warm-up length as the node period and names the node after its params', () => {
    expect(stochRsi(price).period).toBe(28);
    expect(kdj(price).period).toBe(9);
    expect(ichimokuCloud(price).period).toBe(78);
    expect(kalmanTrend(price).period).toBe(1);
    expect(kdj(price, { period: 5 }).name).toBe('kdj_5');
    expect(stochRsi(price, { name: 'fast' }).name).toBe('fast');
  });

  it('rejects invalid params at construction, naming the indicator and parameter', () => {
    expect(() => stochRsi(price, { stochPeriod: 0 })).toThrow(
      'StochRSI stochPeriod must be a positive integer, got 0',
    );
    expect(() => ichimokuCloud(price, { displacement: -1 })).toThrow(/IchimokuCloud displacement/);
    expect(() => kalmanTrend(price, { measurementVariance: 0 })).toThrow(/KalmanTrend measurementVariance/);
    expect(() => kdj(price, { field: 'close' })).toThrow(/kdj\(\): reads the bar fields high, low, close/);
  });
});
