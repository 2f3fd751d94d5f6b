import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../common/logger.js';
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
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

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

  it('makes producers wait while the backlog is full, until the run stops or publishing is abandoned', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const publisher = new OutputPublisher(new FlakyBus(new MemoryTopicBroker(), Infinity), {
      maxBacklog: 1,
      now: () => 0,
    });
    publisher.add('a', output(60));
    publisher.add('a', output(120));
    const stopping = new AbortController();
    let released = false;
    const waiting = publisher.room(stopping.signal).then(() => (released = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(released).toBe(false);
    stopping.abort();
    await waiting;
    const abandoned = publisher.room();
    publisher.abandon();
    await abandoned;
    expect(await publisher.flush()).toBe(2);
    // Told once per minute, however often producers wait.
    expect(warn.mock.calls.filter(([, message]) => String(message).startsWith('publishing is'))).toHaveLength(
      1,
    );
  });

  it('logs an outage compactly: one warning, a reminder a minute with the retry count, one line on recovery', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    let now = 0;
    // Every retry waits 5 s of (fake) time: 50 failures span 250 s.
    const publisher = new OutputPublisher(new FlakyBus(new MemoryTopicBroker(), 50), {
      busName: 'redis://127.0.0.1:6399',
      now: () => now,
      sleep: () => {
        now += 5_000;
        return Promise.resolve();
      },
    });
    publisher.add('a', output(60));
    expect(await publisher.flush()).toBe(0);

    const warnings = warn.mock.calls.map(([fields, message]) => ({ fields, message }));
    expect(warnings.map((w) => w.message)).toEqual([
      'the topic bus does not take outputs; retrying until it does (nothing is dropped)',
      ...Array<string>(4).fill('the topic bus still does not take outputs; retrying'),
    ]);
    expect(warnings[0]!.fields).toEqual({
      bus: 'redis://127.0.0.1:6399',
      error: 'broker unavailable',
      backlog: 1,
    });
    expect(warnings.map((w) => (w.fields as { retries?: number }).retries)).toEqual([
      undefined,
      12,
      24,
      36,
      48,
    ]);
    expect(warnings.every((w) => !('err' in (w.fields as object)))).toBe(true);
    expect(info.mock.calls).toEqual([
      [
        { bus: 'redis://127.0.0.1:6399', retries: 50, downForMs: 250_000, backlog: 0 },
        'the topic bus takes outputs again',
      ],
    ]);
  });

  it('logs the whole error, stack included, when debugging', async () => {
    vi.stubEnv('QMTL_DEBUG', '1');
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const publisher = new OutputPublisher(new FlakyBus(new MemoryTopicBroker(), 1), {
      sleep: () => Promise.resolve(),
    });
    publisher.add('a', output(60));
    await publisher.flush();
    expect(warn.mock.calls[0]![0]).toMatchObject({ error: 'broker unavailable', err: expect.any(Error) });
  });
});
