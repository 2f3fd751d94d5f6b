/**
 * What a live run hands its streams' event recorders: the rows its node cache took (SPEC §3.2),
 * so that a backtest over the recording computes on the bars the live run used.
 */
import { describe, expect, it } from 'vitest';
import { MemoryEventRecorder } from '../history/memory-event-recorder.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import type { HistoryRow } from '../history/protocols.js';
import { Runner } from '../runner/runner.js';
import {
  B1,
  B2,
  B3,
  INTERVAL,
  LATE_ROWS,
  LIVE_SUMS,
  listFeed,
  summingStrategy,
} from './late-rows.test-kit.js';

describe('a live run recording its stream', () => {
  it('records the rows its cache took: not a late row of an older bucket, but a correction of the newest', async () => {
    const recorder = new MemoryEventRecorder();
    const live = summingStrategy({ liveFeed: listFeed(LATE_ROWS), eventRecorder: recorder });
    const run = await Runner.dryrun(live.Summing, {
      startTime: B1,
      endTime: B3 + INTERVAL,
      keepOutputs: 'all',
    });
    await run.done;
    expect(recorder.records.map((r) => [r.timestamp, (r.payload as { close: number }).close])).toEqual([
      [B1, 1],
      [B2, 2],
      [B3, 3],
      [B3, 30],
    ]);
    expect(run.outputs(live.sum()).toArray()).toEqual(LIVE_SUMS);

    // A backtest over the recording (the last row of a bucket standing) computes the same.
    const recorded = recorder.records.map((r) => ({ ...(r.payload as HistoryRow), ts: r.timestamp }));
    const replayed = summingStrategy({ historyProvider: new MemoryHistoryProvider(recorded) });
    const backtest = await Runner.backtest(replayed.Summing, {
      startTime: B1,
      endTime: B3,
      keepOutputs: 'all',
    });
    expect(backtest.outputs(replayed.sum()).toArray()).toEqual(LIVE_SUMS);
  });
});
