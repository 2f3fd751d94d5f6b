import { createHash } from 'node:crypto';
import { redactDsn } from '../../common/dsn.js';
import { logger } from '../../common/logger.js';
import { createTopicBus } from '../../transport/create-topic-bus.js';
import type { TopicBus } from '../../transport/topic-bus.js';
import type { ExecutionGraph } from '../runner/execution-graph.js';
import { RunResult } from '../runner/run-result.js';
import { RunMode, type ResolvedRunOptions } from '../runner/run-options.js';
import { orderRouting } from '../runner/order-routing.js';
import { TickEngine } from '../runner/tick-engine.js';
import type { Strategy } from '../strategy.js';
import { TagQueryNode } from '../tag-query-node.js';
import { TagQueryManager } from '../tagquery/tag-query-manager.js';
import { GatewayLink } from './gateway-link.js';
import { LiveSession } from './live-session.js';
import { LOCAL_ROLES, promotedNodes, type NodeRoles } from './node-roles.js';

/** Options of {@link LiveRun.stop}. */
export interface LiveStopOptions {
  /** How long a topic bus that does not take the outputs left gets before they are abandoned, in ms. Default 10,000. */
  readonly graceMs?: number;
}

/**
 * A running dry-run or live run (SPEC §3.5): the same read API as a finished run's result, counting
 * as it goes, plus `done` and `stop()`.
 */
export class LiveRun extends RunResult {
  /** The Gateway's strategy id of each strategy (empty without a Gateway). */
  readonly strategyIds: readonly string[];
  /** Settles when the run ends by itself (`endTime` reached, feeds ended) or fails. */
  readonly done: Promise<void>;
  readonly #session: LiveSession;
  readonly #release: () => Promise<void>;

  constructor(
    fields: ConstructorParameters<typeof RunResult>[0],
    session: LiveSession,
    strategyIds: readonly string[],
    release: () => Promise<void>,
  ) {
    super(fields);
    this.#session = session;
    this.strategyIds = strategyIds;
    this.#release = release;
    this.done = session.done.then(
      () => this.#release(),
      async (error: unknown) => {
        await this.#release();
        throw error;
      },
    );
    this.done.catch(() => undefined);
  }

  /** What this process computes, consumes and publishes now. */
  get roles(): NodeRoles {
    return this.#session.roles;
  }

  /** Outputs published to topics so far. */
  get published(): number {
    return this.#session.publisher?.published ?? 0;
  }

  /**
   * Outputs computed for a topic and not published: while running, those waiting for the bus;
   * once ended, those a stop abandoned because the bus did not take them (0 after a normal end).
   */
  get unpublished(): number {
    return this.#session.publisher?.backlog ?? 0;
  }

  /**
   * Once ended: the first failure of a stream's event recorder to store the bars it was given
   * (its closing `flush` rejected, e.g. QuestDB unreachable), else null.
   */
  get recordingError(): Error | null {
    return this.#session.recording.error;
  }

  /** Messages consumed from other processes' topics so far. */
  get received(): number {
    return this.#session.counters.received;
  }

  /** Topic messages skipped because they did not fit their node (interval, bucket grid). */
  get skipped(): number {
    return this.#session.counters.skipped;
  }

  /**
   * Stops cleanly: feeds stop, consumers commit what they handled, producers flush, and the
   * strategies are stopped at the Gateway (releasing what they produced to the other processes).
   * A topic bus that does not take the outputs left gets `graceMs` (default 10 s; 0: none), then
   * they are abandoned, logged and counted in {@link unpublished}. A second call can shorten it.
   */
  override async stop(options: LiveStopOptions = {}): Promise<void> {
    await this.#session.stop(options.graceMs);
    await this.#release();
  }
}

