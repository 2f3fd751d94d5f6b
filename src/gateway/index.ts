/**
 * The Gateway service (SPEC §2.5, §2.6, §4): `startGatewayService(config)` runs it from
 * `qmtl.yml`; `createGateway(adapters, options)` wires it from adapters you open yourself.
 */
export { createGateway, type Gateway, type GatewayAdapters, type GatewayOptions } from './create-gateway.js';
export { startGatewayService, type GatewayService } from './service.js';
export type { DagClient, GatewayDiff } from './dag-client.js';
export { EmbeddedDagClient } from './embedded-dag-client.js';
export { GrpcDagClient } from './grpc-dag-client.js';
export { DegradationManager, DegradeLevel, DegradeLevelName } from './degradation.js';
export {
  GatewayEventType,
  type EventHub,
  type GatewayEventData,
  type ProducerReleasedUpdate,
  type TagQueueUpdate,
} from './event-hub.js';
export { gatewayMetrics, gatewayRegistry } from './metrics.js';
export { StrategyStatus, StrategyEvent, RunType } from './strategy-status.js';
export { nextStatus, strategyMachine } from './strategy-fsm.js';
export type { StateStore } from './state/state-store.js';
export { MemoryStateStore } from './state/memory-state-store.js';
export type { StrategyStore, StrategyRecord, StoredDiff } from './store/strategy-store.js';
export { MemoryStrategyStore } from './store/memory-strategy-store.js';
export type { SubmitReply } from './strategy-intake.js';
export { SqliteStrategyStore } from './store/sqlite-strategy-store.js';
export { PostgresStrategyStore } from './store/postgres-strategy-store.js';
export { RedisStateStore } from './state/redis-state-store.js';
