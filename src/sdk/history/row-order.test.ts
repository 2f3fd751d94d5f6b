import { describe, expect, it } from 'vitest';
import type { HistoryRow } from './protocols.js';
import { inTimestampOrder } from './row-order.js';

describe('inTimestampOrder', () => {
  it('returns rows already in order as they are, equal timestamps included', () => {
    const rows = [{ ts: 1 }, { ts: 2 }, { ts: 2 }, { ts: 5 }];
    expect(inTimestampOrder(rows)).toBe(rows);
  });

  it('sorts by ts, keeping the order of rows with equal timestamps', () => {
    const rows = [
      { ts: 3, id: 'a' },
      { ts: 1, id: 'b' },
      { ts: 3, id: 'c' },
      { ts: 2, id: 'd' },
      { ts: 1, id: 'e' },
    ];
    expect(inTimestampOrder(rows).map((row) => row.id)).toEqual(['b', 'e', 'd', 'a', 'c']);
    expect(rows.map((row) => row.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('puts rows without a finite numeric ts first, in their order', () => {
    const rows = [{ ts: 2 }, { ts: 'x', id: 1 }, { ts: 1 }, { ts: NaN, id: 2 }] as unknown as HistoryRow[];
    expect(inTimestampOrder(rows)).toEqual([{ ts: 'x', id: 1 }, { ts: NaN, id: 2 }, { ts: 1 }, { ts: 2 }]);
  });
});
