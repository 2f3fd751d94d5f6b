import { describe, expect, it } from 'vitest';
import { parseQueueStatsFilter } from './queue-stats-filter.js';

describe('parseQueueStatsFilter', () => {
  it('reads tags and an interval in seconds or with a unit', () => {
    expect(parseQueueStatsFilter('tag=price,btc;interval=60')).toEqual({
      tags: ['price', 'btc'],
      interval: 60,
      matchMode: 'any',
    });
    expect(parseQueueStatsFilter(' tags = price ; interval = 1h ;')?.interval).toBe(3600);
  });

  it("filters nothing without a tag, as for the original CLI's default `tag=;interval=1h`", () => {
    for (const filter of ['', '  ', 'tag=;interval=1h', 'interval=60', ';']) {
      expect(parseQueueStatsFilter(filter), filter).toBeNull();
    }
  });

  it('refuses tags without an interval, unknown keys and bad intervals, naming them', () => {
    expect(() => parseQueueStatsFilter('tag=ohlcv')).toThrow(/names tags but no interval/);
    expect(() => parseQueueStatsFilter('color=red')).toThrow(/unknown key "color"/);
    expect(() => parseQueueStatsFilter('tag=a;interval=soon')).toThrow(/soon/);
  });
});
