/**
 * What the Gateway logs while a dependency it checks and polls in the background is down: Redis
 * (the state store, read by the lease monitor every `lease_check_ms` and by every worker loop) and
 * the DAG Manager (gRPC), each behind a TcpProxy that is taken down, then brought back. One short
 * line per component when the outage starts, naming the error without its stack, and one when it
 * ends, with the count of failures and how long it lasted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi, type MockInstance } from 'vitest';
import { defaultConfig } from '../../src/common/config.js';
import { logger } from '../../src/common/logger.js';
import { startDagManagerService, type DagManagerService } from '../../src/dagmanager/service.js';
import { startGatewayService, type GatewayService } from '../../src/gateway/service.js';
import { until as untilAsync } from '../support/service-clients.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const reachable = await isReachable('redis');
const LEASE_CHECK_MS = 20;

type Level = 'debug' | 'info' | 'warn' | 'error';

/** True once `probe` holds (polled every `intervalMs`), false if `timeoutMs` passes first. */
function until(probe: () => boolean, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  return untilAsync(() => Promise.resolve(probe()), timeoutMs, intervalMs);
}

/** One call of the logger: its level, fields and message. */
interface Line {
  readonly level: Level;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

describeWithServer('redis', reachable, 'Gateway logs of a dependency outage', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qmtl-gw-outage-'));
  const redisProxy = new TcpProxy({ host: servers.redis.host, port: servers.redis.port });
  let dagProxy: TcpProxy;
  let dagManager: DagManagerService;
  let service: GatewayService;
  let spies: MockInstance[] = [];
  let lines: Line[] = [];

  beforeAll(async () => {
    const config = defaultConfig();
    dagManager = await startDagManagerService({
      ...config.dagmanager,
      grpc_port: 0,
      http_port: 0,
      memory_repo_path: path.join(dir, 'dag.journal'),
      archive_dir: path.join(dir, 'archive'),
    });
    dagProxy = new TcpProxy({ host: '127.0.0.1', port: dagManager.grpcPort });
    await Promise.all([dagProxy.listen(), redisProxy.listen()]);
    service = await startGatewayService({
      ...config,
      gateway: {
        ...config.gateway,
        port: 0,
        database_backend: 'memory',
        queue_backend: 'redis',
        redis_dsn: `redis://${redisProxy.address}/0`,
        dagmanager_url: dagProxy.address,
        dagclient_breaker_timeout: 0.2,
        lease_check_ms: LEASE_CHECK_MS,
        worker_concurrency: 4,
        degradation_check_interval: 0.1,
        // The host's CPU, which other tests share, must not change the level meanwhile.
        degradation_cpu_minimal: 1_000,
        degradation_cpu_static: 1_000,
      },
    });
  });

  afterAll(async () => {
    await service?.close();
    await dagManager?.close();
    await Promise.all([dagProxy?.close(), redisProxy.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    lines = [];
    spies = (['debug', 'info', 'warn', 'error'] as const).map((level) =>
      vi.spyOn(logger, level).mockImplementation((fields: unknown, message?: unknown) => {
        if (typeof fields === 'object' && fields !== null)
          lines.push({ level, fields: fields as Record<string, unknown>, message: String(message) });
      }),
    );
  });
  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });

  /** How many lines, of any level, name `text` in a field (an error's message included). */
  const mentions = (text: string): number =>
    lines.filter((line) =>
      JSON.stringify(line.fields, (_key, value: unknown) =>
        value instanceof Error ? value.message : value,
      ).includes(text),
    ).length;
  const loud = (): Line[] => lines.filter((line) => line.level === 'warn' || line.level === 'error');

  it('logs a Redis outage once per component, without a stack, and its end with the duration', async () => {
    const { degradation } = service.gateway;
    await redisProxy.close();
    // Dozens of failed lease-monitor rounds and two rounds of every worker loop.
    expect(
      await until(
        () =>
          degradation.dependencies.redis === 'error' &&
          mentions('failed reading expired leases') >= 20 &&
          mentions('failed claiming a strategy') >= 8,
        15_000,
        LEASE_CHECK_MS,
      ),
    ).toBe(true);
    const during = loud();
    expect(during.filter((line) => 'err' in line.fields)).toEqual([]);
    const counts = new Map<string, number>();
    for (const { message } of during) counts.set(message, (counts.get(message) ?? 0) + 1);
    expect([...counts].filter(([, count]) => count > 1)).toEqual([]);
    const redisAt = `Redis at ${redisProxy.address}`;
    expect(during).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          fields: {
            task: 'lease monitor',
            error: expect.stringContaining(`${redisAt} failed reading expired leases`),
          },
        }),
        expect.objectContaining({
          fields: {
            component: 'worker',
            error: expect.stringContaining(`${redisAt} failed claiming a strategy`),
          },
        }),
        expect.objectContaining({ fields: { dependency: 'redis', error: 'its health check failed' } }),
      ]),
    );

    await redisProxy.listen();
    const recovered = (fields: Record<string, unknown>) =>
      lines.find(
        (line) =>
          line.level === 'info' &&
          Object.entries(fields).every(([key, value]) => line.fields[key] === value) &&
          typeof line.fields['downForMs'] === 'number' &&
          typeof line.fields['failures'] === 'number',
      );
    expect(
      await until(
        () =>
          [{ task: 'lease monitor' }, { component: 'worker' }, { dependency: 'redis' }].every(
            (fields) => recovered(fields) !== undefined,
          ),
        15_000,
      ),
    ).toBe(true);
    expect(recovered({ task: 'lease monitor' })!.fields['failures']).toBeGreaterThanOrEqual(20);
    expect(degradation.dependencies.redis).toBe('ok');
  });

  it('logs a DAG Manager outage once, and its end with the duration', async () => {
    const { degradation } = service.gateway;
    await dagProxy.close();
    expect(await until(() => degradation.dependencies.dag_manager === 'error', 15_000)).toBe(true);
    // A dozen failed health checks more (one every 100 ms).
    const downAt = degradation.snapshot.checkedAt!;
    expect(await until(() => degradation.snapshot.checkedAt! >= downAt + 1_200, 15_000)).toBe(true);
    expect(loud().filter((line) => line.fields['dependency'] === 'dag_manager')).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: { dependency: 'dag_manager', error: 'its health check failed' },
      }),
    ]);

    await dagProxy.listen();
    const back = () =>
      lines.find((line) => line.level === 'info' && line.fields['dependency'] === 'dag_manager');
    expect(await until(() => back() !== undefined, 15_000)).toBe(true);
    expect(back()!.fields).toEqual({
      dependency: 'dag_manager',
      failures: expect.any(Number) as unknown,
      downForMs: expect.any(Number) as unknown,
    });
    expect(back()!.fields['failures']).toBeGreaterThanOrEqual(12);
    expect(degradation.dependencies.dag_manager).toBe('ok');
  });
});
