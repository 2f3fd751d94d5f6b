import type { DagManagerConfig } from '../common/config.js';
import { kafkaBrokers } from '../common/kafka-dsn.js';
import { listenError } from '../common/listen-error.js';
import { logger } from '../common/logger.js';
import type { PostOptions } from '../common/post-with-backoff.js';
import { WebhookAlerter, type Alerter } from './alerts.js';
import { DagManager } from './dag-manager.js';
import { HttpEventPublisher, nullPublisher, type EventPublisher } from './event-publisher.js';
import { GarbageCollector } from './gc.js';
import { startGrpcServer, type GrpcServerHandle } from './grpc-server.js';
import { buildHttpApp } from './http-app.js';
import { KafkaQueueAdmin } from './kafka-queue-admin.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';
import { QueueCompletionMonitor, recomputeStaleBuffering } from './monitors.js';
import type { NodeRecord, OrphanQueue } from './node-record.js';
import type { NodeRepository } from './node-repository.js';
import { PeriodicTask } from '../common/periodic-task.js';
import type { QueueAdmin } from './queue-admin.js';
import { FileObjectStore, ObjectStoreArchive } from './queue-archive.js';
import { topicSpec } from './topics.js';
import { TopicCreator } from './topic-creator.js';

/** A running DAG Manager: gRPC + HTTP servers and background tasks. */
export interface DagManagerService {
  readonly manager: DagManager;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly gc: GarbageCollector;
  /** Graceful shutdown: stop accepting, finish running work, stop tasks, close the stores. */
  close(): Promise<void>;
}

/**
 * Starts the DAG Manager from its config section (SPEC §5, §7): the graph store (memory journal
 * or Neo4j), the queue admin (in-process or Kafka) behind the retrying, circuit-broken
 * TopicCreator, the gRPC and HTTP servers, GC, the buffering scheduler and the queue-completion
 * monitor, with CloudEvents to the Gateway callback and Slack/PagerDuty alerts when configured.
 * `options.events` replaces the callback (a Gateway in the same process receives them directly).
 */
export async function startDagManagerService(
  config: DagManagerConfig,
  options: { events?: EventPublisher } = {},
): Promise<DagManagerService> {
  const repo = await openRepository(config);
  const admin = openQueueAdmin(config);
  // In-process queues live as long as the process: the stored nodes get their topics back.
  if (admin instanceof MemoryQueueAdmin && repo instanceof MemoryNodeRepository)
    await admin.createTopics(
      [...repo.records()].map((record) => topicSpec(record.topic, record.kind, Number.MAX_SAFE_INTEGER)),
    );
  const events: EventPublisher =
    options.events ??
    (config.gateway_callback_url === null
      ? nullPublisher
      : new HttpEventPublisher(config.gateway_callback_url, callbackOptions(config.gateway_callback_token)));
  const alerter: Alerter | null =
    config.slack_webhook_url === null && config.pagerduty_webhook_url === null
      ? null
      : new WebhookAlerter({
          slackUrl: config.slack_webhook_url,
          pagerDutyUrl: config.pagerduty_webhook_url,
        });
  const topics = new TopicCreator(admin);
  const manager = new DagManager({
    repo,
    admin,
    topics,
    pendingWeights: {
      pendingLimit: config.pending_weight_limit,
      pendingTtlMs: config.pending_weight_ttl * 1000,
    },
    listener: {
      onNewNodes: (_strategy, nodes) =>
        void announceQueues(events, repo, nodes).catch((error: unknown) =>
          logger.warn({ err: error }, 'could not announce new queues'),
        ),
    },
  });
  const gc = new GarbageCollector({
    repo,
    admin,
    batchSize: config.gc_batch_size,
    archive: new ObjectStoreArchive(new FileObjectStore(config.archive_dir), 'queues'),
    exclusive: (nodeIds, section) => manager.diffService.collecting(nodeIds, section),
    onDropped: (queues) => void announceDropped(events, repo, queues),
  });
  const monitor = new QueueCompletionMonitor(repo, admin, events);
  const withAlert = (name: string, run: () => Promise<unknown>) => async (): Promise<void> => {
    try {
      await run();
    } catch (error) {
      await alerter?.alert('critical', `DAG Manager ${name} failed: ${(error as Error).message}`);
      throw error;
    }
  };
  const tasks = [
    new PeriodicTask(
      'gc',
      config.gc_interval * 1000,
      withAlert('GC', async () => {
        await gc.collect();
        // Weights whose sentinel never came go too, with their gauge labels.
        await manager.sentinelWeights.expire();
      }),
    ),
    new PeriodicTask(
      'buffering',
      config.buffering_check_interval * 1000,
      withAlert('buffering scheduler', () => recomputeStaleBuffering(repo, events, Date.now())),
    ),
    new PeriodicTask('queue-monitor', config.queue_monitor_interval * 1000, () => monitor.check()),
  ];

  let grpc: GrpcServerHandle | null = null;
  const http = buildHttpApp({ manager, gc, events });
  try {
    grpc = await startGrpcServer(manager, {
      host: config.grpc_host,
      port: config.grpc_port,
      ackWindow: config.diff_ack_window,
      ackTimeoutMs: config.diff_ack_timeout * 1000,
      chunkLimits: { maxNodes: config.diff_chunk_size, maxBytes: 1024 * 1024 },
    }).catch((error: unknown) => {
      throw listenError(
        error,
        'the DAG Manager (gRPC)',
        `${config.grpc_host}:${config.grpc_port}`,
        'dagmanager.grpc_port',
      );
    });
    await http.listen({ host: config.http_host, port: config.http_port }).catch((error: unknown) => {
      throw listenError(
        error,
        'the DAG Manager (HTTP)',
        `${config.http_host}:${config.http_port}`,
        'dagmanager.http_port',
      );
    });
  } catch (error) {
    await grpc?.close(0);
    await http.close();
    await manager.close();
    throw error;
  }
  for (const task of tasks) task.start();
  const address = http.server.address();
  const httpPort = typeof address === 'object' && address !== null ? address.port : config.http_port;
  logger.info(
    { grpcPort: grpc.port, httpPort, repo: config.repo_backend, queue: config.queue_backend },
    'DAG Manager started',
  );

  const grpcServer = grpc;
  let closing: Promise<void> | null = null;
  return {
    manager,
    grpcPort: grpcServer.port,
    httpPort,
    gc,
    close: () =>
      (closing ??= (async () => {
        await Promise.all([grpcServer.close(), http.close(), ...tasks.map((t) => t.stop())]);
        await events.flush();
        await manager.close();
        logger.info('DAG Manager stopped');
      })()),
  };
}

