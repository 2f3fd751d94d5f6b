import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { GarchGenerator } from './garch.js';
import { GarchHistoryProvider, type GarchHistoryRow } from './garch-history-provider.js';

const interval = 60;
const start = 1_700_000_040;
const key = { nodeId: 'garch-stream', interval };
const options = { seed: 99, start, bars: 10_000, interval };

describe('GarchHistoryProvider', () => {
  it('serves the generator bars at start + k·interval', async () => {
    const rows = await new GarchHistoryProvider(options).fetch(start, start + 5 * interval, key);
    const bars = new GarchGenerator({ seed: 99 }).bars(5);
    expect(rows).toEqual(bars.map((bar, k) => ({ ts: start + k * interval, ...bar })));
  });

  it('returns byte-identical rows however the fetches are chunked', async () => {
    const end = start + options.bars * interval;
    const whole = await new GarchHistoryProvider(options).fetch(start, end, key);
    expect(whole).toHaveLength(10_000);
    const chunked = new GarchHistoryProvider(options);
    const chunks: GarchHistoryRow[] = [];
    for (let from = start; from < end; from += 1_000 * interval) {
      chunks.push(...(await chunked.fetch(from, from + 1_000 * interval, key)));
    }
    expect(JSON.stringify(chunks)).toBe(JSON.stringify(whole));
  });

  it('serves the same rows when a fetch goes backwards', async () => {
    const provider = new GarchHistoryProvider(options);
    const late = await provider.fetch(start + 5_000 * interval, start + 5_010 * interval, key);
    const early = await provider.fetch(start + 10 * interval, start + 20 * interval, key);
    const fresh = new GarchHistoryProvider(options);
    expect(early).toEqual(await fresh.fetch(start + 10 * interval, start + 20 * interval, key));
    expect(late).toEqual(await fresh.fetch(start + 5_000 * interval, start + 5_010 * interval, key));
    expect(await provider.fetch(start + 5_000 * interval, start + 5_010 * interval, key)).toEqual(late);
  });

  it('keeps to the half-open range and to the bars it holds', async () => {
    const provider = new GarchHistoryProvider({ ...options, bars: 10 });
    const inside = await provider.fetch(start + 1, start + 3 * interval + 1, key);
    expect(inside.map((row) => row.ts)).toEqual([
      start + interval,
      start + 2 * interval,
      start + 3 * interval,
    ]);
    expect(await provider.fetch(start + interval, start + interval, key)).toEqual([]);
    expect(await provider.fetch(start - 100 * interval, start, key)).toEqual([]);
    const all = await provider.fetch(0, Number.POSITIVE_INFINITY, key);
    expect(all.map((row) => row.ts)).toEqual(Array.from({ length: 10 }, (_, k) => start + k * interval));
  });

  it('covers bar 0 to the last bar, or nothing when it holds no bars', async () => {
    expect(await new GarchHistoryProvider(options).coverage(key)).toEqual([
      [start, start + 9_999 * interval],
    ]);
    expect(await new GarchHistoryProvider({ ...options, bars: 0 }).coverage(key)).toEqual([]);
  });

  it('has nothing to fill', async () => {
    const provider = new GarchHistoryProvider(options);
    await expect(provider.fillMissing(0, start * 2, key)).resolves.toBeUndefined();
    expect(await provider.coverage(key)).toEqual([[start, start + 9_999 * interval]]);
  });

  it('names its source after the seed and every parameter', () => {
    const provider = new GarchHistoryProvider(options);
    expect(provider.sourceId).toBe(
      'garch:{"alpha":0.05,"baseVolume":1000,"beta":0.9,"interval":60,"mu":0,"omega":0.000001,' +
        '"seed":99,"start":1700000040,"startPrice":100,"stepsPerBar":4}',
    );
    expect(new GarchHistoryProvider({ ...options, bars: 5 }).sourceId).toBe(provider.sourceId);
    expect(new GarchHistoryProvider({ ...options, seed: 100 }).sourceId).not.toBe(provider.sourceId);
    expect(new GarchHistoryProvider({ ...options, alpha: 0.06 }).sourceId).not.toBe(provider.sourceId);
  });

  it('rejects bad options, naming every bad field', () => {
    expect(() => new GarchHistoryProvider({ seed: 1, start: 61, bars: -1, interval: 60, beta: 2 })).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidArgument,
        message: expect.stringMatching(
          /start must be aligned to interval 60.*got 61[\s\S]*bars must be a non-negative integer, got -1/,
        ),
      }),
    );
    expect(() => new GarchHistoryProvider({ ...options, interval: 0 })).toThrow(
      'interval must be a positive integer',
    );
    expect(() => new GarchHistoryProvider({ ...options, start: 1.5 })).toThrow('start must be an integer');
    expect(() => new GarchHistoryProvider({ ...options, beta: 2 })).toThrow('alpha + beta must be < 1');
  });

  it('rejects a fetch for another interval or with a NaN bound', async () => {
    const provider = new GarchHistoryProvider(options);
    await expect(provider.fetch(start, start + 60, { ...key, interval: 300 })).rejects.toThrow(
      "fetch key.interval must be this provider's interval 60, got 300",
    );
    await expect(provider.fetch(Number.NaN, start, key)).rejects.toThrow(
      'fetch start must be a number, got NaN',
    );
  });
});
