import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { kafkaBrokers } from '../common/kafka-dsn.js';
import { redisAddress } from '../common/redis-support.js';

/**
 * Checks that `dsn` names a topic bus qmtl can open — `memory`, `redis[s]://host[:port][/db]` or
 * `kafka://host:port[,host:port…]` — by its form alone: nothing is contacted. `option` names the
 * setting in errors, as its user knows it (e.g. `busDsn (--bus-dsn)`).
 * @throws QmtlError `QMTL_INVALID_CONFIG` naming `option` and the DSN (a Redis DSN is not echoed:
 * it may hold a password).
 * @example checkBusDsn('kafka://broker', 'busDsn') // throws: each Kafka broker must be host:port
 */
export function checkBusDsn(dsn: string, option = 'dsn'): void {
  if (typeof dsn !== 'string' || dsn.trim() === '')
    throw new QmtlError(ErrorCode.InvalidConfig, `${option} must be a non-empty string, got ${quote(dsn)}`);
  if (dsn === 'memory') return;
  if (dsn.startsWith('kafka://')) {
    kafkaBrokers(dsn, option);
    return;
  }
  if (!/^rediss?:\/\//.test(dsn))
    throw new QmtlError(
      ErrorCode.InvalidConfig,
      `${option} ${quote(dsn)} is not supported: use "memory", "redis://host:port" or "kafka://host:port"`,
    );
  try {
    redisAddress(dsn);
  } catch (error) {
    throw new QmtlError(ErrorCode.InvalidConfig, `${option}: ${(error as Error).message}`, { cause: error });
  }
}
