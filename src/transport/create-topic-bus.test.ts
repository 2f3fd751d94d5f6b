import { describe, expect, it } from 'vitest';
import { createTopicBus } from './create-topic-bus.js';
import { MemoryTopicBus } from './memory-topic-bus.js';

describe('createTopicBus', () => {
  it('opens the in-process bus for "memory"', async () => {
    const bus = await createTopicBus('memory');
    expect(bus).toBeInstanceOf(MemoryTopicBus);
    await bus.close();
  });

  it('names the DSN it cannot use, and the option it came from', async () => {
    await expect(createTopicBus('')).rejects.toThrow('dsn must be a non-empty string, got ""');
    await expect(createTopicBus('amqp://x:5672')).rejects.toThrow(
      'dsn "amqp://x:5672" is not supported: use "memory", "redis://host:port" or "kafka://host:port"',
    );
    const option = 'busDsn (--bus-dsn)';
    await expect(createTopicBus('', option)).rejects.toThrow(
      'busDsn (--bus-dsn) must be a non-empty string, got ""',
    );
    await expect(createTopicBus('amqp://x:5672', option)).rejects.toThrow(
      'busDsn (--bus-dsn) "amqp://x:5672" is not supported: use "memory", "redis://host:port" or "kafka://host:port"',
    );
    await expect(createTopicBus('kafka://broker', option)).rejects.toThrow(
      'busDsn (--bus-dsn) "kafka://broker": each Kafka broker must be host:port (got "broker")',
    );
    await expect(createTopicBus('redis://[bad', option)).rejects.toThrow(
      'busDsn (--bus-dsn): Redis DSN must look like "redis://[user:password@]host[:port][/db]"',
    );
  });
});
