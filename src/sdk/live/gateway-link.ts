import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { PeriodicTask } from '../../common/periodic-task.js';
import { sleep } from '../../common/retry.js';
import {
  GatewayClient,
  GatewayUnavailableError,
  type GatewayRunType,
  type GatewaySubmission,
} from '../gateway-client.js';
import type { Strategy } from '../strategy.js';
import { toWebSocketUrl, WebSocketClient } from '../tagquery/ws-client.js';
import { isRecord } from '../../common/is-record.js';
import { rolesOf, type NodeRoles } from './node-roles.js';

/** Submissions retried after a degraded Gateway's Retry-After (fewer than the client breaker's 3 failures). */
const DEGRADED_RETRIES = 2;

/** Options of {@link GatewayLink.open}. */
export interface GatewayLinkOptions {
  readonly gatewayUrl: string;
  readonly runType: GatewayRunType;
  readonly token?: string;
  readonly meta?: Record<string, unknown> | null;
  /** Longest `Retry-After` of a degraded Gateway waited for before submitting again, in ms. Default 10 s. */
  readonly maxRetryAfterMs?: number;
  /** How long to wait for a diff the Gateway could not compute at once (DAG Manager down). Default 30 s. */
  readonly diffWaitMs?: number;
}

/** Called with the node ids a stopped or dead producer released (a `queue_update` on `/ws`). */
export type ReleasedHandler = (nodeIds: readonly string[]) => void;

/**
 * A process's connection to the Gateway (SPEC §3.5): submits each strategy's DAG and keeps the
 * diffs, renews the strategies' leases while they run (so a dead process's nodes are released),
 * follows `/ws` for released producers, claims nodes to take them over, and stops the strategies
 * when the run ends.
 */
export class GatewayLink {
  readonly client: GatewayClient;
  readonly #strategies: readonly Strategy[];
  readonly #options: GatewayLinkOptions;
  #submissions: GatewaySubmission[];
  #heartbeat: PeriodicTask | null = null;
  #events: WebSocketClient | null = null;
  #closed: Promise<void> | null = null;
  #onLost: ((error: QmtlError) => void) | null = null;

  private constructor(strategies: readonly Strategy[], options: GatewayLinkOptions, client: GatewayClient) {
    this.#strategies = strategies;
    this.#options = options;
    this.client = client;
    this.#submissions = [];
  }

  /** Submits every strategy and waits for each diff. A failure stops what was already submitted. */
  static async open(strategies: readonly Strategy[], options: GatewayLinkOptions): Promise<GatewayLink> {
    const client = new GatewayClient({
      gatewayUrl: options.gatewayUrl,
      ...(options.token !== undefined && { token: options.token }),
    });
    const link = new GatewayLink(strategies, options, client);
    try {
      for (const strategy of strategies) link.#submissions.push(await link.#submit(strategy));
    } catch (error) {
      await link.close();
      throw error;
    }
    return link;
  }

  /** One Gateway strategy id per strategy of the run, in order. */
  get strategyIds(): string[] {
    return this.#submissions.map((s) => s.strategyId);
  }

  /** This process's role for every node, merged over its strategies. */
  get roles(): NodeRoles {
    return rolesOf(this.#submissions);
  }

  /**
   * Renews every strategy's lease now and then every third of the lease the Gateway grants.
   * `onLost` is called once if the Gateway stopped one of them meanwhile (its lease ran out, or
   * someone stopped it): its nodes may already have another producer, so this process must stop.
   */
  async startHeartbeats(onLost: (error: QmtlError) => void): Promise<void> {
    this.#onLost = onLost;
    const leaseMs = await this.#beat();
    this.#heartbeat = new PeriodicTask('gateway heartbeat', Math.max(50, Math.floor(leaseMs / 3)), () =>
      this.#beat(),
    );
    this.#heartbeat.start();
  }

