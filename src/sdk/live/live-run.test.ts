import { monitorEventLoopDelay } from 'node:perf_hooks';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listeningPort, testGateway, type TestGateway } from '../../gateway/gateway.test-kit.js';
import { MemoryTopicBroker, MemoryTopicBus } from '../../transport/memory-topic-bus.js';
import { memoryTopicContents } from '../../transport/memory-topic-bus.test-kit.js';
import type { ReceivedMessage } from '../../transport/topic-bus.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import type { Node } from '../node.js';
import { tradeOrders } from '../execution/trade-order-node.js';
import { ProcessingNode } from '../processing-node.js';
import { Runner } from '../runner/runner.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import { TagQueryNode } from '../tag-query-node.js';
import { ReplayFeed } from './feeds/replay-feed.js';
import { listFeed } from './late-rows.test-kit.js';
import { streamAndMean } from './stream-and-mean.test-kit.js';
import type { LiveFeed } from './live-feed.js';
import type { LiveRun } from './live-run.js';

const INTERVAL = 60;
const T0 = 1_700_000_000 - (1_700_000_000 % INTERVAL);
const BARS = 400;
/** First live bucket: 100 bars of history before it. */
const LIVE = T0 + 100 * INTERVAL;
const rows = Array.from({ length: BARS }, (_, i) => ({
  ts: T0 + i * INTERVAL,
  close: 100 + Math.sin(i / 7) * 5 + i / 50,
}));
const provider = new MemoryHistoryProvider(rows);

/** The shared part of both strategies: a price stream and its 5-bar mean. */
function sharedNodes(paceMs: number): { price: StreamInput; average: Node } {
  const { price, mean } = streamAndMean({
    tags: ['BTC', 'live-run-test'],
    provider,
    interval: INTERVAL,
    paceMs,
  });
  return { price, average: mean };
}

function strategyScaling(factor: number, paceMs = 2): new () => Strategy {
  return class extends Strategy {
    override setup(): void {
      const { price, average } = sharedNodes(paceMs);
      const scaled = new ProcessingNode({
        input: average,
        name: `times_${factor}`,
        interval: INTERVAL,
        period: 1,
        params: { factor },
        computeFn: (view) => (view.get(average).latest() as number) * view.params.factor,
      });
      this.addNodes([price, average, scaled]);
    }
  };
}

const A = strategyScaling(2);
const B = strategyScaling(3);

