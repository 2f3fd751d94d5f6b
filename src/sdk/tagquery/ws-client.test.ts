import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { logger } from '../../common/logger.js';
import { sleep } from '../../common/retry.js';
import { chainDag } from '../../dagmanager/dag.test-kit.js';
import { listeningPort, submission, testGateway, type TestGateway } from '../../gateway/gateway.test-kit.js';
import { WebSocketClient, WsClientState, toWebSocketUrl, type WebSocketClientOptions } from './ws-client.js';

/** Records what a client receives and lets a test wait for an event instead of sleeping. */
class Recorder {
  readonly events: { type: string; data: unknown }[] = [];
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  readonly onEvent = (type: string, data: unknown): void => {
    this.events.push({ type, data });
    for (const waiter of this.waiters.filter((w) => w.test())) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  until(predicate: (event: { type: string; data: unknown }) => boolean): Promise<void> {
    const test = (): boolean => this.events.some(predicate);
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

const clients: WebSocketClient[] = [];
const gateways: TestGateway[] = [];
const servers: WebSocketServer[] = [];

function client(url: string, options: WebSocketClientOptions): WebSocketClient {
  const created = new WebSocketClient(url, options);
  clients.push(created);
  return created;
}

async function gateway(port = 0): Promise<TestGateway> {
  const created = await testGateway();
  await created.gateway.listen('127.0.0.1', port);
  gateways.push(created);
  return created;
}

/** A bare `ws` server on loopback whose connections the test scripts. */
async function scriptedServer(): Promise<{ url: string; connections: WebSocket[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await once(server, 'listening');
  const connections: WebSocket[] = [];
  server.on('connection', (socket) => connections.push(socket));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, connections };
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(gateways.splice(0).map((g) => g.gateway.close()));
  for (const server of servers.splice(0)) {
    for (const socket of server.clients) socket.terminate();
    server.close();
  }
  vi.restoreAllMocks();
});

describe('toWebSocketUrl', () => {
  it.each([
    ['http://127.0.0.1:8000', 'ws://127.0.0.1:8000/ws'],
    ['http://127.0.0.1:8000/', 'ws://127.0.0.1:8000/ws'],
    ['https://gw.example.com/qmtl', 'wss://gw.example.com/qmtl/ws'],
    ['http://127.0.0.1:8000/ws', 'ws://127.0.0.1:8000/ws'],
    ['ws://127.0.0.1:8000/ws/', 'ws://127.0.0.1:8000/ws'],
  ])('turns %s into %s', (input, expected) => {
    expect(toWebSocketUrl(input)).toBe(expected);
  });

  it('rejects a non-URL and an unknown scheme, quoting the value', () => {
    expect(() => toWebSocketUrl('nope')).toThrow(/"nope" is not a URL/);
    expect(() => toWebSocketUrl('ftp://x')).toThrow(/"ftp:\/\/x" must use http/);
  });
});

describe('WebSocketClient against a real Gateway', () => {
  it('receives the progress and queue_map events of a submission', async () => {
    const { gateway: gw } = await gateway();
    const recorder = new Recorder();
    const ws = client(`http://127.0.0.1:${listeningPort(gw)}`, { onEvent: recorder.onEvent });
    ws.start();
    await ws.opened();
    const response = await gw.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(chainDag(2)),
    });
    expect(response.statusCode).toBe(202);
    const strategyId = response.json<{ strategy_id: string }>().strategy_id;
    await recorder.until((e) => e.type === 'queue_map');
    await recorder.until((e) => e.type === 'progress');
    const queueMap = recorder.events.find((e) => e.type === 'queue_map')!.data as Record<string, unknown>;
    expect(queueMap['strategy_id']).toBe(strategyId);
    const topics = Object.entries(queueMap['queue_map'] as Record<string, unknown>).filter(
      ([, topic]) => typeof topic === 'string',
    );
    expect([...ws.queueTopics]).toEqual(topics);
    expect(ws.gaps).toBe(0);
  });

  it('sends its subscription on connect, so only the subscribed types arrive', async () => {
    const { gateway: gw } = await gateway();
    const recorder = new Recorder();
    const ws = client(`http://127.0.0.1:${listeningPort(gw)}`, {
      onEvent: recorder.onEvent,
      subscribe: { types: ['queue_map'] },
    });
    ws.start();
    await ws.opened();
    await gw.app.inject({ method: 'POST', url: '/strategies', payload: submission(chainDag(2)) });
    await recorder.until((e) => e.type === 'queue_map');
    expect(new Set(recorder.events.map((e) => e.type))).toEqual(new Set(['queue_map']));
  });

  it('reconnects after the server drops the connection, re-subscribes, and keeps receiving', async () => {
    const { gateway: gw } = await gateway();
    const delays: number[] = [];
    const recorder = new Recorder();
    let opens = 0;
    let reopened = (): void => undefined;
    const secondOpen = new Promise<void>((resolve) => (reopened = resolve));
    const ws = client(`http://127.0.0.1:${listeningPort(gw)}`, {
      onEvent: recorder.onEvent,
      onOpen: () => (++opens === 2 ? reopened() : undefined),
      subscribe: { types: ['sentinel_weight'] },
      backoff: { baseMs: 40, maxMs: 1000 },
      random: () => 0.5,
      sleep: (ms, signal) => {
        delays.push(ms);
        return sleep(ms, signal);
      },
    });
    ws.start();
    await ws.opened();
    for (const socket of gw.app.websocketServer.clients) socket.terminate();
    await secondOpen;
    expect(ws.connects).toBe(2);
    expect(delays).toEqual([30]); // 40 · (0.5 + 0.5 / 2)
    await gw.app.inject({
      method: 'POST',
      url: '/callbacks/dag-event',
      payload: { type: 'sentinel_weight', data: { sentinel_id: 'v2', weight: 0.25 } },
    });
    await recorder.until((e) => e.type === 'sentinel_weight');
    expect(ws.sentinelWeights.get('v2')).toBe(0.25);
  });

  it('retries with growing delays while the Gateway is down and connects to its replacement', async () => {
    const first = await gateway();
    const port = listeningPort(first.gateway);
    const delays: number[] = [];
    const ws = client(`http://127.0.0.1:${port}`, {
      onEvent: () => undefined,
      backoff: { baseMs: 20, maxMs: 80 },
      random: () => 0,
      sleep: (ms, signal) => {
        delays.push(ms);
        return sleep(5, signal);
      },
    });
    ws.start();
    await ws.opened();
    await first.gateway.close();
    await vi.waitFor(() => expect(delays.length).toBeGreaterThanOrEqual(4));
    expect(delays.slice(0, 4)).toEqual([10, 20, 40, 40]);
    await gateway(port);
    await ws.opened();
    expect(ws.connects).toBe(2);
  });
});

