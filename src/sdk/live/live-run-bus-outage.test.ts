/**
 * A distributed dry-run whose topic bus goes down after it started: nothing is lost while the run
 * goes on, the end waits for the bus, and stop() ends the run promptly, reporting what the bus
 * did not take. The bus is the in-process one, switched off and on.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../common/logger.js';
import { listeningPort, testGateway, type TestGateway } from '../../gateway/gateway.test-kit.js';
import { MemoryTopicBroker, MemoryTopicBus } from '../../transport/memory-topic-bus.js';
import { memoryTopicContents } from '../../transport/memory-topic-bus.test-kit.js';
import type { TopicMessage } from '../../transport/topic-bus.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import { ProcessingNode } from '../processing-node.js';
import { Runner } from '../runner/runner.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import { ReplayFeed } from './feeds/replay-feed.js';
import type { LiveRun } from './live-run.js';

const INTERVAL = 60;
const T0 = 1_700_000_000 - (1_700_000_000 % INTERVAL);
/** First live bucket: 10 bars of history before it. */
const LIVE = T0 + 10 * INTERVAL;
const provider = new MemoryHistoryProvider(
  Array.from({ length: 6_000 }, (_, i) => ({ ts: T0 + i * INTERVAL, close: 100 + Math.sin(i / 7) })),
);

/** A stream and its 2-bar mean, both published: two outputs per live bar. */
function meanOf(paceMs: number): new () => Strategy {
  return class extends Strategy {
    override setup(): void {
      const price = new StreamInput({
        tags: ['BTC', 'bus-outage-test'],
        interval: INTERVAL,
        period: 2,
        historyProvider: provider,
        liveFeed: new ReplayFeed({ provider, paceMs }),
      });
      const mean = new ProcessingNode({
        input: price,
        name: 'mean2',
        interval: INTERVAL,
        period: 2,
        computeFn: (view) => (view.input<{ close: number }>().field('close') as number[])[0]!,
      });
      this.addNodes([price, mean]);
    }
  };
}

/** The in-process bus, refusing every publish while `down`. */
class SwitchableBus extends MemoryTopicBus {
  down = false;

  override async publish(topic: string, messages: readonly TopicMessage[]): Promise<void> {
    if (this.down) throw new Error('bus unavailable');
    return super.publish(topic, messages);
  }
}

/** Polls `check` every 10 ms until it holds (the test's timeout bounds it). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('a distributed dry-run while its topic bus is down', () => {
  let gw: TestGateway;
  let gatewayUrl: string;
  let broker: MemoryTopicBroker;
  let bus: SwitchableBus;
  const runs: LiveRun[] = [];

  beforeEach(async () => {
    gw = await testGateway({ listen: true });
    gatewayUrl = `http://127.0.0.1:${listeningPort(gw.gateway)}`;
    broker = new MemoryTopicBroker();
    bus = new SwitchableBus({ broker });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const run of runs.splice(0)) await run.stop({ graceMs: 0 });
    await gw.gateway.close();
  });

  const dryrun = async (paceMs: number, endTime?: number): Promise<LiveRun> => {
    const run = await Runner.dryrun(meanOf(paceMs), {
      gatewayUrl,
      topicBus: bus,
      startTime: LIVE,
      ...(endTime !== undefined && { endTime }),
    });
    runs.push(run);
    return run;
  };

  it('stops promptly, and reports the outputs the bus did not take', async () => {
    const error = vi.spyOn(logger, 'error');
    bus.down = true;
    const run = await dryrun(20);
    await until(() => run.unpublished >= 4);
    const began = Date.now();
    await run.stop({ graceMs: 100 });
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(run.published).toBe(0);
    expect(run.unpublished).toBeGreaterThanOrEqual(4);
    expect(error).toHaveBeenCalledWith(
      expect.objectContaining({ unpublished: run.unpublished }),
      'the run stopped with outputs the topic bus did not take: they are not published',
    );
  });

  it('stops promptly while its live feed waits for the bus (the backlog is full)', async () => {
    const warn = vi.spyOn(logger, 'warn');
    bus.down = true;
    // Two outputs per bar and a backlog of 10,000: the feed waits after 5,000 bars.
    const run = await dryrun(0);
    await until(() => warn.mock.calls.some(([, message]) => String(message).startsWith('publishing is')));
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ backlog: expect.any(Number) as number }),
      'publishing is 10000 outputs behind: the live inputs wait until the topic bus takes them (endTime cannot be reached meanwhile)',
    );
    const began = Date.now();
    await run.stop({ graceMs: 100 });
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(run.unpublished).toBeGreaterThan(10_000);
  });

  it('at endTime, waits for the bus (saying so), then ends with every output published', async () => {
    const warn = vi.spyOn(logger, 'warn');
    bus.down = true;
    const end = LIVE + 9 * INTERVAL;
    const run = await dryrun(1, end);
    let ended = false;
    void run.done.then(() => (ended = true));
    await until(() => warn.mock.calls.some(([, message]) => String(message).startsWith('the run reached')));
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ unpublished: 20 }),
      'the run reached its end with outputs the topic bus has not taken: it ends once they are published (stop() or Ctrl-C abandons them)',
    );
    expect(ended).toBe(false);
    bus.down = false;
    await run.done;
    expect(run.unpublished).toBe(0);
    expect(run.published).toBe(20);
    for (const topic of run.roles.produced.values())
      expect((await memoryTopicContents(broker, topic)).map((m) => m.timestamp)).toEqual(
        Array.from({ length: 10 }, (_, i) => LIVE + i * INTERVAL),
      );
  });
});
