import { describe, expect, it } from 'vitest';
import { QmtlError } from '../common/errors.js';
import { sha256Hex } from '../common/hash.js';
import { packageVersion } from '../common/package-version.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import { Node } from '../sdk/node.js';
import { ProcessingNode } from '../sdk/processing-node.js';
import { Runner } from '../sdk/runner/runner.js';
import { EMA } from './ema.js';
import type { StreamingIndicator } from './indicator.js';
import { indicatorEvaluator, type IndicatorNode } from './indicator-node.js';
import { ema, rsi, sma } from './node-factories.js';
import { RSI } from './rsi.js';
import { SMA } from './sma.js';
import { INTERVAL, runNodes, strategyOf, stream } from './indicator-node.test-kit.js';

/** A deterministic, wiggly close series: bar k (1-based) sits at ts k·60. */
const closes = (count: number): number[] =>
  Array.from({ length: count }, (_, k) => 100 + 10 * Math.sin(k / 3) + ((k * 7919) % 13) / 7);
const barsOf = (values: readonly number[]): HistoryRow[] =>
  values.map((close, k) => ({ ts: (k + 1) * INTERVAL, close, volume: 1_000 + k }));

/** What the indicator returns when fed `rows` one by one, as [ts, value] for every non-null result. */
function reference(indicator: StreamingIndicator, rows: readonly HistoryRow[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const row of rows) {
    const value = indicator.update(row['close'] as number);
    if (value !== null) out.push([row.ts, value]);
  }
  return out;
}

/** Backtests `source → make(source)` over every row and returns the indicator node's outputs. */
const runIndicator = (rows: readonly HistoryRow[], make: (source: Node) => IndicatorNode) =>
  runNodes(rows, (source) => [make(source)]);

describe('indicator nodes in a backtest', () => {
  const rows = barsOf(closes(60));

  it('emits exactly what EMA returns for the same closes, from bar period', async () => {
    const outputs = await runIndicator(rows, (price) => ema(price, { period: 10, field: 'close' }));
    expect(outputs).toEqual(reference(new EMA(10), rows));
    expect(outputs[0]![0]).toBe(10 * INTERVAL);
    expect(outputs).toHaveLength(51);
  });

  it('emits exactly what SMA returns for the same closes, from bar period', async () => {
    const outputs = await runIndicator(rows, (price) => sma(price, { period: 20, field: 'close' }));
    expect(outputs).toEqual(reference(new SMA(20), rows));
    expect(outputs[0]![0]).toBe(20 * INTERVAL);
  });

  it('emits exactly what RSI returns for the same closes, from bar period + 1', async () => {
    const outputs = await runIndicator(rows, (price) => rsi(price, { period: 14, field: 'close' }));
    expect(outputs).toEqual(reference(new RSI(14), rows));
    expect(outputs[0]![0]).toBe(15 * INTERVAL);
  });

  it('reads a numeric upstream without a field', async () => {
    let node!: IndicatorNode;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(rows);
        const close = new ProcessingNode({
          input: price,
          computeFn: (view) => view.input<HistoryRow>().latest()!['close'],
        });
        node = ema(close, { period: 5 });
        s.addNodes([price, close, node]);
      }),
      { startTime: rows[0]!.ts, endTime: rows.at(-1)!.ts },
    );
    expect(result.outputs<number>(node).toArray()).toEqual(reference(new EMA(5), rows));
  });
});

