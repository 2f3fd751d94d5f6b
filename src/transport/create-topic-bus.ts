import { redactDsn } from '../common/dsn.js';
import { QmtlError, quote } from '../common/errors.js';
import { kafkaBrokers } from '../common/kafka-dsn.js';
import { checkBusDsn } from './bus-dsn.js';
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
  checkBusDsn(dsn, option);
  if (dsn === 'memory') return new MemoryTopicBus();
  const connecting = dsn.startsWith('kafka://')
    ? KafkaTopicBus.connect({ brokers: kafkaBrokers(dsn, option) })
    : RedisTopicBus.connect(dsn, { requireConnection: true });
  // checkBusDsn refused every DSN the adapters would: what fails now is the bus not answering.
  return connecting.catch((error: unknown) => {
    if (!(error instanceof QmtlError)) throw error;
    throw new QmtlError(
      error.code,
      `the topic bus at ${option} ${quote(redactDsn(dsn))} does not answer (${error.message})`,
      { cause: error },
    );
  });
}
