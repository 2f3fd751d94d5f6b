import Fastify, { type FastifyInstance } from 'fastify';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import type { DagManager } from './dag-manager.js';
import type { EventPublisher } from './event-publisher.js';
import type { GarbageCollector } from './gc.js';
import { dagManagerRegistry } from './metrics.js';

/** What the DAG Manager's HTTP side serves. */
export interface DagManagerHttpParts {
  readonly manager: DagManager;
  readonly gc: GarbageCollector;
  /** Where `sentinel_weight` and `gc` CloudEvents go (the Gateway callback). */
  readonly events: EventPublisher;
  /** Largest accepted body in bytes. Default 64 KiB. */
  readonly bodyLimit?: number;
}

const gcTriggerBody = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
  required: ['id'],
} as const;

// Fields are checked by SentinelWeights, which names every bad one with its value.
const weightBody = { type: 'object' } as const;

/** HTTP status of a QmtlError by code; other codes are 422. */
const statusOf: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.RateLimited]: 429,
};

/**
 * The DAG Manager's HTTP app (SPEC §2.8): `GET /status`, `GET /metrics`,
 * `POST /admin/gc-trigger {id}` → 202 `{processed}`, and
 * `POST /callbacks/sentinel-traffic {version, weight∈[0,1]}` → 202 (422 for a bad field), which
 * stores the weight on the sentinel, sets `dagmgr_active_version_weight{version}` and posts a
 * `sentinel_weight` CloudEvent to the Gateway; 429 when no diff wrote the sentinel and the
 * pending weights are at their limit (`sentinel-weights.ts`). Errors are JSON `{error, code}`
 * without stacks.
 */
export function buildHttpApp(parts: DagManagerHttpParts): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: parts.bodyLimit ?? 64 * 1024,
    // A weight of "0.3" or true is a client bug to report, not a value to guess (Ajv coerces by default).
    ajv: { customOptions: { coerceTypes: false } },
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: `no route ${request.method} ${request.url.split('?')[0]}`, code: ErrorCode.NotFound }),
  );
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof QmtlError) {
      const status = statusOf[error.code] ?? 422;
      return reply.status(status).send({ error: error.message, code: error.code });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) logger.error({ err: error }, 'DAG Manager HTTP request failed');
    const message = status >= 500 ? 'internal error' : (error as Error).message;
    return reply
      .status(status === 400 ? 422 : status)
      .send({ error: message, code: ErrorCode.InvalidArgument });
  });

  app.get('/status', async () => {
    const status = await parts.manager.status();
    const ok = status.neo4j === 'ok' && status.queue === 'ok';
    return {
      status: ok ? 'ok' : 'degraded',
      neo4j: status.neo4j,
      queue: status.queue,
      dag_manager: status.state,
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(dagManagerRegistry.contentType);
    return dagManagerRegistry.metrics();
  });

  app.post<{ Body: { id: string } }>(
    '/admin/gc-trigger',
    { schema: { body: gcTriggerBody } },
    async (request, reply) => {
      const processed = await parts.gc.collect();
      const queues = processed.map((q) => q.topic);
      parts.events.publish('gc', { id: request.body.id, queues });
      return reply.status(202).send({ processed: queues });
    },
  );

  app.post<{ Body: { version?: unknown; weight?: unknown } }>(
    '/callbacks/sentinel-traffic',
    { schema: { body: weightBody } },
    async (request, reply) => {
      const { version, weight } = await parts.manager.sentinelWeights.set(
        request.body.version,
        request.body.weight,
      );
      parts.events.publish('sentinel_weight', { sentinel_id: version, weight });
      return reply.status(202).send({ version, weight });
    },
  );

  return app;
}