  /** Follows `/ws`: `onReleased` gets the node ids of every producer that stops or dies. */
  async followReleases(onReleased: ReleasedHandler): Promise<void> {
    const events = new WebSocketClient(toWebSocketUrl(this.#options.gatewayUrl), {
      ...(this.#options.token !== undefined && { token: this.#options.token }),
      subscribe: { types: ['queue_update'] },
      onEvent: (type, data) => {
        if (type !== 'queue_update' || !isRecord(data) || data['reason'] !== 'producer_released') return;
        const nodeIds = data['node_ids'];
        if (Array.isArray(nodeIds)) onReleased(nodeIds.filter((id): id is string => typeof id === 'string'));
      },
    });
    this.#events = events;
    events.start();
    await events.opened();
  }

  /**
   * Asks the Gateway to make this process the producer of `nodeIds` where nobody produces them:
   * re-runs the diff of each strategy that contains one of them. Returns the new roles.
   */
  async claim(nodeIds: readonly string[]): Promise<NodeRoles> {
    const wanted = new Set(nodeIds);
    for (const [index, strategy] of this.#strategies.entries()) {
      if (!strategy.nodes.some((node) => wanted.has(node.nodeId))) continue;
      this.#submissions[index] = await this.client.claim(this.#submissions[index]!.strategyId);
    }
    return this.roles;
  }

  /** Stops heartbeats and events, then stops every strategy at the Gateway (releasing what it produced). Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#heartbeat?.stop();
      await this.#events?.close();
      for (const { strategyId } of this.#submissions) {
        await this.client
          .stop(strategyId)
          .catch((error: unknown) =>
            logger.warn({ err: error, strategyId }, 'stopping the strategy at the Gateway failed'),
          );
      }
    })();
    return this.#closed;
  }

  /**
   * Submits and returns the diff. A submission the Gateway could not diff at once is polled until
   * its diff exists (then read with a claim); one that is never usable is stopped again, so its DAG
   * hash and nodes are released whatever went wrong.
   */
  async #submit(strategy: Strategy): Promise<GatewaySubmission> {
    const submission = await this.#submitWhenAccepted(strategy);
    if (submission.status === 'completed') return submission;
    const id = submission.strategyId;
    let status: string | null = submission.status;
    let kept = false;
    try {
      const deadline = Date.now() + (this.#options.diffWaitMs ?? 30_000);
      while (status !== 'failed' && Date.now() < deadline) {
        await sleep(250);
        status = await this.client.status(id);
        if (status === 'completed') {
          const claimed = await this.client.claim(id);
          kept = true;
          return claimed;
        }
      }
    } finally {
      if (!kept) await this.client.stop(id).catch(() => undefined);
    }
    if (status === 'failed')
      throw new QmtlError(
        ErrorCode.InvalidDag,
        `the DAG Manager rejected strategy ${quote(strategy.name)}: ${submission.error ?? 'no reason given'}`,
      );
    throw new QmtlError(
      ErrorCode.Unavailable,
      `the Gateway at ${quote(this.#options.gatewayUrl)} has no diff for strategy ${quote(strategy.name)} yet (DAG Manager unavailable?); try again later`,
    );
  }

  /**
   * Submits, waiting out a degraded Gateway that says when to come back (503/204 with
   * Retry-After, capped at `maxRetryAfterMs`) at most {@link DEGRADED_RETRIES} times, so
   * the client's breaker (3 failures) never opens over it. Anything else fails at once.
   */
  async #submitWhenAccepted(strategy: Strategy): Promise<GatewaySubmission> {
    const dag = strategy.serialize();
    for (let retry = 0; ; retry++) {
      try {
        return await this.client.submit(dag, {
          runType: this.#options.runType,
          meta: this.#options.meta ?? null,
        });
      } catch (error) {
        const after = error instanceof GatewayUnavailableError ? error.retryAfterSeconds : null;
        if (after === null || retry >= DEGRADED_RETRIES) throw error;
        const waitMs = Math.min(after * 1000, this.#options.maxRetryAfterMs ?? 10_000);
        logger.warn(
          { strategy: strategy.name, retry: retry + 1, wait_ms: waitMs },
          'the Gateway is degraded; submitting again after its Retry-After',
        );
        await sleep(waitMs);
      }
    }
  }

  async #beat(): Promise<number> {
    let leaseMs = Infinity;
    for (const { strategyId } of this.#submissions) {
      try {
        leaseMs = Math.min(leaseMs, (await this.client.heartbeat(strategyId)).leaseMs);
      } catch (error) {
        const lost =
          error instanceof QmtlError &&
          (error.code === ErrorCode.InvalidTransition || error.code === ErrorCode.NotFound);
        if (lost && this.#closed === null) {
          const onLost = this.#onLost;
          this.#onLost = null;
          onLost?.(
            new QmtlError(
              ErrorCode.InvalidTransition,
              `the Gateway no longer runs strategy ${quote(strategyId)} (its lease expired or it was stopped); its nodes may have another producer, so this run stops`,
              { cause: error },
            ),
          );
        } else logger.warn({ err: error, strategyId }, 'heartbeat failed; the lease may expire');
      }
    }
    return Number.isFinite(leaseMs) ? leaseMs : 5_000;
  }
}
