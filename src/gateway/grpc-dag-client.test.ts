import type { Client } from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import type { SleepFn } from '../common/retry.js';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import { DagManager } from '../dagmanager/dag-manager.js';
import { DagManagerClient } from '../dagmanager/grpc-client.js';
import { startGrpcServer, type GrpcServerHandle } from '../dagmanager/grpc-server.js';
import { MemoryNodeRepository } from '../dagmanager/memory-node-repository.js';
import { MemoryQueueAdmin } from '../dagmanager/memory-queue-admin.js';
import { GrpcDagClient } from './grpc-dag-client.js';
import { gatewayMetrics, resetGatewayMetrics } from './metrics.js';

function memoryDagManager(): DagManager {
  const admin = new MemoryQueueAdmin();
  return new DagManager({
    repo: MemoryNodeRepository.open(),
    admin,
    topics: { ensure: (spec) => admin.createTopic(spec) },
  });
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The client's channel reconnects on its own backoff (~1 s); wait for that event, not a sleep. */
function channelReady(raw: DagManagerClient): Promise<void> {
  const health = (raw as unknown as { health: Client }).health;
  return new Promise((resolve, reject) =>
    health.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
  );
}

const gauge = async (metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> =>
  (await metric.get()).values[0]?.value ?? 0;

const breakerMetrics = async (): Promise<{ state: number; failures: number; opened: number }> => ({
  state: await gauge(gatewayMetrics.dagClientBreakerState),
  failures: await gauge(gatewayMetrics.dagClientBreakerFailures),
  opened: await gauge(gatewayMetrics.dagClientBreakerOpenTotal),
});

async function rejection(promise: Promise<unknown>): Promise<QmtlError> {
  const error: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(QmtlError);
  return error as QmtlError;
}

let clock: number;
let delays: number[];
const recordingSleep: SleepFn = (ms) => {
  delays.push(ms);
  return Promise.resolve();
};
const options = () => ({ now: () => clock, sleep: recordingSleep });

beforeEach(() => {
  clock = 1_000_000;
  delays = [];
  resetGatewayMetrics();
});

describe('GrpcDagClient against a running DAG Manager', () => {
  let server: GrpcServerHandle;
  let manager: DagManager;
  let raw: DagManagerClient;
  let client: GrpcDagClient;

  beforeEach(async () => {
    manager = memoryDagManager();
    server = await startGrpcServer(manager, { port: 0 });
    raw = new DagManagerClient(`127.0.0.1:${server.port}`);
    client = new GrpcDagClient(raw, options());
  });
  afterEach(async () => {
    await client.close();
    await server.close(100);
  });

  it('returns the merged queue and topic maps and the sentinel of a diff', async () => {
    const dag = chainDag(3);
    const diff = await client.diff('s1', JSON.stringify(dag));
    const ids = dag.nodes.map((n) => n.node_id).sort();
    expect(diff.sentinelId).toBe('s1-sentinel');
    expect(Object.keys(diff.queueMap).sort()).toEqual(ids);
    expect(diff.topicMap).toEqual(diff.queueMap);
    expect(diff.bufferNodes).toEqual([]);
    expect(await breakerMetrics()).toEqual({ state: 0, failures: 0, opened: 0 });
  });

  it('answers tag queries and cleanup', async () => {
    const dag = chainDag(3);
    const { queueMap } = await client.diff('s1', JSON.stringify(dag));
    expect(await client.getQueues(['price'], 60, 'any')).toEqual([queueMap[dag.nodes[0]!.node_id]]);
    expect((await client.cleanup('s1')).sort()).toEqual(dag.nodes.map((n) => n.node_id).sort());
  });

  it('throws a DAG error from the server at once with its code, neither retrying nor counting it', async () => {
    const diff = vi.spyOn(raw, 'diff');
    for (let call = 0; call < 4; call++) {
      const error = await rejection(client.diff('bad', 'not json'));
      expect(error.code).toBe(ErrorCode.InvalidDag);
    }
    expect(diff).toHaveBeenCalledTimes(4);
    expect(delays).toEqual([]);
    expect(client.breakerState).toBe('closed');
    expect(await breakerMetrics()).toEqual({ state: 0, failures: 0, opened: 0 });
  });

  it('is healthy when the DAG Manager reports its graph store ok and itself running', async () => {
    expect(await client.healthy()).toBe(true);
    const connected = GrpcDagClient.connect(`127.0.0.1:${server.port}`, { deadlineMs: 5_000 });
    expect(await connected.healthy()).toBe(true);
    await connected.close();
  });

  it('is not healthy, and counts a failure, when the graph store reports an error', async () => {
    vi.spyOn(manager.repo, 'health').mockResolvedValue('error');
    expect(await client.healthy()).toBe(false);
    expect(await breakerMetrics()).toMatchObject({ failures: 1 });
  });

  it('counts retries of a DAG Manager that answers UNAVAILABLE, and a success forgets them', async () => {
    const unavailable = new QmtlError(ErrorCode.Unavailable, 'graph store down');
    vi.spyOn(manager, 'diff').mockRejectedValueOnce(unavailable).mockRejectedValueOnce(unavailable);
    const diff = await client.diff('s1', JSON.stringify(chainDag(2)));
    expect(diff.sentinelId).toBe('s1-sentinel');
    expect(delays).toEqual([500, 1_000]);
    expect(await breakerMetrics()).toEqual({ state: 0, failures: 0, opened: 0 });
  });
});

describe('GrpcDagClient when the DAG Manager is unreachable', () => {
  let port: number;
  let raw: DagManagerClient;
  let client: GrpcDagClient;
  let server: GrpcServerHandle | null;

  beforeEach(async () => {
    port = await closedPort();
    raw = new DagManagerClient(`127.0.0.1:${port}`);
    client = new GrpcDagClient(raw, options());
    server = null;
  });
  afterEach(async () => {
    vi.useRealTimers();
    await client.close();
    await server?.close(100);
  });

  async function openBreaker(): Promise<void> {
    for (let call = 0; call < 3; call++) await rejection(client.diff('s1', '{}'));
    expect(client.breakerState).toBe('open');
  }

  it('retries 5 times with backoff 0.5, 1, 2, 4 s, then throws QMTL_UNAVAILABLE', async () => {
    const diff = vi.spyOn(raw, 'diff');
    const error = await rejection(client.diff('s1', '{}'));
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(diff).toHaveBeenCalledTimes(5);
    expect(delays).toEqual([500, 1_000, 2_000, 4_000]);
    expect(await breakerMetrics()).toEqual({ state: 0, failures: 1, opened: 0 });
  });

  it('retries tag queries and cleanup the same way', async () => {
    expect((await rejection(client.getQueues(['price'], 60, 'any'))).code).toBe(ErrorCode.Unavailable);
    expect((await rejection(client.cleanup('s1'))).code).toBe(ErrorCode.Unavailable);
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 500, 1_000, 2_000, 4_000]);
  });

  it('opens after 3 failed calls, then fails fast without touching the network', async () => {
    const diff = vi.spyOn(raw, 'diff');
    const status = vi.spyOn(raw, 'status');
    await openBreaker();
    expect(diff).toHaveBeenCalledTimes(15);
    expect(await breakerMetrics()).toEqual({ state: 1, failures: 3, opened: 1 });

    const started = performance.now();
    const error = await rejection(client.diff('s1', '{}'));
    expect(performance.now() - started).toBeLessThan(50);
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toMatch(/circuit open/);
    expect((await rejection(client.getQueues(['price'], 60, 'any'))).code).toBe(ErrorCode.Unavailable);
    expect(await client.healthy()).toBe(false);
    expect(diff).toHaveBeenCalledTimes(15);
    expect(status).not.toHaveBeenCalled();
    expect(await breakerMetrics()).toEqual({ state: 1, failures: 3, opened: 1 });
  });

  it('honours the threshold and reset timeout options', async () => {
    client = new GrpcDagClient(raw, { ...options(), failureThreshold: 1, resetTimeoutMs: 5_000 });
    await rejection(client.diff('s1', '{}'));
    expect(client.breakerState).toBe('open');
    clock += 5_000;
    expect(client.breakerState).toBe('half-open');
    expect(() => new GrpcDagClient(raw, { attempts: 0 })).toThrow(/attempts must be a positive integer/);
  });

  it('lets one single-try probe through after the reset timeout; a DAG Manager still down re-opens it', async () => {
    await openBreaker();
    const diff = vi.spyOn(raw, 'diff');
    clock += 59_999;
    expect(client.breakerState).toBe('open');
    clock += 1;
    expect(client.breakerState).toBe('half-open');
    delays = [];

    expect((await rejection(client.diff('s1', '{}'))).code).toBe(ErrorCode.Unavailable);
    expect(diff).toHaveBeenCalledTimes(1);
    expect(delays).toEqual([]);
    expect(client.breakerState).toBe('open');
    expect(await breakerMetrics()).toMatchObject({ state: 1, opened: 2 });
    await rejection(client.diff('s1', '{}'));
    expect(diff).toHaveBeenCalledTimes(1);
  });

  it('closes when the half-open probe reaches a DAG Manager that is back', async () => {
    await openBreaker();
    server = await startGrpcServer(memoryDagManager(), { port });
    await channelReady(raw);
    clock += 60_000;

    const diff = await client.diff('s1', JSON.stringify(chainDag(2)));
    expect(Object.keys(diff.queueMap)).toHaveLength(2);
    expect(client.breakerState).toBe('closed');
    expect(await breakerMetrics()).toEqual({ state: 0, failures: 0, opened: 1 });
  });

  it('uses a health check as the half-open probe', async () => {
    await openBreaker();
    server = await startGrpcServer(memoryDagManager(), { port });
    await channelReady(raw);
    expect(await client.healthy()).toBe(false);
    clock += 60_000;
    expect(await client.healthy()).toBe(true);
    expect(client.breakerState).toBe('closed');
  });

  it('is not healthy, without throwing, when the DAG Manager is unreachable', async () => {
    expect(await client.healthy()).toBe(false);
    expect(await breakerMetrics()).toMatchObject({ failures: 1 });
  });

  it('gives up a health check after its timeout and counts it once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let fail: (error: Error) => void = () => undefined;
    vi.spyOn(raw, 'status').mockReturnValue(new Promise((_, reject) => (fail = reject)));
    const healthy = client.healthy();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await healthy).toBe(false);
    fail(new QmtlError(ErrorCode.Unavailable, 'late'));
    await Promise.resolve();
    expect(await breakerMetrics()).toMatchObject({ failures: 1 });
  });
});