describe('indicator node identity', () => {
  const price = stream([], ['BTC']);
  const other = stream([], ['ETH']);

  it('gives the same NodeID to two separate calls with the same factory, params and source', () => {
    expect(ema(price, { period: 10, field: 'close' }).nodeId).toBe(
      ema(price, { period: 10, field: 'close' }).nodeId,
    );
    expect(rsi(price).nodeId).toBe(rsi(price, { period: 14 }).nodeId);
    expect(sma(price, { period: 5, field: 'close', name: 'renamed' }).nodeId).toBe(
      sma(price, { period: 5, field: 'close' }).nodeId,
    );
  });

  it('gives different NodeIDs for a different period, field, indicator or source', () => {
    const base = ema(price, { period: 10, field: 'close' }).nodeId;
    const variants = [
      ema(price, { period: 11, field: 'close' }).nodeId,
      ema(price, { period: 10, field: 'open' }).nodeId,
      ema(price, { period: 10 }).nodeId,
      sma(price, { period: 10, field: 'close' }).nodeId,
      ema(other, { period: 10, field: 'close' }).nodeId,
    ];
    expect(new Set([base, ...variants]).size).toBe(6);
  });

  it("hashes the evaluator's and the indicator class's source and qmtl's version into the code hash", () => {
    const text = `${indicatorEvaluator.toString()}\n${Function.prototype.toString.call(EMA)}\nqmtl ${packageVersion()}`;
    expect(ema(price, { period: 10 }).codeHash).toBe(sha256Hex(text));
  });

  it('takes the indicator warm-up length as its period and the source interval as its interval', () => {
    expect(ema(price, { period: 10 }).period).toBe(new EMA(10).warmupPeriod);
    expect(sma(price, { period: 20 }).period).toBe(new SMA(20).warmupPeriod);
    expect(rsi(price, { period: 14 }).period).toBe(15);
    expect(rsi(price).period).toBe(new RSI(14).warmupPeriod);
    expect(ema(price, { period: 10 }).interval).toBe(INTERVAL);
    expect(ema(price, { period: 10, interval: '5m' }).interval).toBe(300);
  });

  it('names the node after the indicator and its period unless a name is given', () => {
    expect(ema(price, { period: 10 }).name).toBe('ema_10');
    expect(sma(price, { period: 20 }).name).toBe('sma_20');
    expect(rsi(price).name).toBe('rsi_14');
    expect(ema(price, { period: 10, name: 'fast' }).name).toBe('fast');
  });
});

