import { afterEach, describe, expect, it, vi } from 'vitest';
import { chainDag, wireNode } from '../dagmanager/dag.test-kit.js';
import { EmbeddedDagClient } from './embedded-dag-client.js';
import {
  memoryDagManager,
  submission,
  switchableDagClient,
  testGateway,
  type TestGateway,
} from './gateway.test-kit.js';

let current: TestGateway | null = null;
afterEach(async () => {
  await current?.gateway.close();
  current = null;
});

async function start(options: Parameters<typeof testGateway>[0] = {}): Promise<TestGateway> {
  current = await testGateway(options);
  return current;
}

describe('POST /strategies', () => {
  it('answers 202 with the diff: every node produced on first submission, consumed on the second', async () => {
    const { gateway, store } = await start();
    const dag = chainDag(3);
    const first = await gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(dag) });
    expect(first.statusCode).toBe(202);
    const body = first.json();
    expect(body.status).toBe('completed');
    expect(body.sentinel_id).toBe(`${body.strategy_id}-sentinel`);
    expect(Object.keys(body.topic_map).sort()).toEqual(dag.nodes.map((n) => n.node_id).sort());
    expect(body.queue_map).toEqual({});
    const stored = await store.get(body.strategy_id);
    expect(stored?.status).toBe('completed');
    expect(JSON.parse(stored!.dagJson).nodes.at(-1)).toMatchObject({ node_type: 'VersionSentinel' });
    // Same DAG under other meta is a duplicate; a DAG sharing nodes consumes them.
    const shared = chainDag(4);
    const second = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(shared),
    });
    const reply = second.json();
    expect(second.statusCode).toBe(202);
    expect(Object.keys(reply.queue_map).sort()).toEqual(dag.nodes.map((n) => n.node_id).sort());
    expect(Object.keys(reply.topic_map)).toEqual([shared.nodes[3]!.node_id]);
  });

  it('answers 409 with the active strategy id for the same DAG, and accepts it again once stopped', async () => {
    const { gateway } = await start();
    const dag = chainDag(2);
    const first = (
      await gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(dag) })
    ).json();
    const again = await gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(dag) });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'QMTL_DUPLICATE_STRATEGY', strategy_id: first.strategy_id });
    const stop = await gateway.app.inject({ method: 'DELETE', url: `/strategies/${first.strategy_id}` });
    expect(stop.statusCode).toBe(200);
    expect(stop.json()).toEqual({ strategy_id: first.strategy_id, status: 'stopped' });
    const third = await gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(dag) });
    expect(third.statusCode).toBe(202);
    expect(third.json().strategy_id).not.toBe(first.strategy_id);
  });

  it('resolves TagQueryNodes to the matching queues in queue_map', async () => {
    const { gateway } = await start();
    const producer = chainDag(1);
    const producerReply = (
      await gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(producer) })
    ).json();
    const query = wireNode({
      name: 'q',
      nodeType: 'TagQueryNode',
      extra: { query_tags: ['price'], match_mode: 'any' },
    });
    const reply = (
      await gateway.app.inject({
        method: 'POST',
        url: '/strategies',
        payload: submission({ nodes: [query] }),
      })
    ).json();
    expect(reply.queue_map[query.node_id]).toEqual([producerReply.topic_map[producer.nodes[0]!.node_id]]);
  });

  it('accepts raw JSON in dag_json and omits the sentinel when configured', async () => {
    const { gateway, store } = await start({ insertSentinel: false });
    const dag = chainDag(2);
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(dag, { dag_json: JSON.stringify(dag) }),
    });
    expect(response.statusCode).toBe(202);
    expect(response.json().sentinel_id).toBeNull();
    const stored = await store.get(response.json().strategy_id);
    expect(JSON.parse(stored!.dagJson).nodes).toHaveLength(2);
  });

  const bad: [string, (dag: ReturnType<typeof chainDag>) => unknown, number, string][] = [
    ['a CRC mismatch', (dag) => submission(dag, { node_ids_crc32: 1 }), 400, 'QMTL_CRC_MISMATCH'],
    [
      'bad base64',
      () => ({ ...submission(chainDag(1)), dag_json: '!!!not base64!!!' }),
      422,
      'QMTL_INVALID_DAG',
    ],
    [
      'base64 of non-JSON',
      () => ({ ...submission(chainDag(1)), dag_json: Buffer.from('nope').toString('base64') }),
      422,
      'QMTL_INVALID_DAG',
    ],
    ['a body that is not an object', () => [1, 2], 422, 'QMTL_INVALID_ARGUMENT'],
    [
      'a NUL character in meta (PostgreSQL cannot store it, so no store takes it)',
      (dag) => submission(dag, { meta: { owner: 'ok', notes: ['fine', 'a\u0000b'] } }),
      422,
      'QMTL_INVALID_ARGUMENT',
    ],
    [
      'wrong field types',
      () => ({ dag_json: 5, meta: 'x', run_type: 'paper', node_ids_crc32: -1 }),
      422,
      'QMTL_INVALID_ARGUMENT',
    ],
    [
      'an unknown input',
      (dag) => {
        const orphan = wireNode({ name: 'orphan', inputs: [wireNode({ name: 'ghost' })] });
        return submission({ nodes: [dag.nodes[0]!, orphan] });
      },
      422,
      'QMTL_UNKNOWN_INPUT',
    ],
    [
      'a node id mismatch',
      (dag) => submission({ nodes: [{ ...dag.nodes[0]!, node_id: 'f'.repeat(64) }] }),
      422,
      'QMTL_NODE_ID_MISMATCH',
    ],
  ];
  for (const [what, body, status, code] of bad) {
    it(`answers ${status} ${code} for ${what} and stores nothing`, async () => {
      const { gateway, store, state } = await start();
      const response = await gateway.app.inject({
        method: 'POST',
        url: '/strategies',
        payload: body(chainDag(2)) as object,
      });
      expect(response.statusCode).toBe(status);
      expect(response.json().code).toBe(code);
      expect(response.body).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
      expect(await store.listByStatus(['queued', 'processing', 'completed', 'failed', 'stopped'])).toEqual(
        [],
      );
      expect(await state.queued()).toEqual([]);
    });
  }

  it('lists every problem of an invalid DAG in one 422', async () => {
    const { gateway } = await start();
    const a = wireNode({ name: 'a' });
    const b = wireNode({ name: 'b' });
    const dag = {
      nodes: [
        { ...a, interval: 0 },
        { ...b, inputs: ['ghost'] },
      ],
    };
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(dag),
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().problems.length).toBeGreaterThanOrEqual(2);
  });

  it('answers 422 naming a cycle', async () => {
    const { gateway } = await start();
    const a = wireNode({ name: 'a' });
    const b = wireNode({ name: 'b', inputs: [a] });
    const cyclic = { nodes: [{ ...a, inputs: [b.node_id] }, b] };
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(cyclic),
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().message).toMatch(/cycle/i);
  });

  it('answers 413 over the body limit before parsing', async () => {
    const { gateway } = await start({ bodyLimit: 1024 });
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(chainDag(1), { meta: { pad: 'x'.repeat(2048) } }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('QMTL_PAYLOAD_TOO_LARGE');
  });

  it('answers 202 with status queued when the DAG Manager is down, and completes it when it is back', async () => {
    const dagClient = switchableDagClient({ up: false });
    const { gateway, store } = await start({ dagClient });
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(chainDag(2)),
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ status: 'queued', queue_map: {}, topic_map: {} });
    expect((await gateway.app.inject({ url: '/status' })).json()).toMatchObject({
      status: 'degraded',
      dag_manager: 'error',
      degrade_level: 'PARTIAL',
    });
    const id = response.json().strategy_id as string;
    const done = gateway.worker.waitFor(id, 5_000);
    dagClient.up = true;
    await gateway.degradation.evaluate();
    expect((await done)?.status).toBe('completed');
    expect((await store.get(id))?.status).toBe('completed');
  });
});

