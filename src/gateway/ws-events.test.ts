import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { logger } from '../common/logger.js';
import type { DagJson } from '../dag/node-json.js';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import type { DagClient } from './dag-client.js';
import { EmbeddedDagClient } from './embedded-dag-client.js';
import { memoryDagManager, submission, testGateway, type TestGateway } from './gateway.test-kit.js';

/** The data of a Gateway event (SPEC §2.6). */
interface EventData {
  readonly strategy_id?: string;
  readonly status?: string;
  readonly [field: string]: unknown;
}

/** A message from `/ws`: a CloudEvent (with `seq`) or a reply to a subscription. */
interface WireMessage {
  readonly type: string;
  readonly seq?: number;
  readonly data?: EventData;
  readonly [field: string]: unknown;
}

/** A real `ws` client on the Gateway's `/ws` that records what it receives. */
class EventClient {
  readonly messages: WireMessage[] = [];
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString('utf8')) as WireMessage);
      for (const waiter of this.waiters.filter((w) => w.test())) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  }

  static async connect(port: number): Promise<EventClient> {
    const client = new EventClient(new WebSocket(`ws://127.0.0.1:${port}/ws`));
    clients.push(client);
    await once(client.socket, 'open');
    return client;
  }

  /** Events (messages with a `seq`), optionally for one strategy. */
  events(strategyId?: string): WireMessage[] {
    return this.messages.filter(
      (m) => typeof m.seq === 'number' && (strategyId === undefined || m.data?.strategy_id === strategyId),
    );
  }

  /** Resolves once a received event satisfies `predicate`. */
  until(predicate: (event: WireMessage) => boolean): Promise<void> {
    const test = (): boolean => this.events().some(predicate);
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  async subscribe(filter: Record<string, string[]>): Promise<void> {
    const count = this.messages.length;
    const replied = new Promise<void>((resolve) =>
      this.waiters.push({ test: () => this.messages.length > count, resolve }),
    );
    this.socket.send(JSON.stringify({ subscribe: filter }));
    await replied;
    expect(this.messages.at(-1)).toEqual({ type: 'subscribed', filter });
  }
}

let current: TestGateway | null = null;
const clients: EventClient[] = [];
beforeEach(() => {
  vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await current?.gateway.close();
  current = null;
  vi.restoreAllMocks();
});

async function start(
  options: Parameters<typeof testGateway>[0] = {},
): Promise<{ gateway: TestGateway['gateway']; port: number }> {
  current = await testGateway({ ...options, listen: true });
  const { port } = current.gateway.app.server.address() as AddressInfo;
  return { gateway: current.gateway, port };
}

/** POSTs a submission over HTTP, as the SDK does. */
async function post(port: number, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as Record<string, unknown>;
}

async function submit(
  port: number,
  dag: DagJson,
): Promise<{ strategy_id: string; queue_map: object; status: string }> {
  return (await post(port, '/strategies', submission(dag))) as {
    strategy_id: string;
    queue_map: object;
    status: string;
  };
}

/** A DAG client whose DAG Manager the test takes down and brings back. */
function switchableDagClient(): DagClient & { up: boolean } {
  const inner = new EmbeddedDagClient(memoryDagManager());
  const client = {
    up: true,
    diff: (id: string, dag: string) =>
      client.up ? inner.diff(id, dag) : Promise.reject(new Error('DAG Manager down')),
    getQueues: inner.getQueues.bind(inner),
    cleanup: inner.cleanup.bind(inner),
    healthy: () => Promise.resolve(client.up),
    close: () => Promise.resolve(),
  };
  return client;
}

