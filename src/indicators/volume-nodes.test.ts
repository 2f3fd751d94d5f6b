import { describe, expect, it } from 'vitest';
import { QmtlError } from '../common/errors.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import type { Node } from '../sdk/node.js';
import { AnchoredVWAP } from './anchored-vwap.js';
import type { PriceBar } from './indicator.js';
import { randomBars } from './indicator-contract.test-kit.js';
import type { IndicatorNode } from './indicator-node.js';
import { OBV } from './obv.js';
import { RoughVolatility } from './rough-volatility.js';
import { anchoredVwap, obv, roughVolatility, vwap } from './volume-nodes.js';
import { VWAP } from './vwap.js';
import { INTERVAL, runNodes, stream, fedDirectly as expected } from './indicator-node.test-kit.js';

/** 80 OHLCV rows one minute apart: bar k (1-based) at ts k·60. */
const ohlcv = (count = 80, seed = 1): HistoryRow[] =>
  randomBars(count, seed).map(({ time: _time, ...bar }, k) => ({ ...bar, ts: (k + 1) * INTERVAL }));

/** The bar an indicator node hands its indicator for `row`: the OHLCV fields plus `time` = ts. */
const barOf = (row: HistoryRow): PriceBar => ({
  open: row['open'] as number,
  high: row['high'] as number,
  low: row['low'] as number,
  close: row['close'] as number,
  volume: row['volume'] as number,
  time: row.ts,
});

/** Backtests `source → make(source)` over every row and returns the indicator node's outputs. */
const runIndicator = (rows: readonly HistoryRow[], make: (source: Node) => IndicatorNode) =>
  runNodes(rows, (source) => [make(source)]);

