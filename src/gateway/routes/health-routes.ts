import type { FastifyInstance } from 'fastify';
import { DegradeLevel, DegradeLevelName, type DegradationManager } from '../degradation.js';
import { gatewayRegistry } from '../metrics.js';

/**
 * `GET /status` → `{status: ok|degraded, redis, postgres, dag_manager, degrade_level}` from the
 * degradation manager's latest checks (evaluated now if it has not run yet), `GET /health` (the
 * original's alias, without `degrade_level`) and `GET /metrics` (Prometheus text).
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  degradation: DegradationManager,
  rateLimit: { max: number; timeWindow: number } | null = null,
): void {
  const config = rateLimit ? { config: { rateLimit } } : {};
  const status = async (): Promise<Record<string, string>> => {
    if (degradation.snapshot.checkedAt === null) await degradation.evaluate();
    const { level, dependencies } = degradation.snapshot;
    const ok = level === DegradeLevel.Normal;
    return { status: ok ? 'ok' : 'degraded', ...dependencies, degrade_level: DegradeLevelName[level] };
  };
  app.get('/status', config, status);
  app.get('/health', config, async () => {
    const { status: overall, redis, postgres, dag_manager } = await status();
    return { status: overall, redis, postgres, dag_manager };
  });
  app.get('/metrics', config, async (_request, reply) => {
    reply.type(gatewayRegistry.contentType);
    return gatewayRegistry.metrics();
  });
}
