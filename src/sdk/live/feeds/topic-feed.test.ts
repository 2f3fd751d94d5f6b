import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../common/errors.js';
import { logger } from '../../../common/logger.js';
import { MemoryTopicBroker, MemoryTopicBus } from '../../../transport/memory-topic-bus.js';
import type { TopicBus, TopicMessage } from '../../../transport/topic-bus.js';
import type { LiveFeedHandle } from '../live-feed.js';
import { bars, KEY, record, T0, testLiveFeedContract, until } from './live-feed.contract.test-kit.js';
import { messageRow, TopicFeed } from './topic-feed.js';

const TOPIC = 'btc_ohlcv_a1b2c3_v1';

function message(timestamp: number, payload: unknown): TopicMessage {
  return { nodeId: KEY.nodeId, interval: 60, timestamp, payload };
}

testLiveFeedContract('TopicFeed', () => {
  const bus = new MemoryTopicBus();
  return Promise.resolve({
    feed: async (rows) => {
      await bus.publish(
        TOPIC,
        rows.map(({ ts, ...payload }) => message(ts, payload)),
      );
      return new TopicFeed({ bus, topic: TOPIC, group: 'strategy-1' });
    },
    cleanup: () => bus.close(),
  });
});

describe('TopicFeed', () => {
  const handles: LiveFeedHandle[] = [];
  const buses: TopicBus[] = [];
  const newBus = (broker: MemoryTopicBroker): MemoryTopicBus => {
    const bus = new MemoryTopicBus({ broker });
    buses.push(bus);
    return bus;
  };

  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.stop()));
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    vi.restoreAllMocks();
  });

  it('turns object payloads into fields and other payloads into value', () => {
    expect(messageRow({ timestamp: 60, payload: { close: 1.5, ts: 999 } })).toEqual({ close: 1.5, ts: 60 });
    expect(messageRow({ timestamp: 120, payload: 42 })).toEqual({ ts: 120, value: 42 });
    expect(messageRow({ timestamp: 180, payload: [1, 2] })).toEqual({ ts: 180, value: [1, 2] });
    expect(messageRow({ timestamp: 240, payload: null })).toEqual({ ts: 240, value: null });
  });

  it('skips messages older than from and redeliveries not newer than the last delivered', async () => {
    const bus = newBus(new MemoryTopicBroker());
    const stamps = [0, 1, 2, 2, 1, 3, 5, 4].map((k) => T0 + k * 60);
    await bus.publish(
      TOPIC,
      stamps.map((ts, index) => message(ts, index)),
    );
    const feed = new TopicFeed({ bus, topic: TOPIC, group: 'g' });
    const { rows } = await record(feed, T0 + 60, undefined, handles);
    await until(() => rows.length === 4);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(rows).toEqual([
      { ts: T0 + 60, value: 1 },
      { ts: T0 + 120, value: 2 },
      { ts: T0 + 180, value: 5 },
      { ts: T0 + 300, value: 6 },
    ]);
  });

  it('delivers messages published after it started', async () => {
    const bus = newBus(new MemoryTopicBroker());
    const { rows } = await record(new TopicFeed({ bus, topic: TOPIC, group: 'g' }), T0, undefined, handles);
    await bus.publish(TOPIC, [message(T0, { close: 1 }), message(T0 + 60, { close: 2 })]);
    await until(() => rows.length === 2);
    expect(rows).toEqual([
      { close: 1, ts: T0 },
      { close: 2, ts: T0 + 60 },
    ]);
  });

  it('resumes after what its group handled when started again', async () => {
    const broker = new MemoryTopicBroker();
    const first = newBus(broker);
    await first.publish(
      TOPIC,
      bars(3).map(({ ts, close }) => message(ts, { close })),
    );
    const before = await record(
      new TopicFeed({ bus: first, topic: TOPIC, group: 'g' }),
      T0,
      undefined,
      handles,
    );
    await until(() => before.rows.length === 3);
    await before.handle.stop();
    const second = newBus(broker);
    await second.publish(
      TOPIC,
      bars(2, 3).map(({ ts, close }) => message(ts, { close })),
    );
    const after = await record(
      new TopicFeed({ bus: second, topic: TOPIC, group: 'g' }),
      T0,
      undefined,
      handles,
    );
    await until(() => after.rows.length === 2);
    expect(after.rows.map((row) => row.close)).toEqual([3, 4]);
  });

  it('leaves a message unhandled when onRow rejects', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const broker = new MemoryTopicBroker();
    const bus = newBus(broker);
    await bus.publish(TOPIC, [message(T0, 0), message(T0 + 60, 1)]);
    const feed = new TopicFeed({ bus, topic: TOPIC, group: 'g' });
    const failing = await record(feed, T0, (row) =>
      row['value'] === 1 ? Promise.reject(new Error('no')) : undefined,
    );
    await failing.handle.done;
    expect(failing.errors).toHaveLength(1);
    const again = await record(
      new TopicFeed({ bus: newBus(broker), topic: TOPIC, group: 'g' }),
      T0,
      undefined,
      handles,
    );
    await until(() => again.rows.length === 1);
    expect(again.rows).toEqual([{ ts: T0 + 60, value: 1 }]);
  });

  it('rejects invalid options, listing every problem', () => {
    const make = (): TopicFeed => new TopicFeed({ bus: {}, topic: '', group: 7 } as never);
    expect(make).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(make).toThrow('bus must be an object with subscribe(), got {}');
    expect(make).toThrow('topic must be a non-empty string, got ""');
    expect(make).toThrow('group must be a non-empty string, got 7');
  });
});