describe('admission control', () => {
  it('sheds submissions beyond max_pending with 503 + Retry-After, storing nothing', async () => {
    const inner = new EmbeddedDagClient(memoryDagManager());
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = {
      ...switchableDagClient(),
      diff: async (id: string, dag: string) => (await gate, inner.diff(id, dag)),
    };
    const { gateway, store } = await start({ dagClient: slow, maxPendingSubmissions: 1 });
    const first = gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(chainDag(1, 'a')),
    });
    await vi.waitFor(async () => expect(await store.listByStatus(['processing'])).toHaveLength(1));
    const shed = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(chainDag(1, 'b')),
    });
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(shed.json().code).toBe('QMTL_UNAVAILABLE');
    release();
    expect((await first).statusCode).toBe(202);
    expect(await store.listByStatus(['queued', 'processing', 'completed'])).toHaveLength(1);
    const after = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(chainDag(1, 'b')),
    });
    expect(after.statusCode).toBe(202);
  });
});

describe('request limits', () => {
  it('answers 422 to a body that is not JSON and stores nothing', async () => {
    const { gateway, store } = await start();
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      headers: { 'content-type': 'application/json' },
      payload: '{"dag_json": oops',
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().code).toBe('QMTL_INVALID_ARGUMENT');
    expect(await store.listByStatus(['queued', 'processing', 'completed'])).toEqual([]);
  });

  it('limits submissions per client when submit_rate_limit_per_minute is set', async () => {
    const { gateway } = await start({ submitRateLimitPerMinute: 2 });
    const post = (name: string) =>
      gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(chainDag(1, name)) });
    expect((await post('a')).statusCode).toBe(202);
    expect((await post('b')).statusCode).toBe(202);
    const limited = await post('c');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('QMTL_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
  });
});

describe('strategy status and stop', () => {
  it('reports the status, 404 for an unknown id, and the event log', async () => {
    const { gateway } = await start();
    const { strategy_id: id } = (
      await gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(chainDag(1)) })
    ).json();
    expect((await gateway.app.inject({ url: `/strategies/${id}/status` })).json()).toEqual({
      status: 'completed',
    });
    expect((await gateway.app.inject({ url: '/strategies/nope/status' })).statusCode).toBe(404);
    const record = (await gateway.app.inject({ url: `/strategies/${id}` })).json();
    expect(record.events.map((e: { event: string }) => e.event)).toEqual(['INIT', 'PROCESS', 'COMPLETE']);
    expect((await gateway.app.inject({ method: 'POST', url: `/strategies/${id}/stop` })).json().status).toBe(
      'stopped',
    );
    const twice = await gateway.app.inject({ method: 'POST', url: `/strategies/${id}/stop` });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('QMTL_INVALID_TRANSITION');
    expect((await gateway.app.inject({ method: 'DELETE', url: '/strategies/nope' })).statusCode).toBe(404);
  });
});
