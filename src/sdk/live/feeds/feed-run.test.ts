import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { HistoryRow } from '../../history/protocols.js';
import { FeedRun } from './feed-run.js';
import { KEY, T0 } from './live-feed.contract.test-kit.js';

function startRun(rows: HistoryRow[], errors: Error[] = [], onError?: (error: Error) => void): FeedRun {
  return new FeedRun('test', {
    key: KEY,
    from: T0,
    onRow: (row) => void rows.push(row),
    onError: onError ?? ((error) => void errors.push(error)),
  });
}

describe('FeedRun', () => {
  afterEach(() => vi.restoreAllMocks());

  it('skips rows before from, not newer than the last, or without a numeric ts', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const rows: HistoryRow[] = [];
    const run = startRun(rows);
    for (const ts of [T0 - 60, T0, T0, T0 + 120, T0 + 60, Number.NaN, T0 + 180])
      expect(await run.deliver({ ts })).toBe(true);
    expect(await run.deliver({ ts: '1' } as unknown as HistoryRow)).toBe(true);
    expect(rows.map((row) => row.ts)).toEqual([T0, T0 + 120, T0 + 180]);
    expect(run.next).toBe(T0 + 240);
    expect(warned).toHaveBeenCalledTimes(2);
  });

  it('reports only the first failure, and survives an onError that throws', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const seen: Error[] = [];
    const run = startRun([], [], (error) => {
      seen.push(error);
      throw new Error('handler bug');
    });
    run.fail(new Error('first'));
    run.fail(new Error('second'));
    await run.done;
    expect(seen.map((error) => error.message)).toEqual(['first']);
    expect(await run.deliver({ ts: T0 })).toBe(false);
  });

  it('waits for the release of its source on stop, and runs a late one at once', async () => {
    const run = startRun([]);
    let released = 0;
    run.onEnd(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      released += 1;
    });
    const handle = run.handle();
    await Promise.all([handle.stop(), handle.stop()]);
    expect(released).toBe(1);
    run.onEnd(() => Promise.resolve(void (released += 1)));
    expect(released).toBe(2);
    expect(run.ended).toBe(true);
  });

  it('ends a pause early when stopped', async () => {
    const run = startRun([]);
    const started = performance.now();
    const pausing = run.pause(5_000);
    await run.handle().stop();
    expect(await pausing).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