describe('volume and volatility nodes in a backtest', () => {
  const rows = ohlcv();

  it('obv emits what OBV returns for the same bars, from the first bar', async () => {
    const outputs = await runIndicator(rows, (bars) => obv(bars));
    expect(outputs).toEqual(expected(new OBV(), rows, barOf));
    expect(outputs[0]).toEqual([INTERVAL, 0]);
    expect(outputs).toHaveLength(rows.length);
  });

  it('vwap emits what VWAP returns, rolling and cumulative', async () => {
    expect(await runIndicator(rows, (bars) => vwap(bars, { period: 14 }))).toEqual(
      expected(new VWAP(14), rows, barOf),
    );
    const cumulative = await runIndicator(rows, (bars) => vwap(bars));
    expect(cumulative).toEqual(expected(new VWAP(), rows, barOf));
    expect(cumulative).toHaveLength(rows.length);
  });

  it('anchoredVwap emits nothing before the anchor and what AnchoredVWAP returns from it on', async () => {
    const anchorTime = 30 * INTERVAL;
    const outputs = await runIndicator(rows, (bars) => anchoredVwap(bars, { anchorTime }));
    expect(outputs).toEqual(expected(new AnchoredVWAP(anchorTime), rows, barOf));
    expect(outputs[0]![0]).toBe(anchorTime);
    expect(outputs).toHaveLength(rows.length - 29);
  });

  it('anchoredVwap takes an anchor between bucket timestamps as the next bar', async () => {
    const outputs = await runIndicator(rows, (bars) => anchoredVwap(bars, { anchorTime: 30 * INTERVAL + 1 }));
    expect(outputs[0]![0]).toBe(31 * INTERVAL);
  });

  it('roughVolatility emits what RoughVolatility returns for the closes, from bar period + 1', async () => {
    const outputs = await runIndicator(rows, (bars) => roughVolatility(bars, { period: 10, field: 'close' }));
    expect(outputs).toEqual(expected(new RoughVolatility(10), rows, (row) => row['close'] as number));
    expect(outputs[0]![0]).toBe(11 * INTERVAL);
  });

  it('reads renamed fields', async () => {
    const trades = rows.map(({ close, volume, ...rest }) => ({ ...rest, price: close, qty: volume }));
    expect(
      await runIndicator(trades, (bars) => obv(bars, { fields: { close: 'price', volume: 'qty' } })),
    ).toEqual(await runIndicator(rows, (bars) => obv(bars)));
    expect(
      await runIndicator(trades, (bars) =>
        vwap(bars, { period: 5, fields: { close: 'price', volume: 'qty' } }),
      ),
    ).toEqual(await runIndicator(rows, (bars) => vwap(bars, { period: 5 })));
  });

  it('fails the run naming the node and the indicator’s reason on a negative volume', async () => {
    const bad = rows.map((row, k) => (k === 5 ? { ...row, volume: -3 } : row));
    const error = await runIndicator(bad, (bars) => vwap(bars, { period: 3 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe('QMTL_COMPUTE_FAILED');
    expect((error as QmtlError).message).toMatch(/node "vwap_3" .*VWAP input volume must be ≥ 0, got -3/s);
  });

  it('fails the run naming the node on a price that is not positive', async () => {
    const bad = rows.map((row, k) => (k === 20 ? { ...row, close: 0 } : row));
    const error = await runIndicator(bad, (bars) => roughVolatility(bars, { field: 'close' })).catch(
      (e: unknown) => e,
    );
    expect((error as QmtlError).message).toMatch(
      /node "rough_volatility_20" .*RoughVolatility input must be a positive finite price, got 0/s,
    );
  });
});

describe('volume and volatility node identity', () => {
  const bars = stream([], ['BTC']);
  const other = stream([], ['ETH']);

  it('gives the same NodeID for the same factory, params and source', () => {
    expect(obv(bars).nodeId).toBe(obv(bars).nodeId);
    expect(vwap(bars, { period: 20 }).nodeId).toBe(vwap(bars, { period: 20, name: 'x' }).nodeId);
    expect(roughVolatility(bars).nodeId).toBe(roughVolatility(bars, { period: 20 }).nodeId);
    expect(anchoredVwap(bars, { anchorTime: 600 }).nodeId).toBe(
      anchoredVwap(bars, { anchorTime: 600 }).nodeId,
    );
  });

  it('gives different NodeIDs for a different indicator, period, anchor, field, rename or source', () => {
    const ids = [
      obv(bars).nodeId,
      obv(other).nodeId,
      obv(bars, { fields: { volume: 'qty' } }).nodeId,
      vwap(bars).nodeId,
      vwap(bars, { period: 20 }).nodeId,
      vwap(bars, { period: 21 }).nodeId,
      anchoredVwap(bars, { anchorTime: 600 }).nodeId,
      anchoredVwap(bars, { anchorTime: 660 }).nodeId,
      roughVolatility(bars, { field: 'close' }).nodeId,
      roughVolatility(bars, { field: 'open' }).nodeId,
      roughVolatility(bars, { period: 21, field: 'close' }).nodeId,
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('takes the warm-up length as its period and names itself after the indicator', () => {
    expect([obv(bars).period, vwap(bars).period, vwap(bars, { period: 9 }).period]).toEqual([1, 1, 1]);
    expect(anchoredVwap(bars, { anchorTime: 0 }).period).toBe(1);
    expect(roughVolatility(bars, { period: 10 }).period).toBe(11);
    expect(
      [obv(bars), vwap(bars), vwap(bars, { period: 9 }), anchoredVwap(bars, { anchorTime: 600 })].map(
        (node) => node.name,
      ),
    ).toEqual(['obv', 'vwap', 'vwap_9', 'anchored_vwap_600']);
    expect(roughVolatility(bars).name).toBe('rough_volatility_20');
    expect(obv(bars, { name: 'flow' }).name).toBe('flow');
  });

  it('rejects invalid parameters at construction, naming the indicator, parameter and value', () => {
    expect(() => vwap(bars, { period: 0 })).toThrow('VWAP period must be a positive integer, got 0');
    expect(() => roughVolatility(bars, { period: -1 })).toThrow(
      'RoughVolatility period must be a positive integer, got -1',
    );
    expect(() => anchoredVwap(bars, { anchorTime: Number.NaN })).toThrow(
      'AnchoredVWAP anchorTime must be a finite number of epoch seconds, got NaN',
    );
    expect(() => roughVolatility(bars, { fields: { close: 'last' } })).toThrow(/use field, not fields/);
    expect(() => obv(bars, { field: 'close' })).toThrow(/reads the bar fields close, volume/);
  });
});
