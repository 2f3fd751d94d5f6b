/**
 * The bar-input path of IndicatorNode, through a probe indicator that records every bar it is
 * handed: which fields it reads (renamed or not), its `time`, and the errors and option checks
 * around them.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import { Node } from '../sdk/node.js';
import { Runner } from '../sdk/runner/runner.js';
import type { PriceBar, StreamingIndicator } from './indicator.js';
import { indicatorNode, type IndicatorNode, type IndicatorNodeOptions } from './indicator-node.js';
import { sma } from './node-factories.js';
import { INTERVAL, runNodes, strategyOf, stream } from './indicator-node.test-kit.js';

type ProbeBar = Pick<PriceBar, 'close' | 'volume' | 'time'>;

/** What a probe was handed: the method called and the bar, as received. */
interface ProbeCall {
  readonly method: 'update' | 'replace';
  readonly bar: Readonly<Record<string, unknown>>;
}

/** Returns the bar's `time` on every call (so a node emits it) and records what it was handed. */
class TimeProbe implements StreamingIndicator<ProbeBar> {
  readonly warmupPeriod = 1;
  result: number | null = null;
  constructor(private readonly calls: ProbeCall[]) {}
  get isWarm(): boolean {
    return this.result !== null;
  }
  update(bar: ProbeBar): number {
    this.calls.push({ method: 'update', bar: { ...bar } });
    return (this.result = bar.time);
  }
  replace(bar: ProbeBar): number {
    this.calls.push({ method: 'replace', bar: { ...bar } });
    return (this.result = bar.time);
  }
  reset(): void {
    this.result = null;
  }
}

/** A bar-indicator node reading `close` and `volume`; `calls` collects what its evaluators are handed. */
function probe(source: Node, options: IndicatorNodeOptions = {}, calls: ProbeCall[] = []): IndicatorNode {
  return indicatorNode(
    {
      indicator: 'Probe',
      indicatorClass: TimeProbe,
      create: () => new TimeProbe(calls),
      reads: ['close', 'volume'],
    },
    source,
    { version: 1 },
    options,
  );
}

const rowsOf = (count: number): HistoryRow[] =>
  Array.from({ length: count }, (_, k) => ({
    ts: (k + 1) * INTERVAL,
    open: 100 + k,
    close: 101 + k,
    volume: 1_000 + 10 * k,
    note: 'extra',
  }));

const failure = async (promise: Promise<unknown>): Promise<QmtlError> => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(QmtlError);
  return error as QmtlError;
};

/** Backtests `stream(rows) → make(stream)` and returns the node's outputs. */
const run = (
  rows: readonly HistoryRow[],
  make: (source: Node) => IndicatorNode,
  range?: { startTime: number; endTime: number },
) => runNodes(rows, (source) => [make(source)], range);

describe('bar indicator nodes: reading fields', () => {
  it('hands the indicator the fields it reads plus time, nothing else', async () => {
    const calls: ProbeCall[] = [];
    await run(rowsOf(3), (source) => probe(source, {}, calls));
    expect(calls).toEqual([
      { method: 'update', bar: { close: 101, volume: 1_000, time: 60 } },
      { method: 'update', bar: { close: 102, volume: 1_010, time: 120 } },
      { method: 'update', bar: { close: 103, volume: 1_020, time: 180 } },
    ]);
  });

  it('gives the same outputs for a renamed payload as for the plain one, under another NodeID', async () => {
    const rows = rowsOf(10);
    const renamed = rows.map(({ close, volume, ...rest }) => ({ ...rest, last: close, qty: volume }));
    const plainCalls: ProbeCall[] = [];
    const renamedCalls: ProbeCall[] = [];
    const fields = { close: 'last', volume: 'qty' };
    expect(await run(renamed, (source) => probe(source, { fields }, renamedCalls))).toEqual(
      await run(rows, (source) => probe(source, {}, plainCalls)),
    );
    expect(renamedCalls).toEqual(plainCalls);
    const source = stream([]);
    expect(probe(source, { fields }).nodeId).not.toBe(probe(source).nodeId);
    expect(probe(source, { fields: { close: 'last' } }).nodeId).not.toBe(probe(source, { fields }).nodeId);
  });

  it('keeps one NodeID for the same renames in any order, and for renames to the same names', () => {
    const source = stream([]);
    expect(probe(source, { fields: { close: 'last', volume: 'qty' } }).nodeId).toBe(
      probe(source, { fields: { volume: 'qty', close: 'last' } }).nodeId,
    );
    expect(probe(source, { fields: { close: 'close' } }).nodeId).toBe(probe(source).nodeId);
    expect(probe(source, { fields: {} }).nodeId).toBe(probe(source).nodeId);
  });

  it('records the renames in the node params', () => {
    const source = stream([]);
    expect(probe(source, { fields: { volume: 'qty', close: 'last' } }).params).toMatchObject({
      indicator: 'Probe',
      version: 1,
      fields: 'close:last,volume:qty',
    });
    expect(probe(source).params).toMatchObject({ fields: null });
  });
});

