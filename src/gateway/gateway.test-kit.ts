import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import { crc32OfList } from '../common/crc32.js';
import type { DagJson } from '../dag/node-json.js';
import { DagManager } from '../dagmanager/dag-manager.js';
import { MemoryNodeRepository } from '../dagmanager/memory-node-repository.js';
import { MemoryQueueAdmin } from '../dagmanager/memory-queue-admin.js';
import { createGateway, type Gateway, type GatewayOptions } from './create-gateway.js';
import type { DagClient } from './dag-client.js';
import { EmbeddedDagClient } from './embedded-dag-client.js';
import { MemoryStateStore } from './state/memory-state-store.js';
import type { StateStore } from './state/state-store.js';
import { MemoryStrategyStore } from './store/memory-strategy-store.js';
import type { StrategyStore } from './store/strategy-store.js';

/** An in-process DAG Manager on memory adapters. */
export function memoryDagManager(): DagManager {
  const admin = new MemoryQueueAdmin();
  return new DagManager({
    repo: MemoryNodeRepository.open(),
    admin,
    topics: { ensure: (spec) => admin.createTopic({ ...spec, replicationFactor: 1 }) },
  });
}

/** What {@link testGateway} builds, with the parts tests poke at. */
export interface TestGateway {
  readonly gateway: Gateway;
  readonly store: StrategyStore;
  readonly state: StateStore;
  readonly dagManager: DagManager;
}

/**
 * A Gateway on memory adapters and an in-process DAG Manager, worker and degradation running
 * (not listening: use `gateway.app.inject`, or `gateway.listen('127.0.0.1', 0)` for sockets).
 */
export async function testGateway(
  options: GatewayOptions & {
    store?: StrategyStore;
    state?: StateStore;
    dagClient?: DagClient;
    listen?: boolean;
  } = {},
): Promise<TestGateway> {
  const dagManager = memoryDagManager();
  const store = options.store ?? new MemoryStrategyStore();
  const state = options.state ?? new MemoryStateStore();
  const dagClient = options.dagClient ?? new EmbeddedDagClient(dagManager);
  const gateway = await createGateway(
    { store, state, dagClient },
    { cpuPercent: () => 0, statsRateLimitPerMinute: 0, workerSweepMs: 60_000, ...options },
  );
  if (options.listen === true) await gateway.listen('127.0.0.1', 0);
  else {
    await gateway.degradation.evaluate();
    await gateway.worker.start();
    gateway.failover.start();
  }
  return { gateway, store, state, dagManager };
}

/** A `POST /strategies` body for a DAG (base64, correct CRC), with overrides. */
export function submission(dag: DagJson, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dag_json: Buffer.from(JSON.stringify(dag)).toString('base64'),
    meta: null,
    run_type: 'live',
    node_ids_crc32: crc32OfList(dag.nodes.map((n) => n.node_id)),
    ...overrides,
  };
}

/** The port a Gateway started with `listen` (or `gateway.app.listen`) is listening on. */
export function listeningPort(gateway: Gateway): number {
  return (gateway.app.server.address() as AddressInfo).port;
}

/** A {@link DagClient} whose DAG Manager the test takes down and brings back. */
export interface SwitchableDagClient extends DagClient {
  /** `false`: diffs fail and the health check says unhealthy; `true`: both work. */
  up: boolean;
}

/**
 * A DAG client over an in-process DAG Manager of its own (not {@link testGateway}'s) that the test
 * switches down and up, e.g. to see a submission kept as `queued` and completed once it is back.
 *
 * @example
 * const dagClient = switchableDagClient({ up: false });
 * const { gateway } = await testGateway({ dagClient });
 * dagClient.up = true;
 * await gateway.degradation.evaluate();
 */
export function switchableDagClient(options: { up?: boolean } = {}): SwitchableDagClient {
  const inner = new EmbeddedDagClient(memoryDagManager());
  const client: SwitchableDagClient = {
    up: options.up ?? true,
    diff: (strategyId, dagJson) =>
      client.up ? inner.diff(strategyId, dagJson) : Promise.reject(new Error('DAG Manager down')),
    getQueues: (tags, interval, matchMode) => inner.getQueues(tags, interval, matchMode),
    cleanup: (strategyId) => inner.cleanup(strategyId),
    healthy: () => Promise.resolve(client.up),
    close: () => Promise.resolve(),
  };
  return client;
}

/** The data of a Gateway event (SPEC §2.6). */
export interface WsEventData {
  readonly strategy_id?: string;
  readonly status?: string;
  readonly [field: string]: unknown;
}

/** A message from `/ws`: a CloudEvent (with `seq`) or a reply to a subscription. */
export interface WsMessage {
  readonly type: string;
  readonly seq?: number;
  readonly data?: WsEventData;
  readonly [field: string]: unknown;
}

/**
 * A real `ws` client on a listening Gateway's `/ws` that records what it receives, so a test waits
 * for the event it expects instead of sleeping. {@link WsEventClient.closeAll} closes every client
 * opened.
 *
 * @example
 * afterEach(() => WsEventClient.closeAll());
 * const client = await WsEventClient.connect(listeningPort(gateway));
 * await client.until((event) => event.type === 'queue_map');
 */
export class WsEventClient {
  private static readonly opened = new Set<WsEventClient>();
  /** Everything received, oldest first. */
  readonly messages: WsMessage[] = [];
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString('utf8')) as WsMessage);
      for (const waiter of this.waiters.filter((w) => w.test())) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  }

  /** Opens `ws://127.0.0.1:<port>/ws`; resolves once the connection is open. */
  static async connect(port: number): Promise<WsEventClient> {
    const client = new WsEventClient(new WebSocket(`ws://127.0.0.1:${port}/ws`));
    WsEventClient.opened.add(client);
    await once(client.socket, 'open');
    return client;
  }

  /** Cuts every client opened so far; for `afterEach`. */
  static closeAll(): void {
    for (const client of WsEventClient.opened) client.socket.terminate();
    WsEventClient.opened.clear();
  }

  /** Events (messages with a `seq`), optionally for one strategy. */
  events(strategyId?: string): WsMessage[] {
    return this.messages.filter(
      (m) => typeof m.seq === 'number' && (strategyId === undefined || m.data?.strategy_id === strategyId),
    );
  }

  /** Resolves once a received event satisfies `predicate`. */
  until(predicate: (event: WsMessage) => boolean): Promise<void> {
    const test = (): boolean => this.events().some(predicate);
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Sends a subscription filter and expects the hub to confirm it. */
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
