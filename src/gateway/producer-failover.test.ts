import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import type { DagJson } from '../dag/node-json.js';
import { chainDag, wireNode } from '../dagmanager/dag.test-kit.js';
import type { Gateway } from './create-gateway.js';
import { EmbeddedDagClient } from './embedded-dag-client.js';
import {
  listeningPort,
  memoryDagManager,
  submission,
  switchableDagClient,
  testGateway,
  WsEventClient,
  type TestGateway,
  type WsMessage,
} from './gateway.test-kit.js';
import { gatewayMetrics } from './metrics.js';
import { MemoryStateStore } from './state/memory-state-store.js';
import { MemoryStrategyStore } from './store/memory-strategy-store.js';
import type { StrategyStatus } from './strategy-status.js';

const started: TestGateway[] = [];
afterEach(async () => {
  WsEventClient.closeAll();
  await Promise.all(started.splice(0).map(({ gateway }) => gateway.close()));
});

/** Short leases, so expiry takes a fraction of a second. */
const FAST = { leaseMs: 200, leaseCheckMs: 50 } as const;

async function start(options: Parameters<typeof testGateway>[0] = {}): Promise<TestGateway> {
  const gateway = await testGateway({ ...FAST, ...options });
  started.push(gateway);
  return gateway;
}

interface Reply {
  strategy_id: string;
  queue_map: Record<string, string | string[]>;
  topic_map: Record<string, string>;
  sentinel_id: string | null;
  status: string;
}

async function submit(gateway: Gateway, dag: DagJson): Promise<Reply> {
  const response = await gateway.app.inject({ method: 'POST', url: '/strategies', payload: submission(dag) });
  expect(response.statusCode).toBe(202);
  return response.json<Reply>();
}

function post(gateway: Gateway, id: string, action: 'heartbeat' | 'claim' | 'stop') {
  return gateway.app.inject({ method: 'POST', url: `/strategies/${encodeURIComponent(id)}/${action}` });
}

async function statusOf(gateway: Gateway, id: string): Promise<StrategyStatus> {
  const response = await gateway.app.inject({ url: `/strategies/${id}/status` });
  expect(response.statusCode).toBe(200);
  return response.json<{ status: StrategyStatus }>().status;
}

/** How many expired leases the monitor found already stopped, so far. */
async function alreadyStoppedCount(): Promise<number> {
  const { values } = await gatewayMetrics.leaseExpirationsTotal.get();
  return values.find((v) => v.labels['outcome'] === 'already_stopped')?.value ?? 0;
}

/** Polls `check` every 10 ms until it holds; fails after `timeoutMs`. */
async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** A producer DAG and a consumer DAG that shares every node of it and adds one. */
function sharedDags(prefix: string): { producer: DagJson; consumer: DagJson; extraId: string } {
  const producer = chainDag(2, prefix);
  const extra = wireNode({ name: `${prefix}-extra`, inputs: [producer.nodes[1]!] });
  return { producer, consumer: { nodes: [...producer.nodes, extra] }, extraId: extra.node_id };
}

function producerReleased(events: readonly WsMessage[]): WsMessage[] {
  return events.filter((e) => e.type === 'queue_update' && e.data?.['reason'] === 'producer_released');
}

describe('POST /strategies/:id/heartbeat', () => {
  it('renews the lease to now + lease_ms and answers the status', async () => {
    const { gateway, state } = await start({ leaseCheckMs: 60_000 });
    const { strategy_id: id } = await submit(gateway, chainDag(2, 'hb'));
    const before = Date.now();
    const response = await post(gateway, id, 'heartbeat');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ strategy_id: id, status: 'completed', lease_ms: 200 });
    expect(await state.expiredLeases(before + 199)).toEqual([]);
    expect(await state.expiredLeases(Date.now() + 200)).toEqual([id]);
    await sleep(20);
    await post(gateway, id, 'heartbeat');
    expect(await state.expiredLeases(before + 210)).toEqual([]);
  });

  it('is 404 for an unknown strategy and 409 once the strategy is stopped, which dropped its lease', async () => {
    const { gateway, state } = await start({ leaseCheckMs: 60_000 });
    const unknown = await post(gateway, 'no-such-strategy', 'heartbeat');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe(ErrorCode.NotFound);
    const { strategy_id: id } = await submit(gateway, chainDag(2, 'hb409'));
    expect((await post(gateway, id, 'heartbeat')).statusCode).toBe(200);
    expect((await post(gateway, id, 'stop')).statusCode).toBe(200);
    expect(await state.expiredLeases(Number.MAX_SAFE_INTEGER)).toEqual([]);
    const refused = await post(gateway, id, 'heartbeat');
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: ErrorCode.InvalidTransition });
    expect(refused.json().message).toContain('stopped');
    expect(await state.expiredLeases(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });
});

