import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../common/logger.js';
import type { DagJson } from '../dag/node-json.js';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import {
  listeningPort,
  submission,
  switchableDagClient,
  testGateway,
  WsEventClient,
  type TestGateway,
} from './gateway.test-kit.js';

let current: TestGateway | null = null;
beforeEach(() => {
  vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
});
afterEach(async () => {
  WsEventClient.closeAll();
  await current?.gateway.close();
  current = null;
  vi.restoreAllMocks();
});

async function start(
  options: Parameters<typeof testGateway>[0] = {},
): Promise<{ gateway: TestGateway['gateway']; port: number }> {
  current = await testGateway({ ...options, listen: true });
  return { gateway: current.gateway, port: listeningPort(current.gateway) };
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
): Promise<{ strategy_id: string; queue_map: object; topic_map: Record<string, string>; status: string }> {
  return (await post(port, '/strategies', submission(dag))) as {
    strategy_id: string;
    queue_map: object;
    topic_map: Record<string, string>;
    status: string;
  };
}

describe('/ws events of a submission', () => {
  it('sends progress queued → processing → completed and the queue_map as qmtl.gateway CloudEvents', async () => {
    const { port } = await start();
    const client = await WsEventClient.connect(port);
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

  it('sends progress stopped, then producer_released with the nodes it produced, when a strategy is stopped', async () => {
    const { port } = await start();
    const dag = chainDag(1);
    const { strategy_id: id, topic_map: produced } = await submit(port, dag);
    const client = await WsEventClient.connect(port);
    await post(port, `/strategies/${id}/stop`);
    await client.until((e) => e.type === 'queue_update' && e.data?.['reason'] === 'producer_released');
    expect(client.events(id).map((e) => [e.type, e.data])).toEqual([
      ['progress', { strategy_id: id, status: 'stopped' }],
      [
        'queue_update',
        {
          reason: 'producer_released',
          strategy_id: id,
          node_ids: expect.arrayContaining(Object.keys(produced)) as unknown,
          tags: [],
          interval: 0,
          queues: [],
        },
      ],
    ]);
    expect(Object.keys(produced)).toContain(dag.nodes[0]!.node_id);
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
    const filtered = await WsEventClient.connect(port);
    await filtered.subscribe({ strategy_ids: [mine.strategy_id] });
    const everything = await WsEventClient.connect(port);
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
    const client = await WsEventClient.connect(port);
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
