import { describe, expect, it } from 'vitest';
import type { HistoryRow } from '../../history/protocols.js';
import { FeedRun } from './feed-run.js';
import { bars, deferred, KEY, T0, until } from './live-feed.contract.test-kit.js';
import { RowQueue } from './row-queue.js';

function startRun(onRow: (row: HistoryRow) => void | Promise<void>): FeedRun {
  return new FeedRun('test', { key: KEY, from: T0, onRow, onError: () => undefined });
}

describe('RowQueue', () => {
  it('delivers pushed rows in arrival order, one at a time', async () => {
    const delivered: number[] = [];
    let active = 0;
    let overlapped = false;
    const run = startRun(async (row) => {
      active += 1;
      overlapped ||= active > 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
      delivered.push(row['close'] as number);
      active -= 1;
    });
    const queue = new RowQueue(run);
    queue.push(bars(2));
    queue.push(bars(3, 2));
    await until(() => delivered.length === 5);
    expect(delivered).toEqual([0, 1, 2, 3, 4]);
    expect(overlapped).toBe(false);
  });

  it('asks the source to pause at the high-water mark and to resume once drained to a quarter', async () => {
    const gate = deferred();
    const run = startRun((row) => (row['close'] === 0 ? gate.promise : undefined));
    const pressure: [boolean, number][] = [];
    const queue: RowQueue = new RowQueue(run, {
      highWaterMark: 8,
      onPressure: (paused) => pressure.push([paused, queue.size]),
    });
    queue.push(bars(5));
    expect(pressure).toEqual([]);
    queue.push(bars(5, 5));
    expect(pressure).toEqual([[true, 9]]);
    expect(queue.paused).toBe(true);
    gate.resolve();
    await until(() => queue.size === 0);
    expect(pressure).toEqual([
      [true, 9],
      [false, 2],
    ]);
    expect(queue.paused).toBe(false);
  });

  it('drops what is queued when the run ends', async () => {
    const gate = deferred();
    const delivered: number[] = [];
    const run = startRun(async (row) => {
      delivered.push(row['close'] as number);
      await gate.promise;
    });
    const queue = new RowQueue(run);
    queue.push(bars(4));
    const stopping = run.handle().stop();
    expect(queue.size).toBe(0);
    gate.resolve();
    await stopping;
    queue.push(bars(1, 9));
    expect(queue.size).toBe(0);
    expect(delivered).toEqual([0]);
  });
});