describe('bar indicator nodes: time', () => {
  it('delivers the bucket timestamp as time, also for rows stamped inside the bucket', async () => {
    const rows = rowsOf(6).map((row, k) => ({ ...row, ts: row.ts + (k % 3) * 17 }));
    const outputs = await run(rows, (source) => probe(source), { startTime: 60, endTime: 400 });
    expect(outputs).toEqual([60, 120, 180, 240, 300, 360].map((bucket) => [bucket, bucket]));
  });

  it('delivers the bucket timestamp of every bar fed after a skipped trigger', async () => {
    const rows = rowsOf(12).filter((row) => row.ts !== 5 * INTERVAL);
    const calls: ProbeCall[] = [];
    await run(rows, (source) => probe(source, {}, calls), { startTime: INTERVAL, endTime: 12 * INTERVAL });
    expect(calls.map((call) => call.bar['time'])).toEqual(rows.map((row) => row.ts));
    expect(calls.every((call) => call.method === 'update')).toBe(true);
  });

  it('delivers the coarser bucket, as a replace, when an upstream re-emits its bucket', async () => {
    const rows = rowsOf(10).map((row) => ({ ...row, ts: row.ts - INTERVAL }));
    const calls: ProbeCall[] = [];
    let node!: IndicatorNode;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const source = stream(rows);
        const fiveMinute = new Node({ input: source, interval: 300 });
        node = probe(fiveMinute, {}, calls);
        s.addNodes([source, fiveMinute, node]);
      }),
      { startTime: 0, endTime: rows.at(-1)!.ts },
    );
    expect(result.outputs<number>(node).toArray()).toEqual([
      [0, 0],
      [300, 300],
    ]);
    expect(calls.map((call) => [call.method, call.bar['time'], call.bar['close']])).toEqual([
      ['update', 0, 101],
      ...[102, 103, 104, 105].map((close) => ['replace', 0, close]),
      ['update', 300, 106],
      ...[107, 108, 109, 110].map((close) => ['replace', 300, close]),
    ]);
  });
});

describe('bar indicator nodes: errors', () => {
  it('names the node and the missing field, suggesting fields when it was not renamed', async () => {
    const rows = rowsOf(5).map(({ volume: _volume, ...rest }) => rest);
    const error = await failure(run(rows, (source) => probe(source, { name: 'flow' })));
    expect(error.code).toBe(ErrorCode.ComputeFailed);
    expect(error.message).toMatch(
      /node "flow" .*field "volume" of .* is not a number \(rename it with fields: \{ volume: '…' \}\)/s,
    );
  });

  it('names the renamed field and makes no suggestion when a rename was given', async () => {
    const error = await failure(run(rowsOf(5), (source) => probe(source, { fields: { volume: 'qty' } })));
    expect(error.message).toMatch(/node "probe_1" .*field "qty" of .* is not a number/s);
    expect(error.message).not.toMatch(/rename it/);
  });

  it('names the field when its value is not a number', async () => {
    const rows = rowsOf(5).map((row, k) => (k === 3 ? { ...row, close: '104' } : row));
    const error = await failure(run(rows, (source) => probe(source)));
    expect(error.message).toMatch(/field "close" of .*"104".* is not a number/s);
  });

  it('rejects field for a bar indicator and fields for a numeric one', () => {
    const source = stream([]);
    expect(() => probe(source, { field: 'close' })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidNode }),
    );
    expect(() => probe(source, { field: 'close' })).toThrow(
      /probe\(\): reads the bar fields close, volume; rename them with fields: \{ close: '…' \}, not field/,
    );
    expect(() => sma(source, { period: 3, fields: { close: 'last' } })).toThrow(
      /sma\(\): takes one number per bar; use field, not fields/,
    );
  });

  it('rejects keys the indicator does not read and malformed field names in fields', () => {
    const source = stream([]);
    expect(() => probe(source, { fields: { high: 'h' } })).toThrow(
      /probe\(\): fields\.high is not read by this indicator \(it reads close, volume\)/,
    );
    expect(() => probe(source, { fields: { price: 'p' } as never })).toThrow(/fields\.price is not read/);
    for (const bad of ['', 'a:b', 'a,b', 3]) {
      expect(() => probe(source, { fields: { close: bad } as never })).toThrow(
        /fields\.close must be a non-empty field name without ':' or ','/,
      );
    }
    expect(() => probe(source, { fields: 'close:last' as never })).toThrow(
      /fields must be an object, got "close:last"/,
    );
    expect(() => probe(source, { fields: { high: 'h' } })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidNode }),
    );
  });

  it('names a node without params after its indicator alone', () => {
    const node = indicatorNode(
      { indicator: 'Probe', indicatorClass: TimeProbe, create: () => new TimeProbe([]), reads: ['close'] },
      stream([]),
      {},
      {},
    );
    expect(node.name).toBe('probe');
  });
});
