import type { FastifyInstance } from 'fastify';
import { logger } from '../common/logger.js';
import type { DagClient } from './dag-client.js';
import { DegradationManager, type CpuThresholds } from './degradation.js';
import { buildGatewayApp, type GatewayAppOptions } from './gateway-app.js';
import { ProducerFailover } from './producer-failover.js';
import { QueueWatchHub } from './queue-watch-hub.js';
import { applyDagEvent } from './routes/callback-routes.js';
import { SentinelWeights } from './sentinel-weights.js';
import type { StateStore } from './state/state-store.js';
import type { StrategyStore } from './store/strategy-store.js';
import { StrategyIntake } from './strategy-intake.js';
import { StrategyLifecycle } from './strategy-lifecycle.js';
import { StrategyWorker } from './strategy-worker.js';
import { WebSocketHub } from './ws-hub.js';

/** The adapters a Gateway runs on (opened by the caller, closed by {@link Gateway.close}). */
export interface GatewayAdapters {
  readonly store: StrategyStore;
  readonly state: StateStore;
  readonly dagClient: DagClient;
  /** True when `state` is Redis: it is then a dependency the degradation manager checks. */
  readonly stateIsRemote?: boolean;
}

/** Tuning of a Gateway; every field has a default. */
export interface GatewayOptions extends GatewayAppOptions {
  readonly insertSentinel?: boolean;
  readonly maxNodes?: number;
  /** How long a submission waits for its diff before answering without it (ms). Default 10,000. */
  readonly diffWaitMs?: number;
  readonly lockTtlMs?: number;
  readonly workerConcurrency?: number;
  /** Submissions waiting for their diff at once before POST /strategies answers 503. Default 2,000. */
  readonly maxPendingSubmissions?: number;
  /** Canary weights kept for sentinels of no active strategy (the least recently updated goes first). Default 1,000. */
  readonly unknownWeightLimit?: number;
  readonly workerSweepMs?: number;
  readonly degradationIntervalMs?: number;
  /** CPU percent of the MINIMAL and STATIC levels. Default 85 and 95 (SPEC §4). */
  readonly cpuThresholds?: CpuThresholds;
  /** How long a heartbeat keeps a strategy alive (its producer lease), in ms. Default 15,000. */
  readonly leaseMs?: number;
  /** Interval of the lease monitor that stops strategies whose lease expired, in ms. Default 1,000. */
  readonly leaseCheckMs?: number;
  /** CPU sampler for degradation (tests pin it). */
  readonly cpuPercent?: () => number;
}

/** A Gateway: its app, worker and background checks. */
export interface Gateway {
  readonly app: FastifyInstance;
  readonly worker: StrategyWorker;
  readonly degradation: DegradationManager;
  readonly wsHub: WebSocketHub;
  readonly intake: StrategyIntake;
  /** Heartbeats, the lease monitor and claims. */
  readonly failover: ProducerFailover;
  /** The canary routing table. */
  readonly weights: SentinelWeights;
  /** Applies a DAG Manager event in-process (the embedded DAG Manager's callback); an invalid one is logged. */
  dagEvent(type: string, data: Record<string, unknown>): void;
  /** Starts the worker, the degradation loop and the lease monitor, then listens. Returns the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting, finishes in-flight work, stops the loops and closes every adapter. */
  close(): Promise<void>;
}

/**
 * Wires a Gateway from its adapters (the composition root, SPEC §4). The worker pauses while the
 * DAG Manager is down and resumes the moment the degradation manager sees it back.
 *
 * @example
 * const gateway = await createGateway({ store, state, dagClient });
 * const port = await gateway.listen('127.0.0.1', 8000);
 */
export async function createGateway(
  adapters: GatewayAdapters,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const { store, state, dagClient } = adapters;
  const wsHub = new WebSocketHub();
  const watchHub = new QueueWatchHub();
  const degradation = new DegradationManager({
    checks: {
      ...(adapters.stateIsRemote === true && { redis: () => state.ping() }),
      database: () => store.health(),
      dagManager: () => dagClient.healthy(),
    },
    ...(options.cpuPercent && { cpuPercent: options.cpuPercent }),
    ...(options.degradationIntervalMs !== undefined && { intervalMs: options.degradationIntervalMs }),
    ...(options.cpuThresholds !== undefined && { cpuThresholds: options.cpuThresholds }),
  });
  const dagManagerDown = (): boolean => degradation.dependencies.dag_manager === 'error';
  const lifecycle = new StrategyLifecycle({ store, state, events: wsHub });
  const weights = new SentinelWeights({
    events: wsHub,
    strategyStatus: (strategyId) => lifecycle.status(strategyId),
    ...(options.unknownWeightLimit !== undefined && { unknownLimit: options.unknownWeightLimit }),
  });
  const worker = new StrategyWorker({
    store,
    state,
    lifecycle,
    dagClient,
    events: wsHub,
    canProcess: () => !dagManagerDown(),
    ...(options.lockTtlMs !== undefined && { lockTtlMs: options.lockTtlMs }),
    ...(options.workerConcurrency !== undefined && { concurrency: options.workerConcurrency }),
    ...(options.workerSweepMs !== undefined && { sweepMs: options.workerSweepMs }),
  });
  degradation.onChange(({ current }) => {
    if (current.dependencies.dag_manager === 'ok') worker.kick();
  });
  const intake = new StrategyIntake({
    lifecycle,
    state,
    worker,
    dagClient,
    events: wsHub,
    dagManagerDown,
    weights,
    insertSentinel: options.insertSentinel ?? true,
    ...(options.maxNodes !== undefined && { limits: { maxNodes: options.maxNodes } }),
    ...(options.diffWaitMs !== undefined && { diffWaitMs: options.diffWaitMs }),
    ...(options.maxPendingSubmissions !== undefined && { maxPending: options.maxPendingSubmissions }),
  });
  const failover = new ProducerFailover({
    store,
    state,
    lifecycle,
    intake,
    dagClient,
    events: wsHub,
    dagManagerDown,
    insertSentinel: options.insertSentinel ?? true,
    ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
    ...(options.leaseCheckMs !== undefined && { leaseCheckMs: options.leaseCheckMs }),
  });
  const app = await buildGatewayApp(
    { intake, failover, lifecycle, store, dagClient, wsHub, watchHub, weights, degradation },
    options,
  );
  let closing: Promise<void> | null = null;
  return {
    app,
    worker,
    degradation,
    wsHub,
    intake,
    failover,
    weights,
    dagEvent: (type, data) => {
      applyDagEvent({ events: wsHub, watchHub, weights }, type, data).catch((error: unknown) =>
        logger.warn({ err: error, type }, 'invalid DAG Manager event ignored'),
      );
    },
    async listen(host, port) {
      await degradation.evaluate();
      degradation.start();
      await worker.start();
      failover.start();
      await app.listen({ host, port });
      const address = app.server.address();
      return typeof address === 'object' && address !== null ? address.port : port;
    },
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await failover.stop();
        await worker.stop();
        await degradation.stop();
        await Promise.allSettled([dagClient.close(), state.close(), store.close()]);
      })()),
  };
}
