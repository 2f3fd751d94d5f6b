import { once } from 'node:events';
import { get as httpGet, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../common/logger.js';
import { packageVersion } from '../common/package-version.js';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import { gatewayMetrics } from './metrics.js';
import { QueueWatchHub } from './queue-watch-hub.js';
import { MemoryStrategyStore } from './store/memory-strategy-store.js';
import type { InsertOutcome, NewStrategy } from './store/strategy-store.js';
import {
  listeningPort,
  submission,
  switchableDagClient,
  testGateway,
  WsEventClient,
  type TestGateway,
} from './gateway.test-kit.js';

let current: TestGateway | null = null;
const watches: NdjsonWatch[] = [];
afterEach(async () => {
  WsEventClient.closeAll();
  for (const watch of watches.splice(0)) watch.close();
  await current?.gateway.close();
  current = null;
  vi.restoreAllMocks();
});

async function start(options: Parameters<typeof testGateway>[0] = {}): Promise<TestGateway> {
  current = await testGateway(options);
  return current;
}

function baseUrl(gateway: TestGateway['gateway']): string {
  return `http://127.0.0.1:${listeningPort(gateway)}`;
}

/** Submits a DAG and returns the 202 body. */
async function submit(
  gateway: TestGateway['gateway'],
  dag = chainDag(2),
): Promise<{ strategy_id: string; topic_map: Record<string, string> }> {
  const response = await gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(dag) });
  expect(response.statusCode).toBe(202);
  return response.json();
}

function dagEvent(gateway: TestGateway['gateway'], payload: unknown) {
  return gateway.app.inject({ method: 'POST', url: '/callbacks/dag-event', payload: payload as object });
}

/** A CloudEvent as the DAG Manager posts it. */
function cloudEvent(type: string, data: unknown): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: '6c1b1c7e-0000-4000-8000-000000000000',
    source: 'qmtl.dagmanager',
    type,
    time: '2025-08-04T12:00:00.000Z',
    datacontenttype: 'application/json',
    data,
  };
}

/**
 * A `GET /queues/watch` over a real socket (node:http: undici's fetch opens a spare connection
 * after a cancel, which would hold up the app's close), read line by line.
 */
class NdjsonWatch {
  private buffer = '';
  private readonly chunks: AsyncIterator<Buffer>;

  private constructor(
    readonly request: ClientRequest,
    readonly response: IncomingMessage,
  ) {
    this.chunks = response[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  static async open(url: string): Promise<NdjsonWatch> {
    const request = httpGet(url);
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    return new NdjsonWatch(request, response);
  }

  /** The next line, parsed. */
  async next(): Promise<unknown> {
    for (;;) {
      const end = this.buffer.indexOf('\n');
      if (end !== -1) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 1);
        return JSON.parse(line);
      }
      const { value, done } = await this.chunks.next();
      if (done === true) throw new Error(`stream ended; pending ${JSON.stringify(this.buffer)}`);
      this.buffer += value.toString('utf8');
    }
  }

  /** Hangs up, as a client that goes away. */
  close(): void {
    this.request.destroy();
  }
}

async function gaugeValue(version: string): Promise<number | undefined> {
  return (await gatewayMetrics.sentinelTrafficRatio.get()).values.find((v) => v.labels.version === version)
    ?.value;
}

