import Fastify, { type FastifyInstance, type preHandlerAsyncHookHandler } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { packageVersion } from '../common/package-version.js';
import { bearerJwt, type JwtAuthOptions } from './auth.js';
import type { DagClient } from './dag-client.js';
import { DegradeLevel, type DegradationManager } from './degradation.js';
import { errorBody, installErrorHandler } from './http-errors.js';
import { gatewayMetrics } from './metrics.js';
import { gatewayOpenApi } from './openapi.js';
import type { ProducerFailover } from './producer-failover.js';
import type { QueueWatchHub } from './queue-watch-hub.js';
import { registerCallbackRoutes } from './routes/callback-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerQueueRoutes } from './routes/queue-routes.js';
import { registerStrategyRoutes } from './routes/strategy-routes.js';
import type { SentinelWeights } from './sentinel-weights.js';
import type { StrategyIntake } from './strategy-intake.js';
import type { StrategyLifecycle } from './strategy-lifecycle.js';
import type { StrategyStore } from './store/strategy-store.js';
import type { WebSocketHub } from './ws-hub.js';

/** The services the Gateway's HTTP app serves. */
export interface GatewayAppParts {
  readonly intake: StrategyIntake;
  readonly failover: ProducerFailover;
  readonly lifecycle: StrategyLifecycle;
  readonly store: StrategyStore;
  readonly dagClient: DagClient;
  readonly wsHub: WebSocketHub;
  readonly watchHub: QueueWatchHub;
  readonly weights: SentinelWeights;
  readonly degradation: DegradationManager;
}

/** HTTP settings of the Gateway app. */
export interface GatewayAppOptions {
  /** Largest accepted body in bytes; larger is 413 before parsing. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** Bearer-JWT on mutating routes and `/ws`; null or absent = off. */
  readonly jwt?: JwtAuthOptions | null;
  /** Per-client limit of the stats routes (`/queues/*`, `/status`, `/health`, `/metrics`) per minute. Default 600; 0 = off. */
  readonly statsRateLimitPerMinute?: number;
  /** Per-client limit of `POST /strategies` per minute. Default 0 = off (admission control still sheds). */
  readonly submitRateLimitPerMinute?: number;
  /** The API version `/docs` reports. Default: this package's version. */
  readonly version?: string;
}

/** Routes that stay up in STATIC degradation (operators need them). */
const ALWAYS_SERVED = new Set(['/status', '/health', '/metrics', '/docs']);

/**
 * Builds the Gateway's Fastify app (SPEC §2.5, §4): the strategy, queue, callback and health
 * routes, `/ws`, `/docs`, the degradation gate (STATIC → 204 + Retry-After; MINIMAL → 503 for
 * submissions), optional bearer-JWT, per-client rate limits (stats routes; submissions when configured), one
 * error handler.
 */
export async function buildGatewayApp(
  parts: GatewayAppParts,
  options: GatewayAppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    // Strategy ids up to 256 characters reach the route schema (Fastify's default stops at 100).
    routerOptions: { maxParamLength: 256 },
    // Idle keep-alive sockets must not hold up a shutdown.
    forceCloseConnections: true,
  });
  installErrorHandler(app);
  const perMinute = options.statsRateLimitPerMinute ?? 600;
  const statsLimit = perMinute > 0 ? { max: perMinute, timeWindow: 60_000 } : null;
  await app.register(rateLimit, { global: false });
  const guard: preHandlerAsyncHookHandler | undefined = options.jwt ? bearerJwt(options.jwt) : undefined;

  app.addHook('onRequest', async (request, reply) => {
    const level = parts.degradation.level;
    const path = request.url.split('?')[0] ?? '';
    if (level === DegradeLevel.Static && !ALWAYS_SERVED.has(path)) {
      return reply.status(204).header('retry-after', '30').send();
    }
    if (level === DegradeLevel.Minimal && request.method === 'POST' && path === '/strategies') {
      const error = new QmtlError(
        ErrorCode.Unavailable,
        `the Gateway is degraded (MINIMAL: ${parts.degradation.reason}); new submissions are refused until it recovers, try again later`,
      );
      return reply.status(503).header('retry-after', '30').send(errorBody(error));
    }
    return undefined;
  });
  app.addHook('onResponse', async (request, reply) => {
    gatewayMetrics.httpRequestMs.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        status: String(reply.statusCode),
      },
      reply.elapsedTime,
    );
  });

  await parts.wsHub.register(app, guard === undefined ? {} : { preValidation: guard });
  const perMinuteSubmits = options.submitRateLimitPerMinute ?? 0;
  registerStrategyRoutes(app, {
    ...parts,
    ...(guard && { guard }),
    submitRateLimit: perMinuteSubmits > 0 ? { max: perMinuteSubmits, timeWindow: 60_000 } : null,
  });
  registerQueueRoutes(app, { dagClient: parts.dagClient, watchHub: parts.watchHub, rateLimit: statsLimit });
  registerCallbackRoutes(app, {
    events: parts.wsHub,
    watchHub: parts.watchHub,
    weights: parts.weights,
    ...(guard && { guard }),
  });
  registerHealthRoutes(app, parts.degradation, statsLimit);
  const openApi = gatewayOpenApi(options.version ?? packageVersion());
  app.get('/docs', () => Promise.resolve(openApi));
  return app;
}
