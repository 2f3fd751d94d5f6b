import { describe, expect, it } from 'vitest';
import { ErrorCode, type QmtlError } from '../common/errors.js';
import { GeneratedHistoryProvider } from './generated-history-provider.js';
import { HestonGenerator } from './heston.js';
import type { BarGenerator } from './ohlcv-bar.js';
import { errorOf } from './statistics.test-kit.js';

const interval = 300;
const start = 1_700_000_100;
const key = { nodeId: 'heston-stream', interval };

describe('GeneratedHistoryProvider', () => {
  it('serves any bar generator from its first bar, even one handed over part-way', async () => {
    const used = new HestonGenerator({ seed: 4, interval });
    used.bars(50);
    const provider = new GeneratedHistoryProvider({
      generator: used,
      sourceId: 'heston:4',
      start,
      bars: 100,
      interval,
    });
    const rows = await provider.fetch(start + 10 * interval, start + 200 * interval, key);
    const bars = new HestonGenerator({ seed: 4, interval }).bars(100).slice(10);
    expect(rows).toEqual(bars.map((bar, k) => ({ ts: start + (k + 10) * interval, ...bar })));
    expect(provider.sourceId).toBe('heston:4');
    expect(await provider.coverage(key)).toEqual([[start, start + 99 * interval]]);
  });

  it('rejects a missing generator, an empty source id and a bad placement all at once', () => {
    const error = errorOf<QmtlError>(
      () =>
        new GeneratedHistoryProvider({
          generator: { nextBar: () => ({}) } as unknown as BarGenerator,
          sourceId: '',
          start: start + 1,
          bars: 1.5,
          interval,
        }),
    );
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(error.problems.map((problem) => problem.message)).toEqual([
      `start must be aligned to interval ${interval} (a multiple of it), got ${start + 1}`,
      'bars must be a non-negative integer, got 1.5',
      'sourceId must be a non-empty string, got ""',
      'generator must be an object with nextBar() and reset(), got {}',
    ]);
  });
});