/** Starts a dry-run or live run: submits to the Gateway (if any), warms up, and goes live. */
export async function startLiveRun(
  strategies: Strategy[],
  graph: ExecutionGraph,
  options: ResolvedRunOptions,
): Promise<LiveRun> {
  const started = performance.now();
  const routing = orderRouting(graph, options);
  const ownsBus = options.gatewayUrl !== null && options.topicBus === null;
  let bus = options.gatewayUrl === null ? null : options.topicBus;
  let link: GatewayLink | null = null;
  let tagQueries: TagQueryManager | null = null;
  const release = once(async () => {
    await tagQueries?.stop();
    await routing?.close();
    await link?.close();
    if (ownsBus) await bus?.close();
  });
  /** Stopped if the start fails: feeds it started must not run on. */
  let created: LiveSession | null = null;
  try {
    // The bus first: one that does not answer fails the run before the strategies are registered.
    // resolveRunOptions refuses a gatewayUrl without a topicBus or a busDsn.
    if (ownsBus) bus = await createTopicBus(options.busDsn!, 'busDsn (--bus-dsn)');
    if (options.gatewayUrl !== null)
      link = await GatewayLink.open(strategies, {
        gatewayUrl: options.gatewayUrl,
        runType: options.mode === RunMode.Live ? 'live' : 'dry-run',
        ...(options.token !== null && { token: options.token }),
      });
    const from = options.start ?? Math.floor(Date.now() / 1000);
    const session = new LiveSession(
      graph,
      new TickEngine(graph.order, options.onMissing, true),
      link?.roles ?? LOCAL_ROLES,
      {
        from,
        until: options.end,
        maxRetries: options.maxRetries,
        historyTimeoutMs: options.historyTimeoutMs,
        bus,
        busName: ownsBus ? redactDsn(options.busDsn!) : 'topicBus',
        consumerGroup: options.consumerGroup ?? consumerGroupOf(strategies),
        ...(routing && { onLive: () => routing.attach(from) }),
      },
    );
    created = session;
    if (link !== null && bus !== null) {
      await link.startHeartbeats((error) => session.fail(error));
      await link.followReleases(takeOverOnRelease(link, bus, session));
    }
    await session.start();
    if (link !== null) tagQueries = await followTagQueries(graph, session, options);
    return new LiveRun(
      {
        mode: options.mode,
        strategies,
        graph,
        startTime: from,
        endTime: options.end,
        totals: session.counters,
        timing: { historyMs: 0, replayMs: 0, totalMs: performance.now() - started },
        historyGaps: [],
        ...(routing && { execution: () => routing.report() }),
      },
      session,
      link?.strategyIds ?? [],
      release,
    );
  } catch (error) {
    // Feeds that started before the failure (another stream's failed) must not run on.
    await created?.stop(0);
    await release();
    throw error;
  }
}

/** When producers release nodes this process consumes: claim them, and take over those granted. */
function takeOverOnRelease(
  link: GatewayLink,
  bus: TopicBus,
  session: LiveSession,
): (nodeIds: readonly string[]) => void {
  let chain = Promise.resolve();
  return (nodeIds) => {
    chain = chain
      .then(async () => {
        const before = session.roles;
        const wanted = nodeIds.filter((id) => before.consumed.has(id));
        if (wanted.length === 0) return;
        const after = await link.claim(wanted);
        const promoted = promotedNodes(before, after);
        if (promoted.length === 0) return;
        const lastPublished = new Map<string, number>();
        for (const nodeId of promoted) {
          const last = await bus.lastMessage(after.produced.get(nodeId)!, nodeId);
          if (last !== null) lastPublished.set(nodeId, last.timestamp);
        }
        await session.takeOver(promoted, after, lastPublished);
      })
      .catch((error: unknown) =>
        logger.error({ err: error, nodes: nodeIds }, 'taking over released nodes failed'),
      );
  };
}

/** Resolves the run's TagQueryNodes and keeps their queues current (SPEC §3.6); null when it has none. */
async function followTagQueries(
  graph: ExecutionGraph,
  session: LiveSession,
  options: ResolvedRunOptions,
): Promise<TagQueryManager | null> {
  const nodes = graph.order
    .map((runtime) => runtime.node)
    .filter((node): node is TagQueryNode => node instanceof TagQueryNode);
  if (nodes.length === 0) return null;
  const manager = new TagQueryManager({
    gatewayUrl: options.gatewayUrl,
    ...(options.token !== null && { token: options.token }),
    onQueuesAdded: (node, queues) => session.addQueues(node.nodeId, queues),
    onQueuesRemoved: (node, queues) => session.removeQueues(node.nodeId, queues),
  });
  for (const node of nodes) manager.register(node);
  await manager.start();
  return manager;
}

/** A consumer group that stays the same when the same strategies restart: resume from committed positions. */
function consumerGroupOf(strategies: readonly Strategy[]): string {
  const ids = strategies.flatMap((s) => s.nodes.map((n) => n.nodeId)).sort();
  return `qmtl-runner-${createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 16)}`;
}

function once(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => (running ??= task());
}