describe('dry-run with a Gateway: one process computes a shared node, the other consumes it', () => {
  let gw: TestGateway;
  let gatewayUrl: string;
  let broker: MemoryTopicBroker;
  const runs: LiveRun[] = [];

  beforeEach(async () => {
    gw = await testGateway({ listen: true, leaseMs: 600, leaseCheckMs: 50 });
    gatewayUrl = `http://127.0.0.1:${listeningPort(gw.gateway)}`;
    broker = new MemoryTopicBroker();
  });
  afterEach(async () => {
    for (const run of runs.splice(0)) await run.stop();
    await gw.gateway.close();
  });

  const dryrun = async (strategy: new () => Strategy, endTime: number | undefined): Promise<LiveRun> => {
    const run = await Runner.dryrun(strategy, {
      gatewayUrl,
      topicBus: new MemoryTopicBus({ broker }),
      startTime: LIVE,
      ...(endTime !== undefined && { endTime }),
      keepOutputs: 'all',
    });
    runs.push(run);
    return run;
  };

  const nodeOf = (run: LiveRun, name: string): Node => run.strategy.nodes.find((n) => n.name === name)!;

  const topicContents = (topic: string): Promise<ReceivedMessage[]> => memoryTopicContents(broker, topic);

  it('computes the shared mean once, publishes it, and the consumer gets identical values', async () => {
    const end = LIVE + 199 * INTERVAL;
    const a = await dryrun(A, end);
    const b = await dryrun(B, end);
    // Hostile messages on the shared topic: another interval, a bucket off the grid.
    const shared = a.strategy.nodes[1]!;
    const intruder = new MemoryTopicBus({ broker });
    await intruder.publish(a.roles.produced.get(shared.nodeId)!, [
      { nodeId: shared.nodeId, interval: 120, timestamp: LIVE + 120, payload: 1e9 },
      { nodeId: shared.nodeId, interval: INTERVAL, timestamp: LIVE + 30, payload: 1e9 },
    ]);
    await Promise.all([a.done, b.done]);
    expect(b.skipped).toBe(2);

    const average = a.strategy.nodes[1]!;
    expect(a.stats(average).computeCalls).toBeGreaterThan(200);
    expect(b.stats(average).computeCalls).toBe(0);
    expect(b.roles.consumed.has(average.nodeId)).toBe(true);
    const published = a
      .outputs<number>(average)
      .toArray()
      .filter(([t]) => t >= LIVE);
    expect(published).toHaveLength(200);
    expect(
      b
        .outputs<number>(average)
        .toArray()
        .filter(([t]) => t >= LIVE),
    ).toEqual(published);
    const timesThree = b
      .outputs<number>(nodeOf(b, 'times_3'))
      .toArray()
      .filter(([t]) => t >= LIVE);
    expect(timesThree).toEqual(published.map(([t, v]) => [t, v * 3]));
  });

  it.each(['none', 'leaves'] as const)(
    'routes a consumed order node to its own broker, from its own live start (keepOutputs %s)',
    async (keepOutputs) => {
      /** Both strategies hold the same order node (one NodeID); their last nodes differ. */
      const trading = (factor: number): new () => Strategy =>
        class extends Strategy {
          constructor() {
            super({ defaultInterval: INTERVAL, defaultPeriod: 1 });
          }
          override setup(): void {
            const { price, average } = sharedNodes(2);
            const orders = tradeOrders(average, {
              symbol: 'BTC',
              computeFn: (view) => ({
                symbol: view.params.symbol,
                target: (view.input().latest() as number) > 101 ? 1 : -1,
              }),
            });
            const scaled = new ProcessingNode({
              input: average,
              name: `times_${factor}`,
              params: { factor },
              computeFn: (view) => (view.input().latest() as number) * view.params.factor,
            });
            this.addNodes([price, average, orders, scaled]);
          }
        };
      const options = {
        gatewayUrl,
        topicBus: new MemoryTopicBus({ broker }),
        endTime: LIVE + 149 * INTERVAL,
      };
      const a = await Runner.dryrun(trading(2), { ...options, startTime: LIVE });
      runs.push(a);
      // B goes live 50 buckets after A: the order node's topic holds A's buckets before that.
      const later = LIVE + 50 * INTERVAL;
      const b = await Runner.dryrun(trading(3), { ...options, startTime: later, keepOutputs });
      runs.push(b);
      await Promise.all([a.done, b.done]);
      const orderNode = b.strategy.nodes.find((n) => n.name === 'orders_BTC')!;
      expect(b.roles.consumed.has(orderNode.nodeId)).toBe(true);
      expect(b.stats(orderNode).computeCalls).toBe(0);
      const trades = (run: LiveRun, from: number): unknown[] =>
        run.execution!.orders.filter((o) => o.bucket >= from).map((o) => [o.bucket, o.side]);
      expect(trades(a, later).length).toBeGreaterThan(1);
      expect(b.execution!.orders.length).toBeGreaterThan(1);
      expect(Math.min(...b.execution!.orders.map((o) => o.bucket))).toBeGreaterThanOrEqual(later);
      // From its start B holds what A holds, so after its first order it trades as A does.
      const mine = trades(b, later);
      expect(mine.slice(1)).toEqual(trades(a, later).slice(-(mine.length - 1)));
    },
  );

  it('takes over a stopped producer from the bucket after its last published one: no gap, no duplicate', async () => {
    const end = LIVE + 249 * INTERVAL;
    const a = await dryrun(strategyScaling(2, 4), undefined);
    const b = await dryrun(B, end);
    const average = a.strategy.nodes[1]!;
    while (a.published < 60) await new Promise((resolve) => setTimeout(resolve, 10));
    await a.stop();
    await b.done;

    expect(b.stats(average).computeCalls).toBeGreaterThan(0);
    expect(b.roles.produced.has(average.nodeId)).toBe(true);
    const topic = b.roles.produced.get(average.nodeId)!;
    const buckets = (await topicContents(topic))
      .filter((m) => m.nodeId === average.nodeId)
      .map((m) => m.timestamp);
    const expected = Array.from({ length: 250 }, (_, i) => LIVE + i * INTERVAL);
    expect(buckets).toEqual(expected);
    const timesThree = b
      .outputs<number>(nodeOf(b, 'times_3'))
      .timestamps()
      .filter((t) => t >= LIVE);
    expect(Array.from(timesThree)).toEqual(expected);
  });

  /** The 5-bar mean times 3 for each of the first `n` live buckets, with the node's arithmetic. */
  const timesThreeReference = (n: number): [number, number][] =>
    Array.from({ length: n }, (_, i) => LIVE + i * INTERVAL).map((t) => {
      const closes = rows
        .filter((row) => row.ts <= t)
        .slice(-5)
        .map((row) => row.close);
      return [t, (closes.reduce((a, b) => a + b, 0) / 5) * 3];
    });

  /**
   * Runs `scenario` on a fresh Gateway and topic bus (topics must start empty), with a starter of
   * dry-runs that are all stopped afterwards.
   */
  const onFreshGateway = async (
    scenario: (start: (strategy: new () => Strategy, endTime?: number) => Promise<LiveRun>) => Promise<void>,
  ): Promise<void> => {
    const own = await testGateway({ listen: true, leaseMs: 600, leaseCheckMs: 50 });
    const bus = new MemoryTopicBroker();
    const started: LiveRun[] = [];
    try {
      await scenario(async (strategy, endTime) => {
        const run = await Runner.dryrun(strategy, {
          gatewayUrl: `http://127.0.0.1:${listeningPort(own.gateway)}`,
          topicBus: new MemoryTopicBus({ broker: bus }),
          startTime: LIVE,
          ...(endTime !== undefined && { endTime }),
          keepOutputs: 'all',
        });
        started.push(run);
        return run;
      });
    } finally {
      for (const run of started) await run.stop();
      await own.gateway.close();
    }
  };

  const untilPublished = async (run: LiveRun, count: number): Promise<void> => {
    while (run.published < count) await new Promise((resolve) => setTimeout(resolve, 2));
  };

  const liveTimesThree = (run: LiveRun): [number, number][] =>
    run
      .outputs<number>(nodeOf(run, 'times_3'))
      .toArray()
      .filter(([t]) => t >= LIVE);

  it('takes over at any point: the values equal one process computing alone (generated stop points)', async () => {
    // Found that a producer stopping in its first live buckets left the taker's nodes cold for a
    // few buckets: the stream's recent outputs were replayed before its older history.
    const expected = timesThreeReference(200);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 4 }), (stopAfter, pace) =>
        onFreshGateway(async (start) => {
          const producer = await start(strategyScaling(2, pace));
          const consumer = await start(strategyScaling(3, pace), LIVE + 199 * INTERVAL);
          await untilPublished(producer, stopAfter);
          await producer.stop();
          await consumer.done;
          expect(liveTimesThree(consumer)).toEqual(expected);
        }),
      ),
      { numRuns: 6 },
    );
  }, 120_000);

  it('takes over a node whose input lives on elsewhere, at any point, with the values of one process', async () => {
    class StreamOnly extends Strategy {
      override setup(): void {
        this.addNodes([sharedNodes(3).price]);
      }
    }
    const expected = timesThreeReference(200);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 150 }), (stopAfter) =>
        onFreshGateway(async (start) => {
          const streamOwner = await start(StreamOnly);
          await untilPublished(streamOwner, 3);
          const meanOwner = await start(strategyScaling(2, 3));
          const reader = await start(strategyScaling(3, 3), LIVE + 199 * INTERVAL);
          await untilPublished(meanOwner, stopAfter);
          await meanOwner.stop();
          await reader.done;
          expect(liveTimesThree(reader)).toEqual(expected);
        }),
      ),
      { numRuns: 6 },
    );
  }, 120_000);

  it('feeds a TagQueryNode from a queue that appears after it started, warming it up from the queue', async () => {
    const end = LIVE + 149 * INTERVAL;
    class Watcher extends Strategy {
      override setup(): void {
        const watch = new TagQueryNode({
          queryTags: ['tq-live-test'],
          interval: INTERVAL,
          period: 3,
          computeFn: (view) => {
            const closes = view.input<{ close: number }>(0).field('close') as number[];
            return closes.reduce((a, b) => a + b, 0) / closes.length;
          },
        });
        this.addNodes([watch]);
      }
    }
    class Source extends Strategy {
      override setup(): void {
        this.addNodes([
          new StreamInput({
            tags: ['ETH', 'tq-live-test'],
            interval: INTERVAL,
            period: 1,
            historyProvider: provider,
            liveFeed: new ReplayFeed({ provider, paceMs: 1 }),
          }),
        ]);
      }
    }
    const watcher = await dryrun(Watcher, end);
    const watch = watcher.strategy.nodes[0]!;
    expect((watch as TagQueryNode).queues).toEqual([]);
    const source = await dryrun(Source, end);
    const topic = [...source.roles.produced.values()][0]!;
    // What the DAG Manager announces for a new node with tags (its service posts it to the Gateway).
    gw.gateway.dagEvent('queue_update', {
      tags: ['tq-live-test'],
      interval: INTERVAL,
      queues: [topic],
      match_mode: 'any',
    });
    await Promise.all([watcher.done, source.done]);

    expect((watch as TagQueryNode).queues).toEqual([topic]);
    const means = watcher.outputs<number>(watch).toArray();
    expect(means.at(-1)![0]).toBe(end);
    const closes = rows
      .filter((row) => row.ts <= end)
      .slice(-3)
      .map((row) => row.close);
    expect(means.at(-1)![1]).toBeCloseTo(closes.reduce((a, b) => a + b, 0) / 3, 12);
    // Read from the queue's beginning: 150 live bars, warm after 3.
    expect(means).toHaveLength(148);
  });

  it('names busDsn (--bus-dsn), as the user set it, when it cannot use the DSN', async () => {
    await expect(Runner.dryrun(A, { gatewayUrl, busDsn: 'amqp://x:5672', startTime: LIVE })).rejects.toThrow(
      'busDsn (--bus-dsn) "amqp://x:5672" is not supported: use "memory", "redis://host:port" or "kafka://host:port"',
    );
    await expect(Runner.dryrun(A, { gatewayUrl, busDsn: 'kafka://broker', startTime: LIVE })).rejects.toThrow(
      'busDsn (--bus-dsn) "kafka://broker": each Kafka broker must be host:port (got "broker")',
    );
  });

  it('stops at once, with a clear error, when the Gateway stopped its strategy (lease lost)', async () => {
    const run = await dryrun(strategyScaling(5, 5), undefined);
    while (run.published < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    const stop = await fetch(`${gatewayUrl}/strategies/${run.strategyIds[0]}`, { method: 'DELETE' });
    expect(stop.status).toBe(200);
    await expect(run.done).rejects.toThrow(
      /the Gateway no longer runs strategy "[^"]+" \(its lease expired or it was stopped\)/,
    );
    const published = run.published;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(run.published).toBe(published);
  });

  it('never publishes a late recompute of an older bucket (one stream trailing another)', async () => {
    // Stream b has two rows per bar, so its feed trails stream a's: the leaf computes each bucket
    // first with b's previous bar, then again when b's bar arrives after a has moved on.
    const rowsB = rows.flatMap((row) => [row, { ts: row.ts + 5, close: row.close + 1 }]);
    const providerB = new MemoryHistoryProvider(rowsB);
    let leaf!: Node;
    class TwoStreams extends Strategy {
      override setup(): void {
        const a = new StreamInput({
          tags: ['two-a'],
          interval: INTERVAL,
          period: 1,
          historyProvider: provider,
          liveFeed: new ReplayFeed({ provider }),
        });
        const b = new StreamInput({
          tags: ['two-b'],
          interval: INTERVAL,
          period: 1,
          historyProvider: providerB,
          liveFeed: new ReplayFeed({ provider: providerB }),
        });
        leaf = new ProcessingNode({
          name: 'both',
          input: [a, b],
          interval: INTERVAL,
          period: 1,
          computeFn: (view) =>
            view.input<{ close: number }>(0).latest()!.close +
            view.input<{ close: number }>(1).latest()!.close,
        });
        this.addNodes([a, b, leaf]);
      }
    }
    const run = await dryrun(TwoStreams, LIVE + 99 * INTERVAL);
    await run.done;
    const stamps = (await topicContents(run.roles.produced.get(leaf.nodeId)!))
      .filter((m) => m.nodeId === leaf.nodeId)
      .map((m) => m.timestamp);
    expect(stamps.length).toBeGreaterThanOrEqual(100);
    expect(stamps).toEqual([...stamps].sort((x, y) => x - y));
    // No value mixes in a later bucket of a (a@t+1 with b@t, when b's bar for t came after a's
    // for t+1): each is a@t plus b's close, or its second row's, at some bucket up to t.
    const closeAt = new Map(rows.map((row) => [row.ts, row.close]));
    const mixed = run
      .outputs<number>(leaf)
      .toArray()
      .filter(([t, value]) => {
        const b = value - closeAt.get(t)!;
        return ![...closeAt].some(
          ([ts, close]) => ts <= t && (Math.abs(b - close) < 1e-9 || Math.abs(b - close - 1) < 1e-9),
        );
      });
    expect(mixed).toEqual([]);
  });

  /** A strategy computing the distance of `nodes`' stream to its mean, with the distance node. */
  const distanceReader = (
    nodes: () => { price: StreamInput; average: Node },
  ): { Reader: new () => Strategy; distance: () => Node } => {
    let distance!: Node;
    class Reader extends Strategy {
      override setup(): void {
        const { price, average } = nodes();
        distance = new ProcessingNode({
          input: [price, average],
          name: 'distance',
          interval: INTERVAL,
          period: 1,
          computeFn: (view) =>
            view.input<{ close: number }>(0).latest()!.close - (view.input(1).latest() as number),
        });
        this.addNodes([price, average, distance]);
      }
    }
    return { Reader, distance: () => distance };
  };

  it('computes each bucket from the same bucket of two consumed topics read with a backlog', async () => {
    const end = LIVE + 149 * INTERVAL;
    const a = await dryrun(strategyScaling(2, 20), end);
    const average = a.strategy.nodes[1]!;
    while (a.stats(average).outputs < 60) await new Promise((resolve) => setTimeout(resolve, 10));
    const { Reader, distance } = distanceReader(() => sharedNodes(2));
    // Both topics hold dozens of buckets when the reader starts: it reads them as a backlog.
    const c = await dryrun(Reader, end);
    await Promise.all([a.done, c.done]);
    expect(c.roles.consumed.size).toBe(2);
    const close = new Map(rows.map((row) => [row.ts, row.close]));
    const mean = new Map(a.outputs<number>(average).toArray());
    const wrong = c
      .outputs<number>(distance())
      .toArray()
      .filter(([t, value]) => t >= LIVE && value !== close.get(t)! - mean.get(t)!);
    expect(wrong).toEqual([]);
  });

  it('computes every backlog bucket of a stream and a mean whose topic starts later, skipping none', async () => {
    // No history: the mean warms up on the first 4 live bars, so its topic starts 4 buckets after
    // the stream's. Taken topic by topic, one message each, the reader met each mean with the bar
    // 4 buckets before its own: it skipped every bar and computed the means from the wrong ones.
    const cold = new MemoryHistoryProvider(rows.filter((row) => row.ts >= LIVE));
    const nodes = (paceMs: number): { price: StreamInput; average: Node } => {
      const { price, mean } = streamAndMean({
        tags: ['BTC', 'cold-start'],
        provider: cold,
        interval: INTERVAL,
        paceMs,
      });
      return { price, average: mean };
    };
    class Producer extends Strategy {
      override setup(): void {
        const { price, average } = nodes(20);
        this.addNodes([price, average]);
      }
    }
    const end = LIVE + 149 * INTERVAL;
    const producer = await dryrun(Producer, end);
    const average = producer.strategy.nodes[1]!;
    while (producer.stats(average).outputs < 60) await new Promise((resolve) => setTimeout(resolve, 10));
    const backlog = producer
      .outputs<number>(average)
      .toArray()
      .map(([t]) => t);
    const { Reader, distance } = distanceReader(() => nodes(2));
    const reader = await dryrun(Reader, end);
    await Promise.all([producer.done, reader.done]);
    expect(reader.roles.consumed.size).toBe(2);
    expect(backlog[0]).toBe(LIVE + 4 * INTERVAL);
    const close = new Map(rows.map((row) => [row.ts, row.close]));
    const mean = new Map(producer.outputs<number>(average).toArray());
    const distances = new Map(reader.outputs<number>(distance()).toArray());
    expect(backlog.filter((t) => distances.get(t) !== close.get(t)! - mean.get(t)!)).toEqual([]);
    expect(reader.stats(distance()).skips).toBe(0);
  });

  it('lets timers and I/O (heartbeats) run while a fast feed and a slow node keep it busy', async () => {
    class Busy extends Strategy {
      override setup(): void {
        const { price } = sharedNodes(0);
        const slow = new ProcessingNode({
          input: price,
          name: 'slow',
          interval: INTERVAL,
          period: 1,
          computeFn: (view) => {
            const until = performance.now() + 4;
            while (performance.now() < until);
            return view.input<{ close: number }>().latest()!.close;
          },
        });
        this.addNodes([price, slow]);
      }
    }
    // 300 live bars × 4 ms = 1.2 s of computing, twice the 600 ms lease.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const run = await dryrun(Busy, LIVE + 299 * INTERVAL);
    await run.done;
    delay.disable();
    expect(run.bars).toBe(300);
    // Without yielding, the loop would be blocked for the whole 1.2 s and the lease would lapse.
    expect(delay.max / 1e6).toBeLessThan(300);
  });

  it('takes over a node whose input another live process still produces, reading that input from its topic', async () => {
    const end = LIVE + 199 * INTERVAL;
    /** Only the stream: this process produces it and outlives the others. */
    class StreamOnly extends Strategy {
      override setup(): void {
        this.addNodes([sharedNodes(4).price]);
      }
    }
    const streamOwner = await dryrun(StreamOnly, undefined);
    while (streamOwner.published < 10) await new Promise((resolve) => setTimeout(resolve, 5));
    const meanOwner = await dryrun(strategyScaling(2, 4), undefined); // consumes the stream, produces the mean
    const reader = await dryrun(strategyScaling(3, 4), end); // consumes both
    const mean = reader.strategy.nodes[1]!;
    expect(meanOwner.roles.produced.has(mean.nodeId)).toBe(true);
    while (meanOwner.published < 40) await new Promise((resolve) => setTimeout(resolve, 5));
    await meanOwner.stop();
    await reader.done;
    await streamOwner.stop();

    expect(reader.roles.produced.has(mean.nodeId)).toBe(true);
    expect(reader.roles.consumed.has(reader.strategy.nodes[0]!.nodeId)).toBe(true);
    expect(reader.stats(mean).computeCalls).toBeGreaterThan(0);
    const topic = reader.roles.produced.get(mean.nodeId)!;
    const buckets = (await topicContents(topic))
      .filter((m) => m.nodeId === mean.nodeId)
      .map((m) => m.timestamp);
    const expected = Array.from({ length: 200 }, (_, i) => LIVE + i * INTERVAL);
    expect(buckets.filter((t) => t <= end)).toEqual(expected);
    const leaf = Array.from(reader.outputs(reader.strategy.nodes[2]!).timestamps()).filter((t) => t >= LIVE);
    expect(leaf).toEqual(expected);
  });
});

