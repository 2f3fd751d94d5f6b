import { logger } from '../common/logger.js';
import type { DagClient } from './dag-client.js';
import { GatewayEventType, type EventHub } from './event-hub.js';

/**
 * Releases a stopped strategy's nodes at the DAG Manager and, when it produced some, announces
 * them on `/ws` as a `queue_update` with `reason: "producer_released"`, so a consumer can claim
 * them (`POST /strategies/{id}/claim`). Returns the released node ids; never throws: a failed
 * cleanup is logged, and the nodes stay referenced by the stopped strategy.
 */
export async function releaseProducer(dagClient: DagClient, events: EventHub, id: string): Promise<string[]> {
  let released: string[];
  try {
    released = await dagClient.cleanup(id);
  } catch (error) {
    logger.warn({ err: error, strategyId: id }, 'DAG Manager cleanup failed; its nodes stay referenced');
    return [];
  }
  if (released.length > 0) {
    events.publish(GatewayEventType.QueueUpdate, {
      reason: 'producer_released',
      strategy_id: id,
      node_ids: [...released],
      tags: [],
      interval: 0,
      queues: [],
    });
  }
  return released;
}
