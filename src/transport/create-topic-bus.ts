import { redactDsn } from '../common/dsn.js';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { kafkaBrokers } from '../common/kafka-dsn.js';
import { KafkaTopicBus } from './kafka-topic-bus.js';
import { MemoryTopicBus } from './memory-topic-bus.js';
import { RedisTopicBus } from './redis-topic-bus.js';
import type { TopicBus } from './topic-bus.js';

/**
 * Opens the topic bus a DSN names: `memory` (in-process, embedded mode), `redis://host:port[/db]`
 * (Redis Streams) or `kafka://host:port[,host:port…]` (Kafka), and checks that it answers. Drivers
 * load only when used. `option` names the setting the DSN came from in errors, as its user knows it
 * (the Runner says `busDsn (--bus-dsn)`).
 * @throws QmtlError `QMTL_INVALID_CONFIG` for a DSN it cannot use; `QMTL_UNAVAILABLE` naming the
 * DSN (password hidden) and `option` when the bus cannot be reached at all.
 * @example const bus = await createTopicBus('kafka://127.0.0.1:19092');
 */
export async function createTopicBus(dsn: string, option = 'dsn'): Promise<TopicBus> {
  if (typeof dsn !== 'string' || dsn.trim() === '')
    throw new QmtlError(ErrorCode.InvalidConfig, `${option} must be a non-empty string, got ${quote(dsn)}`);
  if (dsn === 'memory') return new MemoryTopicBus();
  let connecting: Promise<TopicBus>;
  if (/^rediss?:\/\//.test(dsn)) connecting = RedisTopicBus.connect(dsn, { requireConnection: true });
  else if (dsn.startsWith('kafka://'))
    connecting = KafkaTopicBus.connect({ brokers: kafkaBrokers(dsn, option) });
  else
    throw new QmtlError(
      ErrorCode.InvalidConfig,
      `${option} ${quote(dsn)} is not supported: use "memory", "redis://host:port" or "kafka://host:port"`,
    );
  return connecting.catch((error: unknown) => {
    if (!(error instanceof QmtlError)) throw error;
    if (error.code === ErrorCode.InvalidArgument)
      throw new QmtlError(ErrorCode.InvalidConfig, `${option}: ${error.message}`, { cause: error });
    throw new QmtlError(
      error.code,
      `the topic bus at ${option} ${quote(redactDsn(dsn))} does not answer (${error.message})`,
      { cause: error },
    );
  });
}