describe('GET /queues/by_tag', () => {
  it('answers the queues matching the query, with interval units and the match alias', async () => {
    const { gateway } = await start();
    const dag = chainDag(2);
    const { topic_map } = await submit(gateway, dag);
    const priceTopic = topic_map[dag.nodes[0]!.node_id];
    const cases: [string, string[]][] = [
      ['tags=price&interval=60', [priceTopic!]],
      ['tags=price&interval=1m&match_mode=any', [priceTopic!]],
      ['tags=price,%20other&interval=60', [priceTopic!]],
      ['tags=price,other&interval=60&match_mode=all', []],
      ['tags=price,other&interval=60&match=all', []],
      ['tags=price&interval=120', []],
    ];
    for (const [query, queues] of cases) {
      const response = await gateway.app.inject({ url: `/queues/by_tag?${query}` });
      expect({ query, status: response.statusCode, body: response.json() }).toEqual({
        query,
        status: 200,
        body: { queues },
      });
    }
  });

  it('accepts tags given as repeated parameters', async () => {
    const { gateway } = await start();
    const dag = chainDag(1);
    const { topic_map } = await submit(gateway, dag);
    const response = await gateway.app.inject({ url: '/queues/by_tag?tags=other&tags=price&interval=60' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ queues: [topic_map[dag.nodes[0]!.node_id]] });
  });

  it('answers 422 naming every bad parameter at once', async () => {
    const { gateway } = await start();
    const response = await gateway.app.inject({ url: '/queues/by_tag?tags=&interval=soon&match_mode=some' });
    expect(response.statusCode).toBe(422);
    const body = response.json();
    expect(body.code).toBe('QMTL_INVALID_ARGUMENT');
    expect(body.problems.map((p: { message: string }) => p.message)).toEqual([
      expect.stringMatching(/^tags must list at least one tag/),
      expect.stringMatching(/^interval .*"soon"/),
      expect.stringMatching(/^match_mode must be "any" or "all", got "some"/),
    ]);
    const missing = await gateway.app.inject({ url: '/queues/by_tag' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().problems).toHaveLength(2);
    const badAlias = await gateway.app.inject({ url: '/queues/by_tag?tags=a&interval=60&match=most' });
    expect(badAlias.json().message).toMatch(/match_mode must be "any" or "all", got "most"/);
  });
});

describe('GET /queues/watch', () => {
  it('streams the current list, then one line per changed queue_update, none for an unchanged one', async () => {
    const { gateway } = await start({ listen: true });
    const dag = chainDag(1);
    const { topic_map } = await submit(gateway, dag);
    const first = topic_map[dag.nodes[0]!.node_id]!;
    const lines = await NdjsonWatch.open(`${baseUrl(gateway)}/queues/watch?tags=price&interval=60`);
    watches.push(lines);
    expect(lines.response.statusCode).toBe(200);
    expect(lines.response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(await lines.next()).toEqual({ queues: [first] });
    const update = (queues: string[]) =>
      dagEvent(
        gateway,
        cloudEvent('queue_update', { tags: ['price'], interval: 60, queues, match_mode: 'any' }),
      );
    expect((await update([first, 'q2'])).statusCode).toBe(202);
    expect(await lines.next()).toEqual({ queues: [first, 'q2'] });
    await update(['q2', first]); // same set, other order: no line
    await update([first, 'q2']);
    // Another query's update does not reach this stream.
    await dagEvent(gateway, cloudEvent('queue_update', { tags: ['other'], interval: 60, queues: ['x'] }));
    await update(['q3']);
    expect(await lines.next()).toEqual({ queues: ['q3'] });
  });

  it('stops watching when the client goes away', async () => {
    let watching = 0;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to its instance below
    const original = QueueWatchHub.prototype.subscribe;
    vi.spyOn(QueueWatchHub.prototype, 'subscribe').mockImplementation(function (
      this: QueueWatchHub,
      ...args
    ) {
      const stop = original.apply(this, args);
      watching++;
      return () => {
        watching--;
        stop();
      };
    });
    const { gateway } = await start({ listen: true });
    const watch = await NdjsonWatch.open(`${baseUrl(gateway)}/queues/watch?tags=price&interval=60`);
    watches.push(watch);
    expect(await watch.next()).toEqual({ queues: [] });
    expect(watching).toBe(1);
    watch.close();
    await vi.waitFor(() => expect(watching).toBe(0));
  });

  it('answers 422 for a bad query before streaming', async () => {
    const { gateway } = await start();
    const response = await gateway.app.inject({ url: '/queues/watch?tags=a&interval=0' });
    expect(response.statusCode).toBe(422);
    expect(response.json().code).toBe('QMTL_INVALID_ARGUMENT');
  });
});

describe('unknown routes', () => {
  it('answer 404 in the error body shape of every other error', async () => {
    const { gateway } = await start();
    for (const [method, url] of [
      ['GET', '/nope?x=1'],
      ['PUT', '/strategies'],
      ['POST', '/strategies/abc/status'],
    ] as const) {
      const response = await gateway.app.inject({ method, url });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({
        code: 'QMTL_NOT_FOUND',
        message: `no route ${method} "${url.split('?')[0]}"`,
        detail: `no route ${method} "${url.split('?')[0]}"`,
      });
    }
  });
});

describe('POST /callbacks/dag-event', () => {
  it('applies a queue_update CloudEvent and forwards it to /ws', async () => {
    const { gateway } = await start();
    const publish = vi.spyOn(gateway.wsHub, 'publish');
    const response = await dagEvent(
      gateway,
      cloudEvent('queue_update', { tags: ['btc', 'price'], interval: 60, queues: ['q1'], match_mode: 'all' }),
    );
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ ok: true });
    expect(publish).toHaveBeenCalledWith('queue_update', {
      tags: ['btc', 'price'],
      interval: 60,
      queues: ['q1'],
      match_mode: 'all',
    });
  });

  it('accepts the bare {event, data} form with comma-string tags, trimmed, and match_mode any by default', async () => {
    const { gateway } = await start();
    const publish = vi.spyOn(gateway.wsHub, 'publish');
    const response = await dagEvent(gateway, {
      event: 'queue_update',
      data: { tags: 'btc, price,', interval: '60', queues: ['q1', 'q2'] },
    });
    expect(response.statusCode).toBe(202);
    expect(publish).toHaveBeenCalledWith('queue_update', {
      tags: ['btc', 'price'],
      interval: 60,
      queues: ['q1', 'q2'],
      match_mode: 'any',
    });
  });

  it('forwards gc to /ws', async () => {
    const { gateway } = await start();
    const publish = vi.spyOn(gateway.wsHub, 'publish');
    const response = await dagEvent(gateway, cloudEvent('gc', { id: 'node-1', queues: ['q1', 'q2'] }));
    expect(response.statusCode).toBe(202);
    expect(publish).toHaveBeenCalledWith('gc', { id: 'node-1', queues: ['q1', 'q2'] });
  });

  it('ignores an unknown type with 202 {ok, ignored}', async () => {
    const { gateway } = await start();
    const publish = vi.spyOn(gateway.wsHub, 'publish');
    const response = await dagEvent(gateway, cloudEvent('tagquery.upsert.v2', { anything: 1 }));
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ ok: true, ignored: true });
    expect(publish).not.toHaveBeenCalled();
  });

  const malformed: [string, unknown, RegExp[]][] = [
    ['no type', { data: {} }, [/type must be a non-empty string/]],
    ['no data', { type: 'gc' }, [/data must be an object, got undefined/]],
    ['data that is a list', { type: 'gc', data: [] }, [/data must be an object/]],
    ['a list body', [1], [/type must be/, /data must be/]],
    [
      'a queue_update without tags, with a bad interval and match_mode',
      cloudEvent('queue_update', { tags: [], interval: 'soon', match_mode: 'most' }),
      [
        /tags must not be empty/,
        /interval must be a positive integer, got "soon"/,
        /match_mode must be "any" or "all", got "most"/,
      ],
    ],
    [
      'queue_update queues not strings',
      cloudEvent('queue_update', { tags: ['a'], interval: 60, queues: [1] }),
      [/queues must be a list of strings/],
    ],
    [
      'gc queues not a list',
      cloudEvent('gc', { id: 'n', queues: 'q1' }),
      [/queues must be a list of strings, got "q1"/],
    ],
    [
      'sentinel_weight without an id',
      cloudEvent('sentinel_weight', { weight: 0.5 }),
      [
        /sentinel_id must be a non-blank string of at most 265 characters without control characters, got undefined/,
      ],
    ],
  ];
  for (const [what, payload, messages] of malformed) {
    it(`answers 422 for ${what}, naming the field, and applies nothing`, async () => {
      const { gateway } = await start();
      const publish = vi.spyOn(gateway.wsHub, 'publish');
      const response = await dagEvent(gateway, payload);
      expect(response.statusCode).toBe(422);
      expect(response.json().code).toBe('QMTL_INVALID_ARGUMENT');
      for (const message of messages) expect(response.json().message).toMatch(message);
      expect(publish).not.toHaveBeenCalled();
    });
  }

  it('answers 422 for a body that is not JSON', async () => {
    const { gateway } = await start();
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/callbacks/dag-event',
      headers: { 'content-type': 'application/json' },
      payload: '{"type": "gc", ',
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().code).toBe('QMTL_INVALID_ARGUMENT');
  });
});