function callbackOptions(token: string | null): PostOptions {
  return token === null ? {} : { headers: { authorization: `Bearer ${token}` } };
}

async function openRepository(config: DagManagerConfig): Promise<NodeRepository> {
  if (config.repo_backend === 'memory') return MemoryNodeRepository.open(config.memory_repo_path);
  const { Neo4jNodeRepository } = await import('./neo4j-node-repository.js');
  return Neo4jNodeRepository.connect({
    uri: config.neo4j_dsn ?? 'bolt://127.0.0.1:7687',
    user: config.neo4j_user,
    password: config.neo4j_password ?? '',
  });
}

function openQueueAdmin(config: DagManagerConfig): QueueAdmin {
  if (config.queue_backend === 'memory') return new MemoryQueueAdmin();
  return new KafkaQueueAdmin({
    brokers: kafkaBrokers(config.kafka_dsn ?? '127.0.0.1:9092', 'dagmanager.kafka_dsn'),
  });
}

/**
 * `queue_update` for the tag queries a new node joins: for each of its tags, the full list of
 * queues with that tag and interval (subscribers replace their list with it).
 */
async function announceQueues(
  events: EventPublisher,
  repo: NodeRepository,
  nodes: readonly NodeRecord[],
): Promise<void> {
  const queries = new Map<string, { tag: string; interval: number }>();
  for (const node of nodes) {
    if (node.interval === null) continue;
    for (const tag of node.tags) queries.set(`${tag}:${node.interval}`, { tag, interval: node.interval });
  }
  for (const { tag, interval } of queries.values()) {
    const queues = await repo.getQueuesByTags({ tags: [tag], interval, matchMode: 'any' });
    events.publish('queue_update', { tags: [tag], interval, queues, match_mode: 'any' });
  }
}

/** After GC dropped queues, consumers of their tags get the queues that remain. */
async function announceDropped(
  events: EventPublisher,
  repo: NodeRepository,
  queues: readonly OrphanQueue[],
): Promise<void> {
  for (const queue of queues) {
    if (queue.interval === null || queue.tags.length === 0) continue;
    const remaining = await repo.getQueuesByTags({
      tags: queue.tags,
      interval: queue.interval,
      matchMode: 'any',
    });
    events.publish('queue_update', {
      tags: queue.tags,
      interval: queue.interval,
      queues: remaining,
      match_mode: 'any',
    });
  }
}
