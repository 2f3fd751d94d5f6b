/** The topic bus (SPEC §2.9): the port, its in-process adapter, and the Redis Streams and Kafka adapters (drivers load on connect). */
export * from './topic-bus.js';
export { MemoryTopicBus, MemoryTopicBroker } from './memory-topic-bus.js';
export { RedisTopicBus } from './redis-topic-bus.js';
export { KafkaTopicBus } from './kafka-topic-bus.js';
export { createTopicBus } from './create-topic-bus.js';