describe('sentinel_weight', () => {
  it('answers 202, sets gateway_sentinel_traffic_ratio and tells /ws clients only about changes', async () => {
    const { gateway } = await start({ listen: true });
    const client = await WsEventClient.connect(listeningPort(gateway));
    const weight = (value: unknown) =>
      dagEvent(gateway, cloudEvent('sentinel_weight', { sentinel_id: 'routes-v1', weight: value }));
    for (const value of [0.25, 0.25, 0.75]) expect((await weight(value)).statusCode).toBe(202);
    expect(await gaugeValue('routes-v1')).toBe(0.75);
    const metrics = (await gateway.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('gateway_sentinel_traffic_ratio{version="routes-v1"} 0.75');
    // The bare form, as the original's clients send it, with the unchanged value: no event.
    await dagEvent(gateway, { event: 'sentinel_weight', data: { sentinel_id: 'routes-v1', weight: 0.75 } });
    // A marker event: once it arrives, every earlier event has arrived (one socket, in order).
    await dagEvent(gateway, cloudEvent('gc', { id: 'marker', queues: [] }));
    await client.until((e) => e.type === 'gc');
    expect(
      client
        .events()
        .filter((e) => e.type === 'sentinel_weight')
        .map((e) => e.data),
    ).toEqual([
      { sentinel_id: 'routes-v1', weight: 0.25 },
      { sentinel_id: 'routes-v1', weight: 0.75 },
    ]);
  });

  it('answers 422 for a weight outside [0, 1] and changes nothing', async () => {
    const { gateway } = await start({ listen: true });
    const client = await WsEventClient.connect(listeningPort(gateway));
    await dagEvent(gateway, cloudEvent('sentinel_weight', { sentinel_id: 'routes-v2', weight: 0.5 }));
    for (const bad of [1.2, -0.1, '0.5', null]) {
      const response = await dagEvent(
        gateway,
        cloudEvent('sentinel_weight', { sentinel_id: 'routes-v2', weight: bad }),
      );
      expect(response.statusCode).toBe(422);
      expect(response.json().message).toMatch(/weight must be a number in \[0, 1\]/);
    }
    expect(await gaugeValue('routes-v2')).toBe(0.5);
    await dagEvent(gateway, cloudEvent('gc', { id: 'marker', queues: [] }));
    await client.until((e) => e.type === 'gc');
    expect(client.events().filter((e) => e.type === 'sentinel_weight')).toHaveLength(1);
  });
});

describe('GET /status, /health, /metrics, /docs', () => {
  it('reports health in the SPEC §2.5 shape', async () => {
    const { gateway } = await start();
    expect((await gateway.app.inject({ url: '/status' })).json()).toEqual({
      status: 'ok',
      redis: 'disabled',
      postgres: 'ok',
      dag_manager: 'ok',
      degrade_level: 'NORMAL',
    });
    expect((await gateway.app.inject({ url: '/health' })).json()).toEqual({
      status: 'ok',
      redis: 'disabled',
      postgres: 'ok',
      dag_manager: 'ok',
    });
  });

  it('serves the headline metrics as Prometheus text', async () => {
    const { gateway } = await start();
    await submit(gateway);
    const response = await gateway.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of [
      'gateway_e2e_latency_p95',
      'lost_requests_total',
      'dagclient_breaker_state',
      'dagclient_breaker_failures',
      'dagclient_breaker_open_total',
      'degrade_level',
      'gateway_http_request_ms_bucket',
    ]) {
      expect(response.body).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? \\S+$`, 'm'));
    }
    expect(response.body).toMatch(/^degrade_level\{service="gateway"\} 0$/m);
  });

  it('documents every route the app serves, and nothing else, as OpenAPI 3.1', async () => {
    const { gateway } = await start();
    const response = await gateway.app.inject({ url: '/docs' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe(packageVersion());
    expect(document.info.version).not.toBe('0.0.0');
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) =>
        Object.keys(operations).map(
          (method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
        ),
      )
      .sort();
    // HEAD is Fastify's automatic twin of every GET.
    const served = registeredRoutes(gateway.app.printRoutes({ commonPrefix: false }))
      .filter((route) => !route.startsWith('HEAD '))
      .sort();
    expect(served.length).toBeGreaterThanOrEqual(11);
    expect(documented).toEqual(served);
  });
});

/** `METHOD /path` of every route in Fastify's `printRoutes({commonPrefix: false})` tree. */
function registeredRoutes(tree: string): string[] {
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^(.*?)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    prefixes.length = depth;
    const path = `${prefixes.join('')}${match[2]}`;
    prefixes.push(match[2]!);
    for (const method of match[3]?.split(', ') ?? []) routes.push(`${method} ${path}`);
  }
  return routes;
}

describe('degradation gates', () => {
  beforeEach(() => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined); // level changes are logged
  });

  it('MINIMAL (CPU > 85 %) refuses new submissions with 503 + Retry-After and serves the rest', async () => {
    let cpu = 0;
    const { gateway, store } = await start({ cpuPercent: () => cpu });
    const { strategy_id: id } = await submit(gateway);
    cpu = 90;
    await gateway.degradation.evaluate();
    const refused = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(chainDag(3, 'm')),
    });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.json().code).toBe('QMTL_UNAVAILABLE');
    expect(refused.json().message).toMatch(
      /^the Gateway is degraded \(MINIMAL: host CPU \d+ % \(MINIMAL above 85 %/,
    );
    expect((await gateway.app.inject({ url: `/strategies/${id}/status` })).json()).toEqual({
      status: 'completed',
    });
    expect((await gateway.app.inject({ url: '/queues/by_tag?tags=price&interval=60' })).statusCode).toBe(200);
    expect((await gateway.app.inject({ url: '/status' })).json()).toMatchObject({
      status: 'degraded',
      degrade_level: 'MINIMAL',
    });
    expect(await store.listByStatus(['queued', 'processing', 'completed', 'failed'])).toEqual([id]);
    cpu = 10;
    await gateway.degradation.evaluate();
    expect(
      (
        await gateway.app.inject({
          method: 'POST',
          url: '/strategies',
          payload: submission(chainDag(3, 'm')),
        })
      ).statusCode,
    ).toBe(202);
  });

  it('STATIC (every dependency down) answers 204 + Retry-After: 30 except the operator routes', async () => {
    const dagClient = switchableDagClient();
    const store = new (class extends MemoryStrategyStore {
      up = true;
      override health(): Promise<boolean> {
        return Promise.resolve(this.up);
      }
    })();
    const { gateway } = await start({ dagClient, store });
    dagClient.up = false;
    store.up = false;
    await gateway.degradation.evaluate();
    const gated: [string, string][] = [
      ['POST', '/strategies'],
      ['GET', '/queues/by_tag?tags=price&interval=60'],
      ['GET', '/strategies/x/status'],
      ['POST', '/callbacks/dag-event'],
    ];
    for (const [method, url] of gated) {
      const response = await gateway.app.inject({
        method: method as 'GET',
        url,
        ...(method === 'POST' && { payload: {} }),
      });
      expect({
        url,
        status: response.statusCode,
        retry: response.headers['retry-after'],
        body: response.body,
      }).toEqual({
        url,
        status: 204,
        retry: '30',
        body: '',
      });
    }
    const status = await gateway.app.inject({ url: '/status' });
    expect(status.statusCode).toBe(200);
    expect(status.json()).toEqual({
      status: 'degraded',
      redis: 'disabled',
      postgres: 'error',
      dag_manager: 'error',
      degrade_level: 'STATIC',
    });
    for (const url of ['/health', '/metrics', '/docs', '/status?verbose=1']) {
      expect((await gateway.app.inject({ url })).statusCode).toBe(200);
    }
    expect((await gateway.app.inject({ url: '/metrics' })).body).toMatch(
      /^degrade_level\{service="gateway"\} 3$/m,
    );
    dagClient.up = true;
    store.up = true;
    await gateway.degradation.evaluate();
    expect((await gateway.app.inject({ url: '/queues/by_tag?tags=price&interval=60' })).statusCode).toBe(200);
  });

  it('STATIC (CPU > 95 %) gates the routes even with every dependency up', async () => {
    const { gateway } = await start({ cpuPercent: () => 96 });
    await gateway.degradation.evaluate();
    expect((await gateway.app.inject({ url: '/queues/by_tag?tags=a&interval=60' })).statusCode).toBe(204);
    expect((await gateway.app.inject({ url: '/status' })).json().degrade_level).toBe('STATIC');
  });
});

describe('a submission that cannot be stored', () => {
  it('answers 503, counts lost_requests_total and queues nothing', async () => {
    const store = new (class extends MemoryStrategyStore {
      override insert(_strategy: NewStrategy): Promise<InsertOutcome> {
        return Promise.reject(new Error('database is read-only'));
      }
    })();
    const { gateway, state } = await start({ store });
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const lostBefore = (await gatewayMetrics.lostRequestsTotal.get()).values[0]?.value ?? 0;
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(chainDag(2)),
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().code).toBe('QMTL_UNAVAILABLE');
    expect(response.body).not.toContain('read-only');
    expect((await gatewayMetrics.lostRequestsTotal.get()).values[0]?.value).toBe(lostBefore + 1);
    expect(await state.queued()).toEqual([]);
    expect(await state.inFlight()).toEqual([]);
    expect(await store.listByStatus(['queued', 'processing', 'completed', 'failed', 'stopped'])).toEqual([]);
  });
});

describe('rate limit of the stats routes', () => {
  it('answers 429 past the per-minute limit on stats routes only', async () => {
    const { gateway } = await start({ statsRateLimitPerMinute: 2 });
    for (let i = 0; i < 2; i++) expect((await gateway.app.inject({ url: '/status' })).statusCode).toBe(200);
    const limited = await gateway.app.inject({ url: '/status' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('QMTL_RATE_LIMITED');
    for (let i = 0; i < 3; i++) await submit(gateway, chainDag(1, `r${i}`));
  });
});
