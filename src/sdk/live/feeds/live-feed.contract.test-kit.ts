import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../common/errors.js';
import { logger } from '../../../common/logger.js';
import type { HistoryRow, StreamKey } from '../../history/protocols.js';
import type { LiveFeed, LiveFeedHandle, LiveFeedStart } from '../live-feed.js';

/** One adapter under test, built fresh for every test by the adapter's test file. */
export interface LiveFeedFixture {
  /** A feed whose source offers `rows` (ascending, distinct `ts`) in this order. */
  feed(rows: readonly HistoryRow[]): Promise<LiveFeed>;
  /** Releases what the fixture holds (servers, buses). */
  cleanup(): Promise<void>;
}

export const KEY: StreamKey = { nodeId: 'btc-close', interval: 60 };
export const T0 = 1_700_000_040;

/** `count` one-minute bars from `T0`, with `close = index`. */
export function bars(count: number, first = 0): HistoryRow[] {
  return Array.from({ length: count }, (_, index) => ({
    ts: T0 + (first + index) * 60,
    close: first + index,
  }));
}

/** A promise with its resolve handle, so a test releases a blocked `onRow` when it decides. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Resolves once `predicate` holds, checking after every macrotask; fails the test after `ms`. */
export async function until(predicate: () => boolean, ms = 1500): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** What one started feed delivered. */
export interface Recording {
  readonly rows: HistoryRow[];
  readonly errors: Error[];
  readonly handle: LiveFeedHandle;
}

/**
 * Starts `feed` on {@link KEY} from `from`, recording rows and errors; `onRow` may add behaviour,
 * `options` adds the optional start options (`historyTimeoutMs`).
 */
export async function record(
  feed: LiveFeed,
  from: number,
  onRow: (row: HistoryRow) => void | Promise<void> = () => undefined,
  handles: LiveFeedHandle[] = [],
  options: Omit<LiveFeedStart, 'key' | 'from' | 'onRow' | 'onError'> = {},
): Promise<Recording> {
  const rows: HistoryRow[] = [];
  const errors: Error[] = [];
  const handle = await feed.start({
    ...options,
    key: KEY,
    from,
    onRow: (row) => {
      rows.push(row);
      return onRow(row);
    },
    onError: (error) => errors.push(error),
  });
  handles.push(handle);
  return { rows, errors, handle };
}

/** How long a test watches for a call that must not happen. */
const QUIET_MS = 60;

/**
 * The behaviour every {@link LiveFeed} adapter shares: rows from `from`, ascending; one `onRow` at
 * a time; `stop()` waits for the call in progress and nothing starts after; a rejecting `onRow`
 * ends the feed through `onError`; invalid start options reject.
 */
export function testLiveFeedContract(name: string, makeFixture: () => Promise<LiveFeedFixture>): void {
  describe(`LiveFeed contract: ${name}`, () => {
    let fixture: LiveFeedFixture;
    const handles: LiveFeedHandle[] = [];
    const start = async (rows: readonly HistoryRow[], from: number, onRow?: (row: HistoryRow) => unknown) => {
      fixture = await makeFixture();
      const feed = await fixture.feed(rows);
      return record(feed, from, onRow as (row: HistoryRow) => void, handles);
    };

    afterEach(async () => {
      await Promise.all(handles.splice(0).map((handle) => handle.stop()));
      await fixture.cleanup();
      vi.restoreAllMocks();
    });

    it('delivers the rows at or after from, ascending', async () => {
      const { rows } = await start(bars(8), T0 + 3 * 60);
      await until(() => rows.length >= 5);
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      expect(rows.map((row) => row.close)).toEqual([3, 4, 5, 6, 7]);
      expect(rows[0]).toEqual({ ts: T0 + 180, close: 3 });
    });

    it('waits for each onRow before handing over the next row', async () => {
      let active = 0;
      let overlapped = false;
      const { rows } = await start(bars(4), T0, async () => {
        active += 1;
        overlapped ||= active > 1;
        await new Promise((resolve) => setTimeout(resolve, 15));
        active -= 1;
      });
      await until(() => rows.length === 4 && active === 0);
      expect(overlapped).toBe(false);
      expect(rows.map((row) => row.close)).toEqual([0, 1, 2, 3]);
    });

    it('stops after the onRow in progress, and starts none after', async () => {
      const gate = deferred();
      const { rows, handle } = await start(bars(6), T0, (row) =>
        row['close'] === 1 ? gate.promise : undefined,
      );
      await until(() => rows.length === 2);
      let stopped = false;
      const stopping = handle.stop().then(() => (stopped = true));
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      expect(stopped).toBe(false);
      gate.resolve();
      await stopping;
      await handle.done;
      await handle.stop();
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      expect(rows.map((row) => row.close)).toEqual([0, 1]);
    });

    it('ends through onError when onRow rejects', async () => {
      const failure = new Error('consumer broke');
      const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
      vi.spyOn(logger, 'warn').mockImplementation(() => undefined); // a bus may log the redelivery
      const recording = await start(bars(5), T0, (row) => {
        if (row['close'] === 2) throw failure;
      });
      await recording.handle.done;
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      expect(recording.errors).toEqual([failure]);
      expect(recording.rows.map((row) => row.close)).toEqual([0, 1, 2]);
      expect(logged).toHaveBeenCalledWith(
        expect.objectContaining({ err: failure, nodeId: KEY.nodeId }),
        'live feed failed',
      );
    });

    it('rejects invalid start options, naming each', async () => {
      fixture = await makeFixture();
      const feed = await fixture.feed(bars(1));
      const bad = {
        key: { nodeId: 'x', interval: 0 },
        from: 1.5,
        onRow: () => undefined,
        onError: () => undefined,
      };
      const error = await feed.start(bad as LiveFeedStart).catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
      expect(String(error)).toContain('key.interval must be a positive integer (seconds), got 0');
      expect(String(error)).toContain('from must be an integer (epoch seconds), got 1.5');
    });
  });
}