describe('WebSocketClient backoff and close', () => {
  it('backs off exponentially, capped, while nothing listens, and close() stops it', async () => {
    const port = await deadPort();
    const delays: number[] = [];
    let release = (): void => undefined;
    const sixth = new Promise<void>((resolve) => (release = resolve));
    const ws = client(`http://127.0.0.1:${port}`, {
      onEvent: () => undefined,
      backoff: { baseMs: 100, maxMs: 1000 },
      random: () => 0,
      sleep: (ms, signal) => {
        delays.push(ms);
        if (delays.length < 6) return Promise.resolve();
        release();
        return sleep(60_000, signal);
      },
    });
    ws.start();
    await sixth;
    // random 0 → each delay is half its exponential step: 100·2^(n-1)/2, capped at 1000/2.
    expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
    await ws.close();
    await ws.close();
    expect(ws.state).toBe(WsClientState.Closed);
    expect(delays).toHaveLength(6);
    expect(ws.connects).toBe(0);
  });

  it('does nothing when started after close()', async () => {
    const { url } = await scriptedServer();
    const ws = client(url, { onEvent: () => undefined });
    await ws.close();
    ws.start();
    expect(ws.state).toBe(WsClientState.Closed);
  });
});

describe('WebSocketClient message handling', () => {
  it('accepts CloudEvents and bare {event, data} objects, skips non-JSON frames', async () => {
    const server = await scriptedServer();
    const recorder = new Recorder();
    const ws = client(server.url, { onEvent: recorder.onEvent });
    ws.start();
    await ws.opened();
    const socket = server.connections[0]!;
    socket.send('not json');
    socket.send(JSON.stringify({ event: 'queue_update', data: { tags: ['t'] } }));
    socket.send(JSON.stringify({ type: 'gc', id: 'x', queues: [] }));
    socket.send(JSON.stringify({ specversion: '1.0', type: 'progress', data: { status: 'ok' }, seq: 1 }));
    await recorder.until((e) => e.type === 'progress');
    expect(recorder.events).toEqual([
      { type: 'queue_update', data: { tags: ['t'] } },
      { type: 'gc', data: { type: 'gc', id: 'x', queues: [] } },
      { type: 'progress', data: { status: 'ok' } },
    ]);
  });

  it('reports seq gaps, and a restarted numbering after a reconnect is no gap', async () => {
    const server = await scriptedServer();
    const gaps: [number, number][] = [];
    const recorder = new Recorder();
    const ws = client(server.url, {
      onEvent: recorder.onEvent,
      onGap: (expected, got) => gaps.push([expected, got]),
      backoff: { baseMs: 1, maxMs: 2 },
    });
    ws.start();
    await ws.opened();
    const send = (socket: WebSocket, seq: number): void =>
      socket.send(JSON.stringify({ type: 'progress', data: { seq }, seq }));
    send(server.connections[0]!, 5);
    send(server.connections[0]!, 6);
    send(server.connections[0]!, 9);
    await recorder.until((e) => (e.data as { seq: number }).seq === 9);
    expect(gaps).toEqual([[7, 9]]);
    server.connections[0]!.terminate();
    await vi.waitFor(() => expect(server.connections).toHaveLength(2));
    await ws.opened();
    send(server.connections[1]!, 1);
    await recorder.until((e) => recorder.events.indexOf(e) === 3);
    expect(gaps).toEqual([[7, 9]]);
    expect(ws.gaps).toBe(1);
  });

  it('logs a throwing or rejecting onEvent and keeps delivering', async () => {
    const server = await scriptedServer();
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const seen: string[] = [];
    let release = (): void => undefined;
    const third = new Promise<void>((resolve) => (release = resolve));
    const ws = client(server.url, {
      onEvent: (type) => {
        seen.push(type);
        if (type === 'boom') throw new Error('handler broke');
        if (type === 'async-boom') return Promise.reject(new Error('async handler broke'));
        release();
        return undefined;
      },
    });
    ws.start();
    await ws.opened();
    for (const type of ['boom', 'async-boom', 'fine'])
      server.connections[0]!.send(JSON.stringify({ type, data: {} }));
    await third;
    await vi.waitFor(() => expect(errors).toHaveBeenCalledTimes(2));
    expect(seen).toEqual(['boom', 'async-boom', 'fine']);
    expect(ws.state).toBe(WsClientState.Open);
  });

  it('sends the bearer token on the upgrade request', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    servers.push(server);
    await once(server, 'listening');
    const authorization = new Promise<string | undefined>((resolve) =>
      server.on('connection', (_socket, request) => resolve(request.headers.authorization)),
    );
    const ws = client(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      onEvent: () => undefined,
      token: 'secret',
    });
    ws.start();
    expect(await authorization).toBe('Bearer secret');
  });
});
