import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { ProducerFailover } from '../producer-failover.js';
import type { StrategyLifecycle } from '../strategy-lifecycle.js';
import type { StrategyIntake } from '../strategy-intake.js';
import type { StrategyStore } from '../store/strategy-store.js';

/** What the strategy routes use. */
export interface StrategyRouteParts {
  readonly intake: StrategyIntake;
  readonly failover: ProducerFailover;
  readonly lifecycle: StrategyLifecycle;
  readonly store: StrategyStore;
  /** Per-client limit of `POST /strategies` (`@fastify/rate-limit`), when enabled. */
  readonly submitRateLimit?: { max: number; timeWindow: number } | null;
  /** Runs before mutating routes (bearer-JWT when configured). */
  readonly guard?: onRequestAsyncHookHandler;
}

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
  required: ['id'],
} as const;

/**
 * `POST /strategies` (202 with the diff), `GET /strategies/:id/status`, `GET /strategies/:id`,
 * `DELETE /strategies/:id` and `POST /strategies/:id/stop` (SPEC §2.5), plus producer failover:
 * `POST /strategies/:id/heartbeat` (renews the lease) and `POST /strategies/:id/claim` (takes over
 * released nodes).
 */
export function registerStrategyRoutes(app: FastifyInstance, parts: StrategyRouteParts): void {
  // onRequest: a request is authenticated before its body is read or validated.
  const guarded = parts.guard === undefined ? {} : { onRequest: parts.guard };

  const limited = parts.submitRateLimit ? { config: { rateLimit: parts.submitRateLimit } } : {};
  app.post('/strategies', { ...guarded, ...limited }, async (request, reply) => {
    const result = await parts.intake.submit(request.body);
    return reply.status(202).send(result);
  });

  app.get<{ Params: { id: string } }>(
    '/strategies/:id/status',
    { schema: { params: idParams } },
    async (request) => {
      const status = await parts.lifecycle.status(request.params.id);
      if (status === null) throw notFound(request.params.id);
      return { status };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/strategies/:id',
    { schema: { params: idParams } },
    async (request) => {
      const record = await parts.store.get(request.params.id);
      if (record === null) throw notFound(request.params.id);
      return {
        strategy_id: record.id,
        status: record.status,
        run_type: record.runType,
        meta: record.meta,
        created_at: record.createdAt,
        queue_map: record.diff?.queueMap ?? {},
        topic_map: record.diff?.topicMap ?? {},
        sentinel_id: record.diff?.sentinelId ?? null,
        events: (await parts.store.events(record.id)).map((e) => ({
          event: e.event,
          from: e.fromStatus,
          to: e.toStatus,
          at: e.at,
        })),
      };
    },
  );

  const stop = async (id: string): Promise<unknown> => {
    if ((await parts.store.get(id)) === null) throw notFound(id);
    return parts.intake.stop(id);
  };
  app.delete<{ Params: { id: string } }>(
    '/strategies/:id',
    { schema: { params: idParams }, ...guarded },
    (request) => stop(request.params.id),
  );
  app.post<{ Params: { id: string } }>(
    '/strategies/:id/stop',
    { schema: { params: idParams }, ...guarded },
    (request) => stop(request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/strategies/:id/heartbeat',
    { schema: { params: idParams }, ...guarded },
    (request) => parts.failover.heartbeat(request.params.id),
  );
  app.post<{ Params: { id: string } }>(
    '/strategies/:id/claim',
    { schema: { params: idParams }, ...guarded },
    (request) => parts.failover.claim(request.params.id),
  );
}

function notFound(id: string): QmtlError {
  return new QmtlError(ErrorCode.NotFound, `strategy ${quote(id)} not found`);
}
