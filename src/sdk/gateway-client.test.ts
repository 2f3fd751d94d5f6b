import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../common/circuit-breaker.js';
import { ErrorCode, QmtlError } from '../common/errors.js';
import type { DagJson } from '../dag/node-json.js';
import { chainDag, wireNode } from '../dagmanager/dag.test-kit.js';
import {
  listeningPort,
  switchableDagClient,
  testGateway,
  type TestGateway,
} from '../gateway/gateway.test-kit.js';
import { Momentum } from '../../tests/fixtures/strategies/momentum.js';
import {
  GatewayClient,
  type GatewayBreakerSettings,
  GatewayDuplicateStrategyError,
  GatewayUnavailableError,
  type GatewayClientOptions,
} from './gateway-client.js';

const started: TestGateway[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map(({ gateway }) => gateway.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A listening Gateway on memory adapters and its base URL. */
async function liveGateway(options: Parameters<typeof testGateway>[0] = {}): Promise<string> {
  const gateway = await testGateway({ listen: true, ...options });
  started.push(gateway);
  return `http://127.0.0.1:${listeningPort(gateway.gateway)}`;
}

/** A URL on which nothing listens (a port that was just freed). */
async function closedUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** A fetch that counts its calls and can rewrite each request first. */
function countingFetch(
  rewrite: (url: string, init: RequestInit) => [string, RequestInit] = (url, init) => [url, init],
) {
  const calls: string[] = [];
  // The client always passes the URL as a string.
  const fetchFn = ((input: string, init: RequestInit = {}) => {
    calls.push(input);
    const [url, rewritten] = rewrite(input, init);
    return fetch(url, rewritten);
  }) as typeof fetch;
  return { calls, fetchFn };
}

function client(gatewayUrl: string, options: Partial<GatewayClientOptions> = {}): GatewayClient {
  return new GatewayClient({ gatewayUrl, env: {}, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<QmtlError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QmtlError);
  return error as QmtlError;
}

describe('GatewayClient against a real Gateway', () => {
  it('submits a new DAG and gets a topic for every node it computes', async () => {
    const dag = chainDag(3, 'new');
    const reply = await client(await liveGateway()).submit(dag, { runType: 'live', meta: { owner: 't' } });
    expect(reply.strategyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.status).toBe('completed');
    expect(Object.keys(reply.topicMap).sort()).toEqual(dag.nodes.map((n) => n.node_id).sort());
    expect(reply.queueMap).toEqual({});
    expect(typeof reply.sentinelId).toBe('string');
  });

  it('gets a queue map for the nodes another strategy already produces', async () => {
    const gateway = client(await liveGateway());
    const shared = chainDag(2, 'shared');
    const first = await gateway.submit(shared, { runType: 'live' });
    const extra = wireNode({ name: 'extra', inputs: [shared.nodes[1]!] });
    const second = await gateway.submit({ nodes: [...shared.nodes, extra] }, { runType: 'live' });
    expect(second.strategyId).not.toBe(first.strategyId);
    for (const node of shared.nodes) expect(second.queueMap[node.node_id]).toBe(first.topicMap[node.node_id]);
    expect(Object.keys(second.topicMap)).toEqual([extra.node_id]);
  });

  it('submits the DAG of a real SDK strategy and the Gateway accepts it', async () => {
    const dag = new Momentum().serialize();
    const reply = await client(await liveGateway()).submit(dag, { runType: 'backtest' });
    expect(reply.status).toBe('completed');
    expect(Object.keys(reply.topicMap).sort()).toEqual(dag.nodes.map((n) => n.node_id).sort());
  });

  it('reads the status, stops the strategy and finds queues by tag', async () => {
    const gateway = client(await liveGateway());
    const dag = chainDag(2, 'life');
    const { strategyId, topicMap } = await gateway.submit(dag, { runType: 'dry-run' });
    await expect(gateway.status(strategyId)).resolves.toBe('completed');
    await expect(gateway.queuesByTag(['price'], '1m', 'any')).resolves.toContain(
      topicMap[dag.nodes[0]!.node_id],
    );
    await expect(gateway.stop(strategyId)).resolves.toBe('stopped');
    await expect(gateway.status(strategyId)).resolves.toBe('stopped');
  });

  it('answers null for the status of an unknown strategy and QMTL_NOT_FOUND to stop it', async () => {
    const gateway = client(await liveGateway());
    await expect(gateway.status('no-such-id')).resolves.toBeNull();
    expect((await rejection(gateway.stop('no-such-id'))).code).toBe(ErrorCode.NotFound);
  });

  it('renews a lease with heartbeat and takes over released nodes with claim', async () => {
    const gateway = client(await liveGateway({ leaseMs: 5_000 }));
    const shared = chainDag(2, 'lease');
    const producer = await gateway.submit(shared, { runType: 'live' });
    const extra = wireNode({ name: 'lease-extra', inputs: [shared.nodes[1]!] });
    const consumer = await gateway.submit({ nodes: [...shared.nodes, extra] }, { runType: 'live' });
    await expect(gateway.heartbeat(producer.strategyId)).resolves.toEqual({
      status: 'completed',
      leaseMs: 5_000,
    });
    await expect(gateway.claim(consumer.strategyId)).resolves.toEqual(consumer);
    await gateway.stop(producer.strategyId);
    const claimed = await gateway.claim(consumer.strategyId);
    expect(claimed).toMatchObject({ strategyId: consumer.strategyId, status: 'completed', queueMap: {} });
    for (const node of shared.nodes)
      expect(claimed.topicMap[node.node_id]).toBe(producer.topicMap[node.node_id]);
  });

  it('maps heartbeat and claim refusals: unknown 404, stopped 409, DAG Manager down 503', async () => {
    const dagClient = switchableDagClient();
    const gateway = client(await liveGateway({ dagClient }));
    expect((await rejection(gateway.heartbeat('no-such-id'))).code).toBe(ErrorCode.NotFound);
    expect((await rejection(gateway.claim('no-such-id'))).code).toBe(ErrorCode.NotFound);
    const stopped = await gateway.submit(chainDag(2, 'refuse'), { runType: 'live' });
    await gateway.stop(stopped.strategyId);
    expect((await rejection(gateway.heartbeat(stopped.strategyId))).code).toBe(ErrorCode.InvalidTransition);
    expect((await rejection(gateway.claim(stopped.strategyId))).code).toBe(ErrorCode.InvalidTransition);
    const live = await gateway.submit(chainDag(2, 'refuse-live'), { runType: 'live' });
    dagClient.up = false;
    const down = await rejection(gateway.claim(live.strategyId));
    expect(down).toBeInstanceOf(GatewayUnavailableError);
    expect(down.message).toContain('DAG Manager');
  });

  it('reports a queued submission with empty maps while the DAG Manager is down', async () => {
    const url = await liveGateway({ dagClient: switchableDagClient({ up: false }) });
    const reply = await client(url).submit(chainDag(2, 'down'), { runType: 'live' });
    expect(reply).toMatchObject({ status: 'queued', queueMap: {}, topicMap: {} });
  });
});

describe('GatewayClient error mapping', () => {
  it('maps a tampered CRC (400) to QMTL_CRC_MISMATCH', async () => {
    const { fetchFn } = countingFetch((url, init) => {
      const body = JSON.parse(init.body as string) as { node_ids_crc32: number };
      body.node_ids_crc32 = (body.node_ids_crc32 + 1) >>> 0;
      return [url, { ...init, body: JSON.stringify(body) }];
    });
    const gateway = client(await liveGateway(), { fetch: fetchFn });
    const error = await rejection(gateway.submit(chainDag(2, 'crc'), { runType: 'live' }));
    expect(error.code).toBe(ErrorCode.CrcMismatch);
    expect(gateway.breaker.failures).toBe(0);
  });

  it('maps a second submission of the same DAG (409) to a duplicate error with the existing id', async () => {
    const gateway = client(await liveGateway());
    const dag = chainDag(2, 'dup');
    const { strategyId } = await gateway.submit(dag, { runType: 'live' });
    for (let i = 0; i < 3; i++) {
      const error = await rejection(gateway.submit(dag, { runType: 'live' }));
      expect(error).toBeInstanceOf(GatewayDuplicateStrategyError);
      expect(error.code).toBe(ErrorCode.DuplicateStrategy);
      expect((error as GatewayDuplicateStrategyError).existingId).toBe(strategyId);
      expect(error.message).toContain(strategyId);
    }
    // 4xx answers prove the Gateway is up: they never trip the breaker.
    expect(gateway.breaker.state).toBe('closed');
  });

  it("keeps the Gateway's code and every problem of an invalid DAG (422)", async () => {
    const [source, node] = chainDag(2, 'bad').nodes as [DagJson['nodes'][0], DagJson['nodes'][0]];
    const dag: DagJson = {
      nodes: [
        { ...source, node_id: 'f'.repeat(64) },
        { ...node, inputs: ['e'.repeat(64)] },
      ],
    };
    const error = await rejection(client(await liveGateway()).submit(dag, { runType: 'live' }));
    expect(error.problems.length).toBeGreaterThanOrEqual(2);
    expect(error.code).toBe(error.problems[0]!.code);
    const codes = error.problems.map((p) => p.code);
    expect(codes).toContain(ErrorCode.NodeIdMismatch);
    expect(codes).toContain(ErrorCode.UnknownInput);
    expect(error.message).toContain('rejected the strategy');
  });

  it('maps a body over the limit (413) to QMTL_PAYLOAD_TOO_LARGE', async () => {
    const url = await liveGateway({ bodyLimit: 1024 });
    const error = await rejection(client(url).submit(chainDag(10, 'big'), { runType: 'live' }));
    expect(error.code).toBe(ErrorCode.PayloadTooLarge);
  });

  it('maps a missing token (401) to QMTL_UNAUTHORIZED and sends a bearer token when given', async () => {
    const secret = 'x'.repeat(32);
    const url = await liveGateway({ jwt: { secret } });
    const error = await rejection(client(url).submit(chainDag(2, 'auth'), { runType: 'live' }));
    expect(error.code).toBe(ErrorCode.Unauthorized);
    const token = await new SignJWT({ sub: 'sdk' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    const reply = await client(url, { token }).submit(chainDag(2, 'auth'), { runType: 'live' });
    expect(reply.status).toBe('completed');
  });

  it('maps load shedding (503) to QMTL_UNAVAILABLE naming the URL and Retry-After', async () => {
    const url = await liveGateway({ maxPendingSubmissions: 0 });
    const error = await rejection(client(url).submit(chainDag(2, 'shed'), { runType: 'live' }));
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toContain(url);
    expect(error.message).toContain('retry after 1 s');
    expect((error as GatewayUnavailableError).retryAfterSeconds).toBe(1);
  });

  it('maps MINIMAL degradation (503) and STATIC degradation (204) to QMTL_UNAVAILABLE', async () => {
    const minimal = await liveGateway({ cpuPercent: () => 90 });
    const busy = await rejection(client(minimal).submit(chainDag(2, 'min'), { runType: 'live' }));
    expect(busy.code).toBe(ErrorCode.Unavailable);
    expect(busy.message).toContain('retry after 30 s');
    const staticUrl = await liveGateway({ cpuPercent: () => 99 });
    const degraded = await rejection(client(staticUrl).status('any-id'));
    expect(degraded.code).toBe(ErrorCode.Unavailable);
    expect(degraded.message).toContain(staticUrl);
    expect(degraded.message).toContain('degraded');
    expect(degraded.message).toContain('retry after 30 s');
  });

  it('maps a refused connection to "gateway unreachable at URL"', async () => {
    const url = await closedUrl();
    const error = await rejection(client(url).submit(chainDag(2, 'gone'), { runType: 'live' }));
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error.message).toContain(`gateway unreachable at "${url}"`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('maps a Gateway that never answers to QMTL_UNAVAILABLE after the timeout', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const error = await rejection(client(url, { timeoutMs: 50 }).status('x'));
    sockets.forEach((socket) => socket.destroy());
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toContain('no answer within 50 ms');
  });
});

describe('GatewayClient options', () => {
  it('refuses misspelt options, naming them and the known ones', () => {
    const misspelt = {
      gatewayUrl: 'http://127.0.0.1:1',
      timeout: 5_000,
      retry: 2,
    } as unknown as GatewayClientOptions;
    expect(() => new GatewayClient(misspelt)).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidArgument,
        message:
          'GatewayClient: unknown options "timeout", "retry" (known: gatewayUrl, fetch, timeoutMs, breaker, retries, token, now, sleep, env)',
      }),
    );
    const breaker = {
      failureThreshold: 2,
      resetTimeout: 1_000,
    } as unknown as GatewayBreakerSettings;
    expect(() => client('http://127.0.0.1:1', { breaker })).toThrow(
      'GatewayClient: breaker: unknown option "resetTimeout" (known: failureThreshold, resetTimeoutMs)',
    );
  });
});

describe('GatewayClient circuit breaker', () => {
  it('opens after 3 connection failures, then fails fast without a network call', async () => {
    const { calls, fetchFn } = countingFetch();
    const gateway = client(await closedUrl(), { fetch: fetchFn });
    for (let i = 0; i < 3; i++) {
      expect((await rejection(gateway.status('x'))).message).toContain('ECONNREFUSED');
    }
    expect(gateway.breaker.state).toBe('open');
    const startedAt = performance.now();
    const error = await rejection(gateway.submit(chainDag(2, 'cb'), { runType: 'live' }));
    expect(performance.now() - startedAt).toBeLessThan(50);
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toContain('circuit open');
    expect(error.message).toContain(gateway.gatewayUrl);
    expect(calls).toHaveLength(3);
  });

  it('closes after a successful half-open probe against a live Gateway once the reset timeout passed', async () => {
    const live = await liveGateway();
    const dead = await closedUrl();
    let down = true;
    let now = 0;
    const { calls, fetchFn } = countingFetch((url, init) => [down ? url.replace(live, dead) : url, init]);
    const gateway = client(live, {
      fetch: fetchFn,
      now: () => now,
      breaker: { failureThreshold: 3, resetTimeoutMs: 1_000 },
    });
    for (let i = 0; i < 3; i++) await rejection(gateway.status('x'));
    down = false;
    now = 999;
    expect((await rejection(gateway.status('x'))).message).toContain('circuit open');
    expect(calls).toHaveLength(3);
    now = 1_000;
    expect(gateway.breaker.state).toBe('half-open');
    const reply = await gateway.submit(chainDag(2, 'probe'), { runType: 'live' });
    expect(reply.status).toBe('completed');
    expect(gateway.breaker.state).toBe('closed');
    expect(calls).toHaveLength(4);
  });

  it('counts 5xx answers as failures', async () => {
    const { calls, fetchFn } = countingFetch();
    const url = await liveGateway({ maxPendingSubmissions: 0 });
    const gateway = client(url, { fetch: fetchFn, breaker: { failureThreshold: 2 } });
    await rejection(gateway.submit(chainDag(2, 'a5'), { runType: 'live' }));
    await rejection(gateway.submit(chainDag(2, 'b5'), { runType: 'live' }));
    expect(gateway.breaker.state).toBe('open');
    expect((await rejection(gateway.submit(chainDag(2, 'c5'), { runType: 'live' }))).message).toContain(
      'circuit open',
    );
    expect(calls).toHaveLength(2);
  });

  it('reads its settings from QMTL_GW_CB_MAX_FAILURES and QMTL_GW_CB_RESET_TIMEOUT (seconds)', async () => {
    let now = 0;
    const { calls, fetchFn } = countingFetch();
    const gateway = client(await closedUrl(), {
      fetch: fetchFn,
      now: () => now,
      env: { QMTL_GW_CB_MAX_FAILURES: '2', QMTL_GW_CB_RESET_TIMEOUT: '5' },
    });
    await rejection(gateway.status('x'));
    await rejection(gateway.status('x'));
    expect(gateway.breaker.state).toBe('open');
    now = 4_999;
    expect(gateway.breaker.state).toBe('open');
    now = 5_000;
    expect(gateway.breaker.state).toBe('half-open');
    expect(calls).toHaveLength(2);
  });

  it('rejects a malformed breaker setting in the environment', () => {
    expect(() => client('http://127.0.0.1:1', { env: { QMTL_GW_CB_MAX_FAILURES: 'many' } })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidConfig }),
    );
  });

  it('uses a breaker it is given', async () => {
    const breaker = new CircuitBreaker({ name: 'shared', failureThreshold: 1 });
    const gateway = client(await closedUrl(), { breaker });
    await rejection(gateway.status('x'));
    expect(breaker.state).toBe('open');
    expect((await rejection(gateway.status('x'))).message).toContain('circuit open');
  });

  it('retries transient failures, but not once the breaker is open', async () => {
    const { calls, fetchFn } = countingFetch();
    const waits: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      waits.push(ms);
      return Promise.resolve();
    };
    const url = await closedUrl();
    const retrying = client(url, { fetch: fetchFn, retries: 2, sleep, breaker: { failureThreshold: 10 } });
    await rejection(retrying.status('x'));
    expect(calls).toHaveLength(3);
    expect(waits).toHaveLength(2);
    const stopped = client(url, { fetch: fetchFn, retries: 5, sleep, breaker: { failureThreshold: 2 } });
    expect((await rejection(stopped.status('x'))).message).toContain('ECONNREFUSED');
    expect(calls).toHaveLength(5);
  });

  it('does not retry a 4xx answer', async () => {
    const { calls, fetchFn } = countingFetch();
    const gateway = client(await liveGateway(), {
      fetch: fetchFn,
      retries: 3,
      sleep: () => Promise.resolve(),
    });
    await rejection(gateway.stop('unknown'));
    expect(calls).toHaveLength(1);
  });
});
