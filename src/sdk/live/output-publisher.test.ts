import { describe, expect, it } from 'vitest';
import { MemoryTopicBroker, MemoryTopicBus } from '../../transport/memory-topic-bus.js';
import { memoryTopicContents } from '../../transport/memory-topic-bus.test-kit.js';
import type { TopicMessage } from '../../transport/topic-bus.js';
import { OutputPublisher } from './output-publisher.js';

/** The in-process bus, failing its first `failures` publishes (a broker outage). */
class FlakyBus extends MemoryTopicBus {
  constructor(
    broker: MemoryTopicBroker,
    private failures: number,
  ) {
    super({ broker });
  }

  override async publish(topic: string, messages: readonly TopicMessage[]): Promise<void> {
    if (this.failures-- > 0) throw new Error('broker unavailable');
    return super.publish(topic, messages);
  }
}

const output = (timestamp: number): TopicMessage => ({
  nodeId: 'n',
  interval: 60,
  timestamp,
  payload: timestamp,
});

async function contents(broker: MemoryTopicBroker, topic: string): Promise<number[]> {
  return (await memoryTopicContents(broker, topic)).map((m) => m.timestamp);
}

describe('OutputPublisher', () => {
  it('publishes every output in order per topic, through failures, losing nothing', async () => {
    const broker = new MemoryTopicBroker();
    const publisher = new OutputPublisher(new FlakyBus(broker, 2));
    for (let t = 60; t <= 600; t += 60) publisher.add('a', output(t));
    publisher.add('b', output(60));
    expect(await publisher.flush()).toBe(0);
    expect(publisher.published).toBe(11);
    expect(await contents(broker, 'a')).toEqual([60, 120, 180, 240, 300, 360, 420, 480, 540, 600]);
    expect(await contents(broker, 'b')).toEqual([60]);
  });

  it('gives up after the flush timeout while the bus stays down, and says how much is left', async () => {
    const publisher = new OutputPublisher(new FlakyBus(new MemoryTopicBroker(), Infinity));
    publisher.add('a', output(60));
    publisher.add('a', output(120));
    const started = Date.now();
    expect(await publisher.flush(150)).toBe(2);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(publisher.published).toBe(0);
  });
});
