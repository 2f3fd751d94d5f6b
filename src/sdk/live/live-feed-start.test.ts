import { describe, expect, it } from 'vitest';
import { shortId } from '../../common/errors.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import { Runner } from '../runner/runner.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import type { LiveFeed, LiveFeedHandle, LiveFeedStart } from './live-feed.js';

const INTERVAL = 60;
const LIVE = 1_700_000_040;
const provider = new MemoryHistoryProvider([{ ts: LIVE - INTERVAL, close: 1 }]);

/** A feed whose connection is refused when it starts. */
class RefusedFeed implements LiveFeed {
  readonly refusal = new Error('connect ECONNREFUSED 127.0.0.1:9');
  start(): Promise<LiveFeedHandle> {
    return Promise.reject(this.refusal);
  }
}

/** A feed that never ends by itself and records whether it was stopped. */
class EndlessFeed implements LiveFeed {
  stopped = false;
  start(_options: LiveFeedStart): Promise<LiveFeedHandle> {
    let stop!: () => void;
    const done = new Promise<void>((resolve) => (stop = resolve));
    return Promise.resolve({
      done,
      stop: () => {
        this.stopped = true;
        stop();
        return done;
      },
    });
  }
}

describe('a live feed whose start fails', () => {
  it('fails the run with an error naming the stream, its id and the feed, the feed’s error as cause', async () => {
    const endless = new EndlessFeed();
    const refused = new RefusedFeed();
    let failing!: StreamInput;
    class TwoStreams extends Strategy {
      override setup(): void {
        const stream = (tag: string, liveFeed: LiveFeed, name: string): StreamInput =>
          new StreamInput({
            tags: [tag],
            name,
            interval: INTERVAL,
            period: 1,
            historyProvider: provider,
            liveFeed,
          });
        failing = stream('ETH', refused, 'eth_bars');
        this.addNodes([stream('BTC', endless, 'btc_bars'), failing]);
      }
    }
    const error = await Runner.dryrun(TwoStreams, { startTime: LIVE }).then(
      () => null,
      (reason: unknown) => reason as Error & { code: string },
    );
    expect(error?.message).toBe(
      `liveFeed RefusedFeed of StreamInput "eth_bars" (${shortId(failing.nodeId)}) failed to start: connect ECONNREFUSED 127.0.0.1:9`,
    );
    expect(error?.code).toBe('QMTL_UNAVAILABLE');
    expect(error?.cause).toBe(refused.refusal);
    // The feed that had started is not left running behind a run that never started.
    expect(endless.stopped).toBe(true);
  });
});
