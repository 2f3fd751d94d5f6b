import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fastifyWebsocket } from '@fastify/websocket';
import { fastify, type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { logger } from '../common/logger.js';
import { gatewayMetrics } from './metrics.js';
import { WebSocketHub, type WebSocketHubOptions, type WebSocketRouteOptions } from './ws-hub.js';

const NOW = Date.parse('2025-08-04T12:00:00.000Z');
const apps: FastifyInstance[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** What the hub sends: an event (with `seq`) or a reply to a client message. */
interface WireMessage {
  readonly type: string;
  readonly seq?: number;
  readonly id?: string;
  readonly message?: string;
  readonly filter?: unknown;
  readonly data?: unknown;
}

/** A real `ws` client that records every message it receives, parsed. */
class TestClient {
  readonly messages: WireMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString('utf8')) as WireMessage);
      for (const waiter of this.waiters.filter((w) => this.messages.length >= w.count)) waiter.resolve();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Resolves once `count` messages in all have arrived. */
  received(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Sends `message` and returns the reply (the next message). */
  async ask(message: string | Buffer): Promise<WireMessage> {
    const count = this.messages.length + 1;
    this.socket.send(message, { binary: typeof message !== 'string' });
    await this.received(count);
    return this.messages[count - 1]!;
  }

  /** Event messages (those with a `seq`). */
  get events(): WireMessage[] {
    return this.messages.filter((message) => typeof message.seq === 'number');
  }
}

async function startHub(
  options: WebSocketHubOptions = {},
  route: WebSocketRouteOptions = {},
  app: FastifyInstance = fastify(),
): Promise<{ hub: WebSocketHub; url: string; app: FastifyInstance }> {
  apps.push(app);
  const hub = new WebSocketHub({ now: () => NOW, ...options });
  await hub.register(app, route);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { hub, url: `ws://127.0.0.1:${port}/ws`, app };
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
  const client = new TestClient(new WebSocket(url, { headers }));
  clients.push(client);
  await once(client.socket, 'open');
  return client;
}

async function metricValue(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values[0]?.value ?? 0;
}

function expectContiguous(events: readonly WireMessage[], first: number, count: number): void {
  expect(events).toHaveLength(count);
  const broken = events.findIndex((event, i) => event.seq !== first + i);
  expect(broken).toBe(-1);
}

describe('WebSocketHub', () => {
  it('sends every client every event as a CloudEvent with a seq', async () => {
    const { hub, url } = await startHub();
    const [first, second] = [await connect(url), await connect(url)];
    hub.publish('progress', { strategy_id: 's1', status: 'queued' });
    hub.publish('sentinel_weight', { sentinel_id: 'v1', weight: 0.5 });
    await Promise.all([first.received(2), second.received(2)]);
    for (const client of [first, second]) {
      expect(client.messages[0]).toEqual({
        specversion: '1.0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        source: 'qmtl.gateway',
        type: 'progress',
        time: '2025-08-04T12:00:00.000Z',
        datacontenttype: 'application/json',
        data: { strategy_id: 's1', status: 'queued' },
        seq: 1,
      });
      expect(client.messages[1]).toMatchObject({ type: 'sentinel_weight', seq: 2 });
    }
    expect(first.messages[0]!.id).toBe(second.messages[0]!.id);
    expect(hub.lastSeq).toBe(2);
  });

  it('filters by event type, and a new subscription replaces the old one', async () => {
    const { hub, url } = await startHub();
    const client = await connect(url);
    expect(await client.ask('{"subscribe":{"types":["progress"]}}')).toEqual({
      type: 'subscribed',
      filter: { types: ['progress'] },
    });
    hub.publish('queue_update', { tags: ['a'], interval: 60, queues: [], match_mode: 'any' });
    hub.publish('progress', { strategy_id: 's1', status: 'queued' });
    await client.received(2);
    expect(await client.ask('{"subscribe":{}}')).toEqual({ type: 'subscribed', filter: {} });
    hub.publish('gc', { id: 'n1', queues: [] });
    await client.received(4);
    expect(client.events.map((event) => [event.type, event.seq])).toEqual([
      ['progress', 2],
      ['gc', 3],
    ]);
  });

  it('filters by strategy id, passing events that have none', async () => {
    const { hub, url } = await startHub();
    const client = await connect(url);
    await client.ask(JSON.stringify({ subscribe: { strategy_ids: ['s1'] } }));
    hub.publish('progress', { strategy_id: 's2', status: 'queued' });
    hub.publish('queue_map', { strategy_id: 's1', queue_map: { n1: 'topic' } });
    hub.publish('sentinel_weight', { sentinel_id: 'v1', weight: 1 });
    await client.received(3);
    expect(client.events.map((event) => event.type)).toEqual(['queue_map', 'sentinel_weight']);
  });

  it('filters by tags when the event has tags, passing on any shared tag', async () => {
    const { hub, url } = await startHub();
    const client = await connect(url);
    await client.ask(JSON.stringify({ subscribe: { tags: ['btc'], types: ['queue_update', 'progress'] } }));
    hub.publish('queue_update', { tags: ['eth'], interval: 60, queues: ['q1'], match_mode: 'any' });
    hub.publish('queue_update', { tags: ['btc', 'price'], interval: 60, queues: ['q2'], match_mode: 'all' });
    hub.publish('gc', { id: 'n1', queues: [] });
    hub.publish('progress', { strategy_id: 's1', status: 'completed' });
    await client.received(3);
    expect(client.events.map((event) => event.seq)).toEqual([2, 4]);
  });

  it('answers bad client messages with an error naming the problem and keeps the connection', async () => {
    const { hub, url } = await startHub({ maxMessageBytes: 1024 });
    const client = await connect(url);
    const cases: [string | Buffer, RegExp][] = [
      ['not json', /not JSON/],
      ['[1,2]', /expected \{"subscribe"/],
      ['{"hello":1}', /expected \{"subscribe"/],
      ['{"subscribe":5}', /"subscribe" must be an object; got 5/],
      ['{"subscribe":{"types":"progress"}}', /"types" must be an array of strings; got "progress"/],
      ['{"subscribe":{"tags":[1]}}', /"tags" must be an array of strings; got \[1\]/],
      ['{"subscribe":{"types":["progres"]}}', /unknown event type "progres" \(known: progress,/],
      [Buffer.from('{"subscribe":{}}'), /binary frames are not accepted/],
      [`{"subscribe":{"tags":["${'x'.repeat(2000)}"]}}`, /bytes ignored: the limit is 1024/],
    ];
    for (const [message, expected] of cases) {
      const reply = await client.ask(message);
      expect(reply).toEqual({ type: 'error', message: expect.stringMatching(expected) });
    }
    const all = await client.ask('{"subscribe":{"colour":1,"types":"x"},"extra":true}');
    expect(all.message).toMatch(/unknown field "extra".*unknown filter field "colour".*"types" must be/);
    hub.publish('progress', { strategy_id: 's1', status: 'queued' });
    await client.received(cases.length + 2);
    expect(client.events).toHaveLength(1);
    expect(hub.clientCount).toBe(1);
  });

  it('closes a connection whose frame passes the hard payload limit with 1009', async () => {
    const { hub, url } = await startHub({ maxMessageBytes: 1024, maxPayloadBytes: 4096 });
    const client = await connect(url);
    client.socket.send('x'.repeat(5000));
    expect((await client.closed).code).toBe(1009);
    await vi.waitFor(() => expect(hub.clientCount).toBe(0));
  });

  it('delivers 10,000 events to each of 10 clients in order with contiguous seq', async () => {
    const { hub, url } = await startHub();
    const all = await Promise.all(Array.from({ length: 10 }, () => connect(url)));
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 1000; i++) hub.publish('progress', { strategy_id: `s${i}`, status: 'processing' });
      await nextTurn();
    }
    await Promise.all(all.map((client) => client.received(10_000)));
    for (const client of all) expectContiguous(client.events, 1, 10_000);
  });

  it('drops a client that stops reading once its buffer passes the cap, and the others get every event', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const droppedBefore = await metricValue(gatewayMetrics.wsDroppedClientsTotal);
    const { hub, url } = await startHub({ maxBufferedBytes: 256 * 1024, closeGraceMs: 60_000 });
    const slow = await connect(url);
    const healthy = [await connect(url), await connect(url)];
    (slow.socket as unknown as { _socket: Socket })._socket.pause();
    const status = 'x'.repeat(8192);
    let published = 0;
    const publishBatch = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) hub.publish('progress', { strategy_id: 's1', status });
      published += 20;
      await Promise.all(healthy.map((client) => client.received(published)));
    };
    // Kernel socket buffers absorb a few MB before bytes pile up in the server process.
    while (hub.clientCount === 3 && published < 8000) await publishBatch();
    expect(hub.clientCount).toBe(2);
    await publishBatch();
    for (const client of healthy) expectContiguous(client.events, 1, published);
    expect((await metricValue(gatewayMetrics.wsDroppedClientsTotal)) - droppedBefore).toBe(1);
    expect(warned).toHaveBeenCalledWith(expect.anything(), 'dropping a WebSocket client that cannot keep up');
    (slow.socket as unknown as { _socket: Socket })._socket.resume();
    expect((await slow.closed).code).toBe(1013);
    expect(slow.events.length).toBeLessThan(published);
    warned.mockRestore();
  });

  it('tracks connected clients in gateway_ws_clients', async () => {
    const before = await metricValue(gatewayMetrics.wsClients);
    const { hub, url } = await startHub();
    const first = await connect(url);
    await connect(url);
    expect(hub.clientCount).toBe(2);
    expect((await metricValue(gatewayMetrics.wsClients)) - before).toBe(2);
    first.socket.close();
    await vi.waitFor(() => expect(hub.clientCount).toBe(1));
    expect((await metricValue(gatewayMetrics.wsClients)) - before).toBe(1);
    hub.close();
    expect((await metricValue(gatewayMetrics.wsClients)) - before).toBe(0);
  });

  it('close() closes every client with 1001, is idempotent and refuses new clients', async () => {
    const { hub, url } = await startHub();
    const all = [await connect(url), await connect(url)];
    hub.close();
    hub.close();
    for (const client of all) expect((await client.closed).code).toBe(1001);
    const late = await connect(url);
    expect((await late.closed).code).toBe(1001);
    expect(hub.clientCount).toBe(0);
  });

  it('closes clients with 1001 when the app closes', async () => {
    const { app, url } = await startHub();
    const client = await connect(url);
    const closing = app.close();
    expect((await client.closed).code).toBe(1001);
    await closing;
  });

  it('runs the preValidation hook before upgrading', async () => {
    const { url } = await startHub(
      {},
      {
        preValidation: (request, reply, done) => {
          if (request.headers.authorization === 'Bearer good') done();
          else void reply.code(401).send();
        },
      },
    );
    const [error] = (await once(new WebSocket(url), 'error')) as [Error];
    expect(error.message).toBe('Unexpected server response: 401');
    const allowed = await connect(url, { authorization: 'Bearer good' });
    expect(allowed.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('uses @fastify/websocket when the app registered it already', async () => {
    const app = fastify();
    await app.register(fastifyWebsocket);
    const { hub, url } = await startHub({}, {}, app);
    const client = await connect(url);
    hub.publish('gc', { id: 'n1', queues: ['q1'] });
    await client.received(1);
    expect(client.messages[0]).toMatchObject({ type: 'gc', seq: 1 });
  });
});
