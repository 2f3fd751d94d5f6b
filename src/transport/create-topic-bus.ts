import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { kafkaBrokers } from '../common/kafka-dsn.js';
import { KafkaTopicBus } from './kafka-topic-bus.js';
import { MemoryTopicBus } from './memory-topic-bus.js';
import { RedisTopicBus } from './redis-topic-bus.js';
import type { TopicBus } from './topic-bus.js';

/**
 * Opens the topic bus a DSN names: `memory` (in-process, embedded mode), `redis://host:port[/db]`
 * (Redis Streams) or `kafka://host:port[,host:port…]` (Kafka). Drivers load only when used.
 * `option` names the setting the DSN came from in errors, as its user knows it (the Runner says
 * `busDsn (--bus-dsn)`).
 * @example const bus = await createTopicBus('kafka://127.0.0.1:19092');
 */
export async function createTopicBus(dsn: string, option = 'dsn'): Promise<TopicBus> {
  if (typeof dsn !== 'string' || dsn.trim() === '')
    throw new QmtlError(ErrorCode.InvalidConfig, `${option} must be a non-empty string, got ${quote(dsn)}`);
  if (dsn === 'memory') return new MemoryTopicBus();
  if (/^rediss?:\/\//.test(dsn))
    return RedisTopicBus.connect(dsn).catch((error: unknown) => {
      throw error instanceof QmtlError && error.code === ErrorCode.InvalidArgument
        ? new QmtlError(ErrorCode.InvalidConfig, `${option}: ${error.message}`, { cause: error })
        : error;
    });
  if (dsn.startsWith('kafka://')) return KafkaTopicBus.connect({ brokers: kafkaBrokers(dsn, option) });
  throw new QmtlError(
    ErrorCode.InvalidConfig,
    `${option} ${quote(dsn)} is not supported: use "memory", "redis://host:port" or "kafka://host:port"`,
  );
}