describe('lease monitor', () => {
  it('stops a producer whose lease expired, announces its nodes once, and a consumer claims them', async () => {
    const { gateway } = await start({ listen: true });
    const ws = await WsEventClient.connect(listeningPort(gateway));
    const { producer, consumer, extraId } = sharedDags('fail');
    const first = await submit(gateway, producer);
    const second = await submit(gateway, consumer);
    for (const node of producer.nodes)
      expect(second.queue_map[node.node_id]).toBe(first.topic_map[node.node_id]);
    expect(Object.keys(second.topic_map)).not.toContain(producer.nodes[0]!.node_id);

    expect((await post(gateway, first.strategy_id, 'heartbeat')).statusCode).toBe(200);
    await ws.until(
      (e) =>
        e.type === 'progress' && e.data?.strategy_id === first.strategy_id && e.data.status === 'stopped',
    );
    await ws.until((e) => producerReleased([e]).length === 1);
    const released = producerReleased(ws.events());
    expect(released).toHaveLength(1);
    const data = released[0]!.data!;
    expect(data).toMatchObject({ strategy_id: first.strategy_id, tags: [], interval: 0, queues: [] });
    expect([...(data['node_ids'] as string[])].sort()).toEqual(Object.keys(first.topic_map).sort());

    // Later rounds find nothing more to do: the lease is gone, and nothing is announced twice.
    expect(await gateway.failover.expireLeases()).toBe(0);
    expect(producerReleased(ws.events())).toHaveLength(1);

    const claim = await post(gateway, second.strategy_id, 'claim');
    expect(claim.statusCode).toBe(200);
    const claimed = claim.json<Reply>();
    expect(claimed).toMatchObject({
      strategy_id: second.strategy_id,
      sentinel_id: second.sentinel_id,
      status: 'completed',
    });
    for (const node of producer.nodes) {
      expect(claimed.topic_map[node.node_id]).toBe(first.topic_map[node.node_id]);
      expect(claimed.queue_map).not.toHaveProperty(node.node_id);
    }
    expect(claimed.topic_map[extraId]).toBe(second.topic_map[extraId]);
    const stored = (await gateway.app.inject({ url: `/strategies/${second.strategy_id}` })).json();
    expect(stored.topic_map).toEqual(claimed.topic_map);
    await ws.until(
      (e) =>
        e.type === 'queue_map' &&
        e.data?.strategy_id === second.strategy_id &&
        Object.keys(e.data['queue_map'] as object).length === 0,
    );
    // The consumer never sent a heartbeat: it has no lease and is still running.
    expect(await statusOf(gateway, second.strategy_id)).toBe('completed');
  });

  it('never expires a strategy that never sent a heartbeat', async () => {
    const { gateway, state } = await start();
    const leased = await submit(gateway, chainDag(2, 'leased'));
    const unleased = await submit(gateway, chainDag(2, 'unleased'));
    await post(gateway, leased.strategy_id, 'heartbeat');
    await until(async () => (await statusOf(gateway, leased.strategy_id)) === 'stopped');
    // The monitor ran past the leased one's deadline; the other one has no lease at all.
    expect(await statusOf(gateway, unleased.strategy_id)).toBe('completed');
    expect(await state.expiredLeases(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it('only drops the lease of a strategy that is already stopped', async () => {
    const { gateway, state } = await start({ leaseCheckMs: 60_000 });
    const { strategy_id: id } = await submit(gateway, chainDag(2, 'gone'));
    expect((await post(gateway, id, 'stop')).statusCode).toBe(200);
    // A heartbeat that raced the stop left a lease behind.
    await state.renewLease(id, Date.now() - 1);
    const before = await alreadyStoppedCount();
    expect(await gateway.failover.expireLeases()).toBe(0);
    expect(await state.expiredLeases(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(await alreadyStoppedCount()).toBe(before + 1);
    expect(await statusOf(gateway, id)).toBe('stopped');
  });

  it('keeps the lease when the stop fails, and stops the strategy in a later round', async () => {
    const store = new FlakyTransitionStore();
    const { gateway, state } = await start({ store, leaseCheckMs: 60_000 });
    const { strategy_id: id } = await submit(gateway, chainDag(2, 'flaky'));
    await state.renewLease(id, Date.now() - 1);
    store.failing = true;
    expect(await gateway.failover.expireLeases()).toBe(0);
    expect(await state.expiredLeases(Date.now())).toEqual([id]);
    expect(await statusOf(gateway, id)).toBe('completed');
    store.failing = false;
    expect(await gateway.failover.expireLeases()).toBe(1);
    expect(await statusOf(gateway, id)).toBe('stopped');
    expect(await state.expiredLeases(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it('lets exactly one of two Gateways sharing the stores stop an expired strategy', async () => {
    const shared = {
      store: new MemoryStrategyStore(),
      state: new MemoryStateStore(),
      dagClient: new EmbeddedDagClient(memoryDagManager()),
      leaseCheckMs: 60_000,
      listen: true,
    };
    const one = await start(shared);
    // Submitted before the second Gateway starts, so the first one's worker is the one that diffs it.
    const { strategy_id: id } = await submit(one.gateway, chainDag(3, 'twin'));
    const two = await start(shared);
    const wsOne = await WsEventClient.connect(listeningPort(one.gateway));
    const wsTwo = await WsEventClient.connect(listeningPort(two.gateway));
    await shared.state.renewLease(id, Date.now() - 1);
    const stopped = await Promise.all([
      one.gateway.failover.expireLeases(),
      two.gateway.failover.expireLeases(),
    ]);
    expect([...stopped].sort()).toEqual([0, 1]);
    const announcer = stopped[0] === 1 ? wsOne : wsTwo;
    await announcer.until((e) => producerReleased([e]).length === 1);
    expect(producerReleased([...wsOne.events(), ...wsTwo.events()])).toHaveLength(1);
    expect(await shared.state.expiredLeases(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });
});

describe('POST /strategies/:id/claim', () => {
  it('is 404 for an unknown strategy and 409 for a stopped one', async () => {
    const { gateway } = await start();
    expect((await post(gateway, 'no-such-strategy', 'claim')).statusCode).toBe(404);
    const { strategy_id: id } = await submit(gateway, chainDag(2, 'claim409'));
    await post(gateway, id, 'stop');
    const refused = await post(gateway, id, 'claim');
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: ErrorCode.InvalidTransition });
    expect(refused.json().message).toContain('only an active (completed) strategy can claim');
  });

  it('answers the same maps as the 202 when there is nothing to take over', async () => {
    const { gateway } = await start();
    const reply = await submit(gateway, chainDag(3, 'same'));
    const claim = await post(gateway, reply.strategy_id, 'claim');
    expect(claim.statusCode).toBe(200);
    expect(claim.json()).toEqual(reply);
  });

  it('is 503 while the DAG Manager is down', async () => {
    const dagClient = switchableDagClient();
    const { gateway } = await start({ dagClient });
    const { strategy_id: id } = await submit(gateway, chainDag(2, 'down'));
    dagClient.up = false;
    const refused = await post(gateway, id, 'claim');
    expect(refused.statusCode).toBe(503);
    expect(refused.json().code).toBe(ErrorCode.Unavailable);
    expect(refused.headers['retry-after']).toBe('1');
  });
});

/** A strategy store whose status changes fail while `failing` is true (its database is down). */
class FlakyTransitionStore extends MemoryStrategyStore {
  failing = false;
  override transition(...args: Parameters<MemoryStrategyStore['transition']>): Promise<boolean> {
    if (this.failing) return Promise.reject(new Error('database unavailable'));
    return super.transition(...args);
  }
}