describe('indicator node inputs', () => {
  it('fails the run naming the node and suggesting field when a record arrives without one', async () => {
    const error = await runIndicator(barsOf(closes(12)), (price) => ema(price, { period: 10 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe('QMTL_COMPUTE_FAILED');
    expect((error as QmtlError).message).toMatch(
      /node "ema_10" .*failed computing bucket .*\(e\.g\. field: 'close'\)/,
    );
  });

  it('fails the run naming the field when its value is not a number', async () => {
    const rows = barsOf(closes(12)).map((row, k) => (k === 10 ? { ...row, close: 'n/a' } : row));
    const error = await runIndicator(rows, (price) => sma(price, { period: 3, field: 'close' })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).message).toMatch(
      /node "sma_3" .*field "close" of .*"n\/a".* is not a number/,
    );
    const missing = await runIndicator(barsOf(closes(12)), (price) =>
      sma(price, { period: 3, field: 'price' }),
    ).catch((e: unknown) => e);
    expect((missing as QmtlError).message).toMatch(/field "price" of .* is not a number/);
  });

  it('rejects a non-positive or fractional period and an empty field at construction', () => {
    const price = stream([]);
    expect(() => ema(price, { period: 0 })).toThrow(/EMA period must be a positive integer, got 0/);
    expect(() => sma(price, { period: -3 })).toThrow(/SMA period must be a positive integer, got -3/);
    expect(() => rsi(price, { period: 1.5 })).toThrow(/RSI period must be a positive integer, got 1\.5/);
    expect(() => ema(price, { period: 10, field: '' })).toThrow(
      /ema\(\): field must be a non-empty string, got ""/,
    );
    expect(() => ema(price, { period: 10, field: 3 as never })).toThrow(
      /field must be a non-empty string, got 3/,
    );
    const error = (() => {
      try {
        ema(price, { period: 0 });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect((error as QmtlError).code).toBe('QMTL_INVALID_ARGUMENT');
  });

  it('names a misspelt option and refuses missing options without a TypeError', () => {
    const price = stream([]);
    expect(() => sma(price, { peroid: 3 } as never)).toThrow(
      /sma\(\): unknown option "peroid" \(known: period, field, fields, interval, name, tags\)/,
    );
    expect(() => ema(price, undefined as never)).toThrow(
      /ema\(\): options must be an object such as \{ period: 20 \}, got undefined/,
    );
    expect(() => rsi(price, null as never)).toThrow(/rsi\(\): options must be an object/);
  });
});

describe('indicator node catch-up and corrections', () => {
  it('feeds every bar received since a trigger skipped on a gap, so no value is lost', async () => {
    const all = barsOf(closes(40));
    const received = all.filter((row) => row.ts !== 20 * INTERVAL);
    let node!: IndicatorNode;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(received);
        node = ema(price, { period: 10, field: 'close' });
        s.addNodes([price, node]);
      }),
      { startTime: INTERVAL, endTime: 40 * INTERVAL },
    );
    // Bar 21 follows the hole, so its trigger is skipped; bar 22 feeds bars 21 and 22.
    const expected = reference(new EMA(10), received).filter(([ts]) => ts !== 21 * INTERVAL);
    expect(result.outputs<number>(node).toArray()).toEqual(expected);
    expect(result.stats(node)).toMatchObject({ gaps: 1, skips: 1 });
  });

  it('feeds every bar received when the bar that completes the warm-up follows a gap', async () => {
    const all = barsOf(closes(30));
    const received = all.filter((row) => row.ts !== 10 * INTERVAL);
    let node!: IndicatorNode;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(received);
        node = ema(price, { period: 10, field: 'close' });
        s.addNodes([price, node]);
      }),
      { startTime: INTERVAL, endTime: 30 * INTERVAL },
    );
    // Bar 11 (the 10th received) follows the hole: its trigger is skipped; bar 12 must feed 11 bars.
    const expected = reference(new EMA(10), received).filter(([ts]) => ts !== 11 * INTERVAL);
    expect(result.outputs<number>(node).toArray()).toEqual(expected);
  });

  it('feeds every bar received after more consecutive skipped triggers than its period', async () => {
    const all = barsOf(closes(20));
    const received = all.filter((row) => row.ts !== 8 * INTERVAL && row.ts !== 10 * INTERVAL);
    let node!: IndicatorNode;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(received);
        node = ema(price, { period: 2, field: 'close' });
        s.addNodes([price, node]);
      }),
      { startTime: INTERVAL, endTime: 20 * INTERVAL },
    );
    // Bars 9 and 11 each follow a hole and are skipped; bar 12 must feed bars 9, 11 and 12.
    const expected = reference(new EMA(2), received).filter(
      ([ts]) => ts !== 9 * INTERVAL && ts !== 11 * INTERVAL,
    );
    expect(result.stats(node)).toMatchObject({ skips: 2 });
    expect(result.outputs<number>(node).toArray()).toEqual(expected);
  });

  it('treats a late correction within a tick as a replacement of the bar', async () => {
    const corrected = barsOf(closes(30));
    const withLateRows: HistoryRow[] = [...corrected];
    // Rows at ts 120 and 150 share bucket 120, as do 900 and 930: the later row is the correction.
    withLateRows.splice(1, 1, { ...corrected[1]!, close: 1 }, { ...corrected[1]!, ts: 150 });
    withLateRows.splice(15, 1, { ...corrected[14]!, close: 500 }, { ...corrected[14]!, ts: 930 });
    expect(withLateRows).toHaveLength(32);
    const make = (price: Node) => ema(price, { period: 10, field: 'close' });
    const late = await runIndicator(withLateRows, make);
    expect(late).toEqual(await runIndicator(corrected, make));
    expect(late).toEqual(reference(new EMA(10), corrected));
  });

  it('replaces the newest input when an upstream re-emits its bucket in a later tick', async () => {
    // A 5-minute pass-through of a 1-minute stream re-emits its bucket every minute: each re-emission
    // is a correction, so the EMA ends up over the last 1-minute close of each 5-minute bucket.
    const rows = barsOf(closes(60)).map((row) => ({ ...row, ts: row.ts - INTERVAL }));
    let node!: IndicatorNode;
    let fiveMinute!: Node;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(rows);
        fiveMinute = new Node({ input: price, interval: 300 });
        node = ema(fiveMinute, { period: 3, field: 'close' });
        s.addNodes([price, fiveMinute, node]);
      }),
      { startTime: 0, endTime: rows.at(-1)!.ts },
    );
    const lastOfBucket = rows
      .filter((row) => row.ts % 300 === 240)
      .map((row) => ({ ...row, ts: row.ts - 240 }));
    expect(result.outputs<number>(node).toArray()).toEqual(reference(new EMA(3), lastOfBucket));
    expect(result.stats(node).corrections).toBe(48);
  });
});
