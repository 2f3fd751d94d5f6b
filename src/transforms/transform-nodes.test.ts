import { describe, expect, it } from 'vitest';
import type { StreamingIndicator } from '../indicators/indicator.js';
import { randomWalk } from '../indicators/indicator-contract.test-kit.js';
import type { IndicatorNode } from '../indicators/indicator-node.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import type { Node } from '../sdk/node.js';
import { ProcessingNode } from '../sdk/processing-node.js';
import { Angle } from './angle.js';
import { RateOfChange } from './rate-of-change.js';
import { Stochastic } from './stochastic.js';
import { angle, rateOfChange, stochastic } from './transform-nodes.js';
import { INTERVAL, runNodes, stream } from '../indicators/indicator-node.test-kit.js';

/** Rows with two price fields; row k (1-based) sits at ts k·60. */
const rowsOf = (count: number): HistoryRow[] => {
  const closes = randomWalk(count, 3);
  const opens = randomWalk(count, 4);
  return closes.map((close, k) => ({ ts: (k + 1) * INTERVAL, open: opens[k]!, close }));
};

/** What the transform returns for `rows`, as [ts, value] for every non-null result. */
function reference(
  transform: StreamingIndicator,
  rows: readonly HistoryRow[],
  field = 'close',
): Array<[number, number]> {
  return rows.flatMap((row): Array<[number, number]> => {
    const value = transform.update(row[field] as number);
    return value === null ? [] : [[row.ts, value]];
  });
}

/** Backtests `source → [extract →] make(…)` over every row and returns the transform node's outputs. */
const run = (
  rows: readonly HistoryRow[],
  make: (source: Node) => IndicatorNode,
  extract?: (row: HistoryRow) => number,
) =>
  runNodes(rows, (price) => {
    if (extract === undefined) return [make(price)];
    const input = new ProcessingNode({
      input: price,
      computeFn: (view) => extract(view.input<HistoryRow>().latest()!),
    });
    return [input, make(input)];
  });

describe('transform nodes in a backtest', () => {
  const rows = rowsOf(80);

  it('rateOfChange emits what RateOfChange returns, from bar period + 1', async () => {
    const outputs = await run(rows, (price) => rateOfChange(price, { period: 3, field: 'close' }));
    expect(outputs).toEqual(reference(new RateOfChange(3), rows));
    expect(outputs[0]![0]).toBe(4 * INTERVAL);
  });

  it('rateOfChange emits nothing for a bar whose base is 0', async () => {
    const zeroed = rows.map((row, k) => (k === 10 ? { ...row, close: 0 } : row));
    const outputs = await run(zeroed, (price) => rateOfChange(price, { field: 'close' }));
    expect(outputs).toEqual(reference(new RateOfChange(), zeroed));
    expect(outputs.map(([ts]) => ts)).not.toContain(12 * INTERVAL);
    expect(outputs).toHaveLength(78);
  });

  it('stochastic emits what Stochastic returns for the field it is given', async () => {
    const outputs = await run(rows, (price) => stochastic(price, { period: 5, field: 'open' }));
    expect(outputs).toEqual(reference(new Stochastic(5), rows, 'open'));
    expect(outputs).not.toEqual(reference(new Stochastic(5), rows, 'close'));
    expect(outputs[0]![0]).toBe(5 * INTERVAL);
  });

  it('angle emits what Angle returns, in the unit asked for, from a numeric upstream', async () => {
    const close = (row: HistoryRow) => row['close'] as number;
    const degrees = await run(rows, (price) => angle(price, { period: 10 }), close);
    expect(degrees).toEqual(reference(new Angle(10), rows));
    const radians = await run(rows, (price) => angle(price, { period: 10, unit: 'radians' }), close);
    expect(radians).toEqual(reference(new Angle(10, 'radians'), rows));
    expect(radians[0]![0]).toBe(10 * INTERVAL);
  });
});

describe('transform node identity', () => {
  const price = stream([], ['BTC']);

  it('gives the same NodeID for the same params, defaults included', () => {
    expect(rateOfChange(price).nodeId).toBe(rateOfChange(price, { period: 1 }).nodeId);
    expect(stochastic(price, { field: 'close' }).nodeId).toBe(
      stochastic(price, { period: 14, field: 'close' }).nodeId,
    );
    expect(angle(price).nodeId).toBe(angle(price, { period: 14, unit: 'degrees' }).nodeId);
  });

  it('gives distinct NodeIDs for distinct params, fields and transforms', () => {
    const ids = [
      rateOfChange(price).nodeId,
      rateOfChange(price, { period: 14 }).nodeId,
      rateOfChange(price, { field: 'close' }).nodeId,
      stochastic(price).nodeId,
      stochastic(price, { period: 5 }).nodeId,
      stochastic(price, { field: 'close' }).nodeId,
      angle(price).nodeId,
      angle(price, { unit: 'radians' }).nodeId,
      angle(price, { period: 5 }).nodeId,
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('takes the warm-up length as the node period and names the node after its params', () => {
    expect(rateOfChange(price, { period: 5 }).period).toBe(6);
    expect(stochastic(price).period).toBe(14);
    expect(angle(price, { period: 20 }).period).toBe(20);
    expect(angle(price, { unit: 'radians' }).name).toBe('angle_14_radians');
    expect(stochastic(price, { name: 'k' }).name).toBe('k');
  });

  it('rejects invalid params at construction, naming the transform and parameter', () => {
    expect(() => rateOfChange(price, { period: 0 })).toThrow(
      'RateOfChange period must be a positive integer, got 0',
    );
    expect(() => angle(price, { period: 1 })).toThrow('Angle period must be an integer ≥ 2, got 1');
    expect(() => angle(price, { unit: 'turns' as never })).toThrow(/Angle unit/);
    expect(() => stochastic(price, { fields: { close: 'last' } })).toThrow(/use field, not fields/);
  });
});