describe('dry-run without a Gateway', () => {
  it('skips a trigger rather than mixing in a later bucket of an input that is ahead', async () => {
    // Stream a delivers its ten live bars at once; stream b (no history, so the sum is not warm
    // before it) starts only when a is done: b's bar for each bucket meets a's bar for the last.
    const buckets = Array.from({ length: 10 }, (_, i) => LIVE + i * INTERVAL);
    let aDone!: () => void;
    const aFinished = new Promise<void>((resolve) => (aDone = resolve));
    const feedOf = (close: number, after: Promise<void>, finished?: () => void): LiveFeed => ({
      start: ({ onRow }) => {
        const done = (async () => {
          await after;
          for (const ts of buckets) await onRow({ ts, close: close + (ts - LIVE) / INTERVAL });
          finished?.();
        })();
        return Promise.resolve({ done, stop: () => done });
      },
    });
    let sum!: Node;
    class OutOfStep extends Strategy {
      override setup(): void {
        const stream = (tag: string, liveFeed: LiveFeed): StreamInput =>
          new StreamInput({ tags: ['BTC', tag], interval: INTERVAL, period: 1, liveFeed });
        const a = stream('out-of-step-a', feedOf(100, Promise.resolve(), aDone));
        const b = stream('out-of-step-b', feedOf(1000, aFinished));
        sum = new ProcessingNode({
          input: [a, b],
          name: 'sum',
          interval: INTERVAL,
          period: 1,
          computeFn: (view) =>
            view.input<{ close: number }>(0).latest()!.close +
            view.input<{ close: number }>(1).latest()!.close,
        });
        this.addNodes([a, b, sum]);
      }
    }
    const run = await Runner.dryrun(OutOfStep, {
      startTime: LIVE,
      endTime: buckets.at(-1)!,
      keepOutputs: 'all',
    });
    await run.done;
    // Only the last bucket has a and b in step: 100 + 9 + 1000 + 9.
    expect(run.outputs<number>(sum).toArray()).toEqual([[buckets.at(-1)!, 1118]]);
    expect(run.stats(sum).skips).toBe(9);
  });

  it('counts a live bar corrected by a duplicate timestamp once in bars, as the cache does', async () => {
    // A feed that repeats its first bar's ts and sends a second row inside that bucket.
    const liveRows = [
      { ts: LIVE, close: 1 },
      { ts: LIVE, close: 2 },
      { ts: LIVE + 30, close: 3 },
      { ts: LIVE + INTERVAL, close: 4 },
    ];
    const feed = listFeed(liveRows);
    let echo!: Node;
    class Corrected extends Strategy {
      override setup(): void {
        const price = new StreamInput({
          tags: ['BTC', 'live-duplicate-test'],
          interval: INTERVAL,
          period: 1,
          historyProvider: provider,
          liveFeed: feed,
        });
        echo = new ProcessingNode({
          input: price,
          name: 'echo',
          interval: INTERVAL,
          period: 1,
          computeFn: (view) => view.input<{ close: number }>().latest()!.close,
        });
        this.addNodes([price, echo]);
      }
    }
    const run = await Runner.dryrun(Corrected, { startTime: LIVE, endTime: LIVE + INTERVAL });
    await run.done;
    const outputs = run.outputs(echo).toArray();
    expect(outputs.filter(([t]) => t >= LIVE)).toEqual([
      [LIVE, 3],
      [LIVE + INTERVAL, 4],
    ]);
    expect(run.stats(echo).corrections).toBe(2);
    expect(run.bars).toBe(2);
    expect(run.ticks).toBe(2);
  });

  it('counts ticks as distinct buckets of all streams together, as a backtest over the same bars does', async () => {
    // Stream b corrects each of its bars with a second row 30 s in; stream c has 2-minute bars.
    const providerB = new MemoryHistoryProvider(rows.flatMap((row) => [row, { ...row, ts: row.ts + 30 }]));
    const stream = (tag: string, interval: number, history: MemoryHistoryProvider): StreamInput =>
      new StreamInput({
        tags: [tag, 'live-ticks-test'],
        interval,
        period: 1,
        historyProvider: history,
        liveFeed: new ReplayFeed({ provider: history }),
      });
    class ThreeStreams extends Strategy {
      override setup(): void {
        const [a, b, c] = [
          stream('a', INTERVAL, provider),
          stream('b', INTERVAL, providerB),
          stream('c', 120, provider),
        ];
        this.addNodes([
          a,
          b,
          c,
          new ProcessingNode({
            name: 'sum',
            input: [a, b, c],
            interval: INTERVAL,
            period: 1,
            computeFn: (view) => view.input<{ close: number }>(0).latest()!.close,
          }),
        ]);
      }
    }
    const window = { startTime: LIVE, endTime: LIVE + 9 * INTERVAL };
    const live = await Runner.dryrun(ThreeStreams, window);
    await live.done;
    const backtest = await Runner.backtest(ThreeStreams, window);
    // Ten 1-minute buckets, and c's first 2-minute bucket, which starts a minute before LIVE.
    expect(LIVE % 120).toBe(60);
    expect(backtest.ticks).toBe(11);
    expect(live.ticks).toBe(backtest.ticks);
  });

  it("retries a ReplayFeed's failing fetch with the run's maxRetries", async () => {
    // The provider the live feed replays fails its first fetch (a dropped connection, say).
    const flaky = new MemoryHistoryProvider(rows);
    let failures = 0;
    const fetchRows = flaky.fetch.bind(flaky);
    flaky.fetch = (start, end, key) =>
      failures++ === 0 ? Promise.reject(new Error('connection reset')) : fetchRows(start, end, key);
    class Flaky extends Strategy {
      override setup(): void {
        this.addNodes([
          new StreamInput({
            tags: ['BTC', 'live-flaky-test'],
            interval: INTERVAL,
            period: 1,
            historyProvider: provider,
            liveFeed: new ReplayFeed({ provider: flaky }),
          }),
        ]);
      }
    }
    const run = await Runner.dryrun(Flaky, { startTime: LIVE, endTime: LIVE + 2 * INTERVAL, maxRetries: 1 });
    await run.done;
    expect(failures).toBe(2);
    expect(run.bars).toBe(3);
  });

  it("bounds a ReplayFeed's provider calls by the run's historyTimeoutMs", async () => {
    // Warm-up history answers; the provider the live feed replays stops answering.
    const stalled = new MemoryHistoryProvider(rows);
    stalled.fetch = () => new Promise(() => undefined);
    class Stalled extends Strategy {
      override setup(): void {
        this.addNodes([
          new StreamInput({
            tags: ['BTC', 'live-stalled-test'],
            interval: INTERVAL,
            period: 1,
            historyProvider: provider,
            liveFeed: new ReplayFeed({ provider: stalled }),
          }),
        ]);
      }
    }
    const run = await Runner.dryrun(Stalled, {
      startTime: LIVE,
      endTime: LIVE + INTERVAL,
      historyTimeoutMs: 50,
    });
    await expect(run.done).rejects.toMatchObject({
      code: 'QMTL_TIMEOUT',
      message: expect.stringContaining('did not answer fetch of') as unknown,
    });
  });
});
