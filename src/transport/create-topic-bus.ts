import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { kafkaBrokers } from '../common/kafka-dsn.js';
import { KafkaTopicBus } from './kafka-topic-bus.js';
import { MemoryTopicBus } from './memory-topic-bus.js';
import { RedisTopicBus } from './redis-topic-bus.js';
import type { TopicBus } from './topic-bus.js';

/**
 * Opens the topic bus a DSN names: `memory` (in-process, embedded mode), `redis://host:port[/db]`
 * (Redis Streams) or `kafka://host:port[,host:port…]` (Kafka). Drivers load only when used.
 * @example const bus = await createTopicBus('kafka://127.0.0.1:19092');
 */
export async function createTopicBus(dsn: string): Promise<TopicBus> {
  if (typeof dsn !== 'string' || dsn.trim() === '')
    throw new QmtlError(ErrorCode.InvalidConfig, `bus_dsn must be a non-empty string, got ${quote(dsn)}`);
  if (dsn === 'memory') return new MemoryTopicBus();
  if (/^rediss?:\/\//.test(dsn)) return RedisTopicBus.connect(dsn);
  if (dsn.startsWith('kafka://')) return KafkaTopicBus.connect({ brokers: kafkaBrokers(dsn, 'bus_dsn') });
  throw new QmtlError(
    ErrorCode.InvalidConfig,
    `bus_dsn ${quote(dsn)} is not supported: use "memory", "redis://host:port" or "kafka://host:port"`,
  );
}
