import { logger } from '../common/logger.js';
import type { DagManager } from '../dagmanager/dag-manager.js';
import type { DagClient, GatewayDiff } from './dag-client.js';

/**
 * The Gateway's {@link DagClient} in embedded mode: calls an in-process {@link DagManager}
 * directly, so there is no network, no retry and no breaker. Errors are the DAG Manager's own
 * QmtlErrors.
 *
 * @example
 * const dagClient = new EmbeddedDagClient(dagManager);
 * const { queueMap } = await dagClient.diff('s1', dagJson);
 */
export class EmbeddedDagClient implements DagClient {
  constructor(private readonly manager: DagManager) {}

  async diff(strategyId: string, dagJson: string): Promise<GatewayDiff> {
    const outcome = await this.manager.diff(strategyId, dagJson);
    return {
      sentinelId: outcome.sentinelId,
      queueMap: Object.fromEntries(outcome.queueMap),
      topicMap: Object.fromEntries(outcome.topicMap),
      bufferNodes: [...outcome.bufferNodes],
    };
  }

  getQueues(tags: readonly string[], interval: number, matchMode: 'any' | 'all'): Promise<string[]> {
    return this.manager.getQueues({ tags: [...tags], interval, matchMode });
  }

  cleanup(strategyId: string): Promise<string[]> {
    return this.manager.cleanup(strategyId);
  }

  /**
   * True iff the manager reports its graph store `ok` and itself `running`. A failure is logged at
   * `debug` only: the Gateway's degradation manager, which calls this every few seconds, logs the
   * outage once.
   */
  async healthy(): Promise<boolean> {
    try {
      const { neo4j, state } = await this.manager.status();
      return neo4j === 'ok' && state === 'running';
    } catch (error) {
      logger.debug({ err: error }, 'embedded DAG Manager health check failed');
      return false;
    }
  }

  /** Does nothing: the DAG Manager belongs to whoever built it, which closes it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