describe('/ws events of a submission', () => {
  it('sends progress queued → processing → completed and the queue_map as qmtl.gateway CloudEvents', async () => {
    const { port } = await start();
    const client = await EventClient.connect(port);
    // A second strategy shares the first one's nodes, so its queue_map is not empty.
    await submit(port, chainDag(2));
    const reply = await submit(port, chainDag(3));
    expect(reply.status).toBe('completed');
    const id = reply.strategy_id;
    await client.until((e) => e.type === 'queue_map' && e.data?.strategy_id === id);
    await client.until(
      (e) => e.type === 'progress' && e.data?.strategy_id === id && e.data?.status === 'completed',
    );
    const events = client.events(id);
    expect(events.map((e) => [e.type, e.data?.status ?? null])).toEqual([
      ['progress', 'queued'],
      ['progress', 'processing'],
      ['progress', 'completed'],
      ['queue_map', null],
    ]);
    for (const event of events) {
      expect(event).toEqual({
        specversion: '1.0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        source: 'qmtl.gateway',
        type: event.type,
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        datacontenttype: 'application/json',
        data: event.data,
        seq: expect.any(Number),
      });
    }
    expect(events[0]!.data).toEqual({ strategy_id: id, status: 'queued' });
    expect(events[1]!.data).toEqual({ strategy_id: id, status: 'processing' });
    expect(events[2]!.data).toEqual({ strategy_id: id, status: 'completed' });
    expect(events[3]!.data).toEqual({ strategy_id: id, queue_map: reply.queue_map });
    expect(Object.keys(reply.queue_map)).toHaveLength(2);
    const seqs = client.events().map((e) => e.seq!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('sends progress stopped when a strategy is stopped', async () => {
    const { port } = await start();
    const { strategy_id: id } = await submit(port, chainDag(1));
    const client = await EventClient.connect(port);
    await post(port, `/strategies/${id}/stop`);
    await client.until((e) => e.type === 'progress' && e.data?.status === 'stopped');
    expect(client.events(id).map((e) => e.data)).toEqual([{ strategy_id: id, status: 'stopped' }]);
  });
});

describe('/ws subscription filters, end to end', () => {
  it('a client subscribed to its strategy id gets only that strategy, plus events without an id', async () => {
    const dagClient = switchableDagClient();
    const { gateway, port } = await start({ dagClient });
    dagClient.up = false;
    await gateway.degradation.evaluate();
    // The DAG Manager is down: both submissions are accepted as queued, so the client knows its id first.
    const mine = await submit(port, chainDag(2, 'mine'));
    const other = await submit(port, chainDag(2, 'other'));
    expect([mine.status, other.status]).toEqual(['queued', 'queued']);
    const filtered = await EventClient.connect(port);
    await filtered.subscribe({ strategy_ids: [mine.strategy_id] });
    const everything = await EventClient.connect(port);
    dagClient.up = true;
    await gateway.degradation.evaluate();
    await post(port, '/callbacks/dag-event', {
      type: 'sentinel_weight',
      data: { sentinel_id: 'ws-v1', weight: 0.3 },
    });
    for (const strategy of [mine, other]) {
      await everything.until((e) => e.type === 'queue_map' && e.data?.strategy_id === strategy.strategy_id);
    }
    await everything.until((e) => e.type === 'sentinel_weight');
    await filtered.until((e) => e.type === 'sentinel_weight');
    await filtered.until((e) => e.type === 'queue_map');
    expect(filtered.events(other.strategy_id)).toEqual([]);
    expect(filtered.events(mine.strategy_id).map((e) => [e.type, e.data?.status ?? null])).toEqual([
      ['progress', 'processing'],
      ['progress', 'completed'],
      ['queue_map', null],
    ]);
    expect(everything.events(other.strategy_id)).toHaveLength(3);
  });

  it('a client subscribed to queue_map only gets no progress', async () => {
    const { port } = await start();
    const client = await EventClient.connect(port);
    await client.subscribe({ types: ['queue_map'] });
    const { strategy_id: id } = await submit(port, chainDag(2));
    await client.until((e) => e.type === 'queue_map' && e.data?.strategy_id === id);
    const stopped = await post(port, `/strategies/${id}/stop`);
    expect(stopped.status).toBe('stopped');
    // A second submission's queue_map arrives after the stop's progress would have.
    const second = await submit(port, chainDag(3));
    await client.until((e) => e.type === 'queue_map' && e.data?.strategy_id === second.strategy_id);
    expect(client.events().map((e) => e.type)).toEqual(['queue_map', 'queue_map']);
  });
});
