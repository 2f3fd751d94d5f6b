import { crc32OfList } from '../common/crc32.js';
import type { DagJson } from '../dag/node-json.js';
import { DagManager } from '../dagmanager/dag-manager.js';
import { MemoryNodeRepository } from '../dagmanager/memory-node-repository.js';
import { MemoryQueueAdmin } from '../dagmanager/memory-queue-admin.js';
import { createGateway, type Gateway, type GatewayOptions } from './create-gateway.js';
import type { DagClient } from './dag-client.js';
import { EmbeddedDagClient } from './embedded-dag-client.js';
import { MemoryStateStore } from './state/memory-state-store.js';
import type { StateStore } from './state/state-store.js';
import { MemoryStrategyStore } from './store/memory-strategy-store.js';
import type { StrategyStore } from './store/strategy-store.js';

/** An in-process DAG Manager on memory adapters. */
export function memoryDagManager(): DagManager {
  const admin = new MemoryQueueAdmin();
  return new DagManager({
    repo: MemoryNodeRepository.open(),
    admin,
    topics: { ensure: (spec) => admin.createTopic({ ...spec, replicationFactor: 1 }) },
  });
}

/** What {@link testGateway} builds, with the parts tests poke at. */
export interface TestGateway {
  readonly gateway: Gateway;
  readonly store: StrategyStore;
  readonly state: StateStore;
  readonly dagManager: DagManager;
}

/**
 * A Gateway on memory adapters and an in-process DAG Manager, worker and degradation running
 * (not listening: use `gateway.app.inject`, or `gateway.listen('127.0.0.1', 0)` for sockets).
 */
export async function testGateway(
  options: GatewayOptions & {
    store?: StrategyStore;
    state?: StateStore;
    dagClient?: DagClient;
    listen?: boolean;
  } = {},
): Promise<TestGateway> {
  const dagManager = memoryDagManager();
  const store = options.store ?? new MemoryStrategyStore();
  const state = options.state ?? new MemoryStateStore();
  const dagClient = options.dagClient ?? new EmbeddedDagClient(dagManager);
  const gateway = await createGateway(
    { store, state, dagClient },
    { cpuPercent: () => 0, statsRateLimitPerMinute: 0, workerSweepMs: 60_000, ...options },
  );
  if (options.listen === true) await gateway.listen('127.0.0.1', 0);
  else {
    await gateway.degradation.evaluate();
    await gateway.worker.start();
  }
  return { gateway, store, state, dagManager };
}

/** A `POST /strategies` body for a DAG (base64, correct CRC), with overrides. */
export function submission(dag: DagJson, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dag_json: Buffer.from(JSON.stringify(dag)).toString('base64'),
    meta: null,
    run_type: 'live',
    node_ids_crc32: crc32OfList(dag.nodes.map((n) => n.node_id)),
    ...overrides,
  };
}
