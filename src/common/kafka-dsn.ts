import { ErrorCode, QmtlError, quote } from './errors.js';

/**
 * The bootstrap brokers of a Kafka DSN: `[kafka://]host:port[,host:port…]`. `key` names the
 * setting in the error (e.g. `dagmanager.kafka_dsn`).
 * @example kafkaBrokers('kafka://10.0.0.1:9092,10.0.0.2:9092', 'busDsn') // ['10.0.0.1:9092', '10.0.0.2:9092']
 */
export function kafkaBrokers(dsn: string, key: string): string[] {
  const brokers = dsn
    .replace(/^kafka:\/\//, '')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  if (brokers.length === 0) throw new QmtlError(ErrorCode.InvalidConfig, `${key} names no broker`);
  const bad = brokers.filter((broker) => !/^[^\s:/]+:\d+$/.test(broker));
  if (bad.length > 0)
    throw new QmtlError(
      ErrorCode.InvalidConfig,
      `${key} ${quote(dsn)}: each Kafka broker must be host:port (got ${bad.map((b) => quote(b)).join(', ')})`,
    );
  return brokers;
}
