import { describe, expect, it } from 'vitest';
import { MemoryTopicBroker, MemoryTopicBus } from './memory-topic-bus.js';
import { testTopicBusContract } from './topic-bus.contract.test-kit.js';
import type { ReceivedMessage } from './topic-bus.js';

let topicCount = 0;

testTopicBusContract('memory', () => {
  const broker = new MemoryTopicBroker();
  const bus = new MemoryTopicBus({ broker });
  return Promise.resolve({
    bus,
    newTopic: () => `topic-${(topicCount += 1)}`,
    reopen: () => Promise.resolve(new MemoryTopicBus({ broker })),
    cleanup: () => bus.close(),
    publishRaw: (topic: string, key: string, value: string) => {
      broker.append(topic, [{ key, value }]);
      return Promise.resolve();
    },
  });
});

/** Resolves once `received` has `count` messages. */
async function until(received: readonly unknown[], count: number): Promise<void> {
  while (received.length < count) await new Promise((resolve) => setImmediate(resolve));
}

describe('MemoryTopicBus', () => {
  it('never runs a handler inside publish', async () => {
    const bus = new MemoryTopicBus();
    const received: ReceivedMessage[] = [];
    await bus.subscribe({ topics: ['t'], group: 'g', onMessage: (m) => void received.push(m) });
    const published = bus.publish('t', [{ nodeId: 'n', interval: 60, timestamp: 60, payload: 1 }]);
    expect(received).toEqual([]);
    await published;
    await until(received, 1);
    expect(received).toHaveLength(1);
    await bus.close();
  });

  it('hands out equal buckets of several topics in the order the subscription lists the topics', async () => {
    const bus = new MemoryTopicBus();
    const received: ReceivedMessage[] = [];
    await bus.subscribe({ topics: ['first', 'second'], group: 'g', onMessage: (m) => void received.push(m) });
    await bus.publish('second', [{ nodeId: 'n', interval: 60, timestamp: 60, payload: 1 }]);
    await until(received, 1);
    // Both land before the subscription looks again: bucket 120 of each, 'second' published first.
    await Promise.all([
      bus.publish('second', [{ nodeId: 'n', interval: 60, timestamp: 120, payload: 2 }]),
      bus.publish('first', [{ nodeId: 'n', interval: 60, timestamp: 120, payload: 3 }]),
    ]);
    await until(received, 3);
    expect(received.map((m) => [m.topic, m.timestamp])).toEqual([
      ['second', 60],
      ['first', 120],
      ['second', 120],
    ]);
    await bus.close();
  });

  it('delivers each message once to a subscription that lists a topic twice', async () => {
    const bus = new MemoryTopicBus();
    const received: ReceivedMessage[] = [];
    await bus.subscribe({ topics: ['t', 't'], group: 'g', onMessage: (m) => void received.push(m) });
    await bus.publish(
      't',
      [1, 2].map((payload) => ({ nodeId: 'n', interval: 60, timestamp: payload * 60, payload })),
    );
    await until(received, 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received.map((m) => m.payload)).toEqual([1, 2]);
    await bus.close();
  });

  it('hands a topic to the next member of the group when its reader leaves', async () => {
    const bus = new MemoryTopicBus();
    const first: ReceivedMessage[] = [];
    const second: ReceivedMessage[] = [];
    const reader = await bus.subscribe({ topics: ['t'], group: 'g', onMessage: (m) => void first.push(m) });
    await bus.subscribe({ topics: ['t'], group: 'g', onMessage: (m) => void second.push(m) });
    await bus.publish('t', [{ nodeId: 'n', interval: 60, timestamp: 60, payload: 1 }]);
    await until(first, 1);
    await reader.close();
    await bus.publish('t', [{ nodeId: 'n', interval: 60, timestamp: 120, payload: 2 }]);
    await until(second, 1);
    expect(first.map((m) => m.payload)).toEqual([1]);
    expect(second.map((m) => m.payload)).toEqual([2]);
    await bus.close();
  });

  it('drops the oldest messages past the retention limit', async () => {
    const broker = new MemoryTopicBroker({ retainMessages: 1 });
    const bus = new MemoryTopicBus({ broker });
    const messages = [1, 2, 3].map((payload) => ({
      nodeId: 'n',
      interval: 60,
      timestamp: payload * 60,
      payload,
    }));
    await bus.publish('t', messages);
    const received: ReceivedMessage[] = [];
    await bus.subscribe({ topics: ['t'], group: 'g', onMessage: (m) => void received.push(m) });
    await until(received, 1);
    expect(received.map((m) => m.payload)).toEqual([3]);
    await bus.close();
  });

  it('refuses to publish once closed', async () => {
    const bus = new MemoryTopicBus();
    await bus.close();
    await expect(bus.publish('t', [])).rejects.toMatchObject({ code: 'QMTL_UNAVAILABLE' });
  });
});
