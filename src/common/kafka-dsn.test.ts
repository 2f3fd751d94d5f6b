import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from './kafka-dsn.js';

describe('kafkaBrokers', () => {
  it('reads host:port lists with or without the kafka:// scheme', () => {
    expect(kafkaBrokers('kafka://10.0.0.1:9092, 10.0.0.2:9093', 'busDsn')).toEqual([
      '10.0.0.1:9092',
      '10.0.0.2:9093',
    ]);
    expect(kafkaBrokers('127.0.0.1:19092', 'dagmanager.kafka_dsn')).toEqual(['127.0.0.1:19092']);
  });

  it('names the setting and every broker that is not host:port', () => {
    expect(() => kafkaBrokers('kafka://', 'busDsn')).toThrow('busDsn names no broker');
    expect(() => kafkaBrokers('kafka://a:1,b,c:x', 'dagmanager.kafka_dsn')).toThrow(
      'dagmanager.kafka_dsn "kafka://a:1,b,c:x": each Kafka broker must be host:port (got "b", "c:x")',
    );
  });
});
