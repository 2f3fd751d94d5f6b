import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import type { GatewayConfig, QmtlConfig } from '../common/config.js';
import { listenError } from '../common/listen-error.js';
import { logger } from '../common/logger.js';
import type { DagManagerService } from '../dagmanager/service.js';
import { createGateway, type Gateway } from './create-gateway.js';
import type { DagClient } from './dag-client.js';
import { EmbeddedDagClient } from './embedded-dag-client.js';
import { MemoryStateStore } from './state/memory-state-store.js';
import type { StateStore } from './state/state-store.js';
import { MemoryStrategyStore } from './store/memory-strategy-store.js';
import type { StrategyStore } from './store/strategy-store.js';

/** A running Gateway, with the DAG Manager it hosts when `dagmanager_url` is null. */
export interface GatewayService {
  readonly gateway: Gateway;
  readonly port: number;
  /** The in-process DAG Manager service (gRPC + HTTP), or null when the Gateway uses a remote one. */
  readonly dagManager: DagManagerService | null;
  /** Graceful shutdown: the Gateway first (finishing in-flight work), then the DAG Manager. */
  close(): Promise<void>;
}

/**
 * Starts the Gateway from `qmtl.yml` (SPEC §4, §7): the strategy store (`database_backend`
 * sqlite | postgres | memory), the state store (`queue_backend` memory | redis), and the DAG
 * Manager — over gRPC at `dagmanager_url`, or, when that is null, a DAG Manager service started in
 * this process from the `dagmanager:` section whose events reach the Gateway directly.
 */
export async function startGatewayService(config: QmtlConfig): Promise<GatewayService> {
  const gw = config.gateway;
  const store = await openStrategyStore(gw);
  const state = await openStateStore(gw).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  let gateway: Gateway | null = null;
  let dagManager: DagManagerService | null = null;
  let dagClient: DagClient;
  if (gw.dagmanager_url !== null) {
    const { GrpcDagClient } = await import('./grpc-dag-client.js');
    dagClient = GrpcDagClient.connect(gw.dagmanager_url, {
      failureThreshold: gw.dagclient_breaker_threshold,
      resetTimeoutMs: gw.dagclient_breaker_timeout * 1000,
    });
  } else {
    const { startDagManagerService } = await import('../dagmanager/service.js');
    dagManager = await startDagManagerService(config.dagmanager, {
      events: {
        publish: (type, data) => gateway?.dagEvent(type, data as Record<string, unknown>),
        flush: () => Promise.resolve(),
      },
    });
    dagClient = new EmbeddedDagClient(dagManager.manager);
  }
  gateway = await createGateway(
    { store, state, dagClient, stateIsRemote: gw.queue_backend === 'redis' },
    {
      bodyLimit: gw.max_body_bytes,
      maxNodes: gw.max_nodes,
      insertSentinel: gw.insert_sentinel,
      diffWaitMs: gw.diff_wait_ms,
      lockTtlMs: gw.lock_ttl_ms,
      leaseMs: gw.lease_ms,
      leaseCheckMs: gw.lease_check_ms,
      workerConcurrency: gw.worker_concurrency,
      maxPendingSubmissions: gw.max_pending_submissions,
      unknownWeightLimit: gw.unknown_weight_limit,
      degradationIntervalMs: gw.degradation_check_interval * 1000,
      cpuThresholds: { minimal: gw.degradation_cpu_minimal, static: gw.degradation_cpu_static },
      statsRateLimitPerMinute: gw.stats_rate_limit_per_minute,
      submitRateLimitPerMinute: gw.submit_rate_limit_per_minute,
      jwt:
        gw.jwt_secret === null
          ? null
          : { secret: gw.jwt_secret, audience: gw.jwt_audience, issuer: gw.jwt_issuer },
    },
  );
  let port: number;
  try {
    port = await gateway.listen(gw.host, gw.port);
  } catch (error) {
    // Nothing may keep running: the worker, the degradation loop and the hosted DAG Manager's
    // servers would keep the process alive after the error was reported.
    await gateway.close();
    await dagManager?.close();
    throw listenError(error, 'the Gateway', `${gw.host}:${gw.port}`, 'gateway.port');
  }
  logger.info(
    {
      port,
      database: gw.database_backend,
      queue: gw.queue_backend,
      dagManager: gw.dagmanager_url ?? 'in-process',
    },
    'Gateway started',
  );
  const running = gateway;
  let closing: Promise<void> | null = null;
  return {
    gateway: running,
    port,
    dagManager,
    close: () =>
      (closing ??= (async () => {
        await running.close();
        await dagManager?.close();
        logger.info('Gateway stopped');
      })()),
  };
}

async function openStrategyStore(config: GatewayConfig): Promise<StrategyStore> {
  switch (config.database_backend) {
    case 'memory':
      return new MemoryStrategyStore();
    case 'sqlite': {
      const { SqliteStrategyStore } = await import('./store/sqlite-strategy-store.js');
      return SqliteStrategyStore.open(config.database_dsn ?? './qmtl.db');
    }
    case 'postgres': {
      const dsn = config.database_dsn;
      if (dsn === null || !/^postgres(ql)?:\/\//.test(dsn))
        throw new QmtlError(
          ErrorCode.InvalidConfig,
          `gateway.database_dsn must be a postgresql:// URL when database_backend is "postgres", got ${quote(dsn)}`,
        );
      const { PostgresStrategyStore } = await import('./store/postgres-strategy-store.js');
      return PostgresStrategyStore.connect(dsn, { poolSize: config.database_pool_size });
    }
  }
}

async function openStateStore(config: GatewayConfig): Promise<StateStore> {
  if (config.queue_backend === 'memory') return new MemoryStateStore();
  const { RedisStateStore } = await import('./state/redis-state-store.js');
  return RedisStateStore.connect(config.redis_dsn ?? 'redis://127.0.0.1:6379');
}
