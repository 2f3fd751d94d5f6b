import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import type { NodeJson } from '../../dag/node-json.js';
import { wireNode } from '../../dagmanager/dag.test-kit.js';
import { listeningPort, submission, testGateway, type TestGateway } from '../../gateway/gateway.test-kit.js';
import { TagQueryNode } from '../tag-query-node.js';
import { MAX_WEIGHTS, TagQueryManager, type TagQueryManagerOptions } from './tag-query-manager.js';
import { WebSocketClient } from './ws-client.js';

const managers: TagQueryManager[] = [];
const gateways: TestGateway[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
  await Promise.all(gateways.splice(0).map((g) => g.gateway.close()));
});

function query(queryTags: string[], matchMode: 'any' | 'all' = 'any'): TagQueryNode {
  return new TagQueryNode({ queryTags, interval: 60, period: 3, matchMode });
}

/** Hook calls, with a way to wait for the next one. */
class HookLog {
  readonly calls: { hook: 'added' | 'removed'; node: TagQueryNode; queues: string[] }[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  readonly options = {
    onQueuesAdded: (node: TagQueryNode, queues: readonly string[]) => this.record('added', node, queues),
    onQueuesRemoved: (node: TagQueryNode, queues: readonly string[]) => this.record('removed', node, queues),
  } satisfies Partial<TagQueryManagerOptions>;

  until(predicate: (call: HookLog['calls'][number]) => boolean): Promise<void> {
    const test = (): boolean => this.calls.some(predicate);
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  private record(hook: 'added' | 'removed', node: TagQueryNode, queues: readonly string[]): void {
    this.calls.push({ hook, node, queues: [...queues] });
    for (const waiter of this.waiters.filter((w) => w.test())) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve();
    }
  }
}

function manager(options: TagQueryManagerOptions): TagQueryManager {
  const created = new TagQueryManager(options);
  managers.push(created);
  return created;
}

/** A producer DAG: one StreamInput carrying `tags`. */
function producer(name: string, tags: string[]): { nodes: NodeJson[] } {
  return { nodes: [wireNode({ name, nodeType: 'StreamInput', tags, interval: 60 })] };
}

async function submit(gw: TestGateway, dag: { nodes: NodeJson[] }): Promise<string> {
  const response = await gw.gateway.app.inject({
    method: 'POST',
    url: '/strategies',
    payload: submission(dag),
  });
  expect(response.statusCode).toBe(202);
  const topicMap = response.json<{ topic_map: Record<string, string> }>().topic_map;
  return topicMap[dag.nodes[0]!.node_id]!;
}

async function dagEvent(gw: TestGateway, type: string, data: Record<string, unknown>): Promise<void> {
  const response = await gw.gateway.app.inject({
    method: 'POST',
    url: '/callbacks/dag-event',
    payload: { specversion: '1.0', id: `e-${type}`, source: 'qmtl.dagmanager', type, data },
  });
  expect(response.statusCode).toBe(202);
}

describe('TagQueryManager offline', () => {
  it('resolves every node to no queues without asking anyone', async () => {
    const fetchSpy = vi.fn<typeof fetch>();
    const hooks = new HookLog();
    const tagManager = manager({ fetch: fetchSpy, ...hooks.options });
    const a = query(['btc']);
    const b = query(['btc', 'eth'], 'all');
    tagManager.register(a);
    tagManager.register(b);
    await tagManager.start();
    await tagManager.resolveTags({ offline: true });
    expect([a.queues, b.queues]).toEqual([[], []]);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(hooks.calls).toEqual([]);
  });
});

describe('TagQueryManager over HTTP', () => {
  it('asks /queues/by_tag with sorted tags, interval and match mode, for each query once', async () => {
    const fetchSpy = vi.fn<typeof fetch>(() => Promise.resolve(Response.json({ queues: ['q1'] })));
    const tagManager = manager({ gatewayUrl: 'http://gw.test/', fetch: fetchSpy });
    const a = query(['eth', 'btc'], 'all');
    const b = query(['btc', 'eth'], 'all');
    tagManager.register(a);
    tagManager.register(b);
    await tagManager.resolveTags();
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(fetchSpy.mock.calls[0]![0] as string).toBe(
      'http://gw.test/queues/by_tag?tags=btc%2Ceth&interval=60&match_mode=all',
    );
    expect([a.queues, b.queues]).toEqual([['q1'], ['q1']]);
  });

  it('reports an error answer and an unreachable Gateway as QMTL_UNAVAILABLE', async () => {
    const failing = manager({
      gatewayUrl: 'http://gw.test',
      fetch: () => Promise.resolve(new Response('boom', { status: 500 })),
    });
    failing.register(query(['btc']));
    await expect(failing.resolveTags()).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringMatching(/answered 500: boom/),
    });
    const unreachable = manager({
      gatewayUrl: 'http://gw.test',
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    unreachable.register(query(['btc']));
    await expect(unreachable.resolveTags()).rejects.toThrow(/gateway unreachable at "http:\/\/gw.test/);
  });

  it('applies an exact queue_update as is, re-resolves overlapping queries, and drops gc queues', async () => {
    let answer = ['q1', 'q2'];
    const fetchSpy = vi.fn<typeof fetch>(() => Promise.resolve(Response.json({ queues: answer })));
    const hooks = new HookLog();
    const tagManager = manager({ gatewayUrl: 'http://gw.test', fetch: fetchSpy, ...hooks.options });
    const exact = query(['b', 'a']);
    const overlapping = query(['a', 'c'], 'all');
    const otherInterval = new TagQueryNode({ queryTags: ['a'], interval: 300, period: 3 });
    for (const node of [exact, overlapping, otherInterval]) tagManager.register(node);
    await tagManager.resolveTags();
    expect(fetchSpy).toHaveBeenCalledTimes(3);

    answer = ['q9'];
    tagManager.handleEvent('queue_update', {
      tags: 'a,b',
      interval: '60',
      queues: ['q2', 'q3'],
      match_mode: 'any',
    });
    await tagManager.settled();
    expect(exact.queues).toEqual(['q2', 'q3']);
    expect(overlapping.queues).toEqual(['q9']);
    expect(otherInterval.queues).toEqual(['q1', 'q2']);
    expect(fetchSpy).toHaveBeenCalledTimes(4);
    expect(hooks.calls.filter((c) => c.node === exact)).toEqual([
      { hook: 'added', node: exact, queues: ['q1', 'q2'] },
      { hook: 'removed', node: exact, queues: ['q1'] },
      { hook: 'added', node: exact, queues: ['q3'] },
    ]);

    tagManager.handleEvent('gc', { id: 'q3', queues: ['q3'] });
    await tagManager.settled();
    expect(exact.queues).toEqual(['q2']);
    tagManager.handleEvent('queue_update', { tags: ['a'], interval: 'x', queues: [] });
    await tagManager.settled();
    expect(fetchSpy).toHaveBeenCalledTimes(4);
  });
});

describe('TagQueryManager and producer_released', () => {
  it('ignores a producer_released queue_update quietly, asking nothing and changing nothing', async () => {
    const fetchSpy = vi.fn<typeof fetch>(() => Promise.resolve(Response.json({ queues: ['q1'] })));
    const hooks = new HookLog();
    const tagManager = manager({ gatewayUrl: 'http://gw.test', fetch: fetchSpy, ...hooks.options });
    const node = query(['btc']);
    tagManager.register(node);
    await tagManager.resolveTags();
    const warn = vi.spyOn(logger, 'warn');
    try {
      tagManager.handleEvent('queue_update', {
        reason: 'producer_released',
        strategy_id: 's1',
        node_ids: ['n1'],
        tags: [],
        interval: 0,
        queues: [],
      });
      await tagManager.settled();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    expect(node.queues).toEqual(['q1']);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(hooks.calls).toEqual([{ hook: 'added', node, queues: ['q1'] }]);
  });
});

describe('TagQueryManager against a real Gateway', () => {
  it('resolves on start, then picks up a queue created later and keeps sentinel weights', async () => {
    const gw = await testGateway({ listen: true });
    gateways.push(gw);
    const firstTopic = await submit(gw, producer('btc_feed', ['btc']));
    const hooks = new HookLog();
    const clients: WebSocketClient[] = [];
    const tagManager = manager({
      gatewayUrl: `http://127.0.0.1:${listeningPort(gw.gateway)}`,
      wsClient: (url, options) => {
        const client = new WebSocketClient(url, options);
        clients.push(client);
        return client;
      },
      ...hooks.options,
    });
    const single = query(['btc']);
    const wide = query(['btc', 'eth']);
    tagManager.register(single);
    tagManager.register(wide);
    await tagManager.start();
    expect(single.queues).toEqual([firstTopic]);
    expect(wide.queues).toEqual([firstTopic]);
    await clients[0]!.opened();

    // The in-process DAG Manager of the test kit has no callback, so post its event ourselves.
    const secondTopic = await submit(gw, producer('btc_feed_2', ['btc']));
    expect(secondTopic).not.toBe(firstTopic);
    await dagEvent(gw, 'queue_update', {
      tags: ['btc'],
      interval: 60,
      queues: [firstTopic, secondTopic],
      match_mode: 'any',
    });
    await hooks.until((c) => c.node === single && c.queues.includes(secondTopic));
    await hooks.until((c) => c.node === wide && c.queues.includes(secondTopic));
    expect(hooks.calls.filter((c) => c.hook === 'added')).toEqual([
      { hook: 'added', node: single, queues: [firstTopic] },
      { hook: 'added', node: wide, queues: [firstTopic] },
      { hook: 'added', node: single, queues: [secondTopic] },
      { hook: 'added', node: wide, queues: [secondTopic] },
    ]);
    expect(new Set(wide.queues)).toEqual(new Set([firstTopic, secondTopic]));

    await dagEvent(gw, 'sentinel_weight', { sentinel_id: 'v2', weight: 0.4 });
    await vi.waitFor(() => expect(tagManager.weights.get('v2')).toBe(0.4));

    await dagEvent(gw, 'queue_update', {
      tags: ['btc'],
      interval: 60,
      queues: [secondTopic],
      match_mode: 'any',
    });
    await hooks.until((c) => c.hook === 'removed');
    expect(hooks.calls.filter((c) => c.hook === 'removed')).toEqual([
      { hook: 'removed', node: single, queues: [firstTopic] },
    ]);

    await tagManager.stop();
    await tagManager.stop();
    expect(clients[0]!.state).toBe('closed');
  });

  it('re-resolves every query after the WebSocket reconnects', async () => {
    const gw = await testGateway({ listen: true });
    gateways.push(gw);
    const hooks = new HookLog();
    const clients: WebSocketClient[] = [];
    const tagManager = manager({
      gatewayUrl: `http://127.0.0.1:${listeningPort(gw.gateway)}`,
      backoff: { baseMs: 5, maxMs: 10 },
      wsClient: (url, options) => {
        const client = new WebSocketClient(url, options);
        clients.push(client);
        return client;
      },
      ...hooks.options,
    });
    const node = query(['eth']);
    tagManager.register(node);
    await tagManager.start();
    await clients[0]!.opened();
    await tagManager.settled(); // the re-resolve of the first connect
    expect(node.queues).toEqual([]);
    // A queue appears while the connection is down: its event is missed, the re-resolve finds it.
    for (const socket of gw.gateway.app.websocketServer.clients) socket.terminate();
    const topic = await submit(gw, producer('eth_feed', ['eth']));
    await hooks.until((c) => c.node === node && c.queues.includes(topic));
    expect(clients[0]!.connects).toBe(2);
  });
});

describe('TagQueryManager sentinel weights', () => {
  it('keeps the weights updated last, at most MAX_WEIGHTS, whatever a flood of ids sends', () => {
    const manager = new TagQueryManager();
    manager.handleEvent('sentinel_weight', { sentinel_id: 'mine-sentinel', weight: 0.5 });
    for (let i = 0; i < 2 * MAX_WEIGHTS; i++) {
      manager.handleEvent('sentinel_weight', { sentinel_id: `flood-${i}`, weight: 0.1 });
      if (i % 1000 === 0)
        manager.handleEvent('sentinel_weight', { sentinel_id: 'mine-sentinel', weight: 0.5 });
    }
    expect(manager.weights.size).toBe(MAX_WEIGHTS);
    expect(manager.weights.get('mine-sentinel')).toBe(0.5);
    expect(manager.weights.has(`flood-${2 * MAX_WEIGHTS - 1}`)).toBe(true);
    expect(manager.weights.has('flood-0')).toBe(false);
  });
});
