import { describe, expect, it } from 'vitest';
import { checkBusDsn } from './bus-dsn.js';
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

  it('refuses a Redis DSN whose database is not a number by its form, before connecting', async () => {
    const refused = {
      code: 'QMTL_INVALID_CONFIG',
      message: 'busDsn (--bus-dsn): Redis DSN must look like "redis://[user:password@]host[:port][/db]"',
    };
    // The Runner checks its options with checkBusDsn, before it builds or registers anything.
    expect(() => checkBusDsn('redis://127.0.0.1:6379/abc', 'busDsn (--bus-dsn)')).toThrow(
      expect.objectContaining(refused),
    );
    await expect(createTopicBus('redis://127.0.0.1:6379/abc', 'busDsn (--bus-dsn)')).rejects.toThrow(
      expect.objectContaining(refused),
    );
  });
});
