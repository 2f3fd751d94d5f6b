import { describe, expect, it } from 'vitest';
import { createTopicBus } from './create-topic-bus.js';
import { MemoryTopicBus } from './memory-topic-bus.js';

describe('createTopicBus', () => {
  it('opens the in-process bus for "memory"', async () => {
    const bus = await createTopicBus('memory');
    expect(bus).toBeInstanceOf(MemoryTopicBus);
    await bus.close();
  });

  it('names the DSN it cannot use', async () => {
    await expect(createTopicBus('')).rejects.toThrow('bus_dsn must be a non-empty string, got ""');
    await expect(createTopicBus('amqp://x:5672')).rejects.toThrow(
      'bus_dsn "amqp://x:5672" is not supported: use "memory", "redis://host:port" or "kafka://host:port"',
    );
    await expect(createTopicBus('kafka://broker')).rejects.toThrow(
      'bus_dsn "kafka://broker": each Kafka broker must be host:port (got "broker")',
    );
  });
});
