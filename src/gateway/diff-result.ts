import { logger } from '../common/logger.js';
import type { NodeJson } from '../dag/node-json.js';
import type { DagClient, GatewayDiff } from './dag-client.js';
import type { StoredDiff } from './store/strategy-store.js';

/** The diff fields of the 202 of `POST /strategies` and of the 200 of `POST /strategies/{id}/claim` (SPEC §2.5). */
export interface DiffReply {
  readonly strategy_id: string;
  readonly queue_map: Readonly<Record<string, string | readonly string[]>>;
  readonly topic_map: Readonly<Record<string, string>>;
  readonly sentinel_id: string | null;
}

/**
 * Asks the DAG Manager for a strategy's diff and maps it (see {@link toStoredDiff}). The DAG
 * Manager's diff is idempotent: run again for a strategy it already knows, it makes the strategy
 * the producer of every node of its DAG that has no active producer.
 */
export async function diffStrategy(dagClient: DagClient, id: string, dagJson: string): Promise<StoredDiff> {
  const diff = await dagClient.diff(id, dagJson);
  return toStoredDiff(diff, tagQueryNodesOf(dagJson), dagClient);
}

/** The wire form of a stored diff; `sentinel_id` is null when the Gateway inserts no VersionSentinel. */
export function diffReplyOf(id: string, diff: StoredDiff, insertSentinel: boolean): DiffReply {
  return {
    strategy_id: id,
    queue_map: diff.queueMap,
    topic_map: diff.topicMap,
    sentinel_id: insertSentinel ? diff.sentinelId : null,
  };
}

/**
 * Turns the DAG Manager's diff into the 202's maps (SPEC §2.5): `queue_map` holds the nodes this
 * strategy consumes (their topic; a live producer already computes them) and, for each
 * TagQueryNode, the list of topics its query matches now; `topic_map` holds the nodes it produces.
 * A tag query that fails gives an empty list (the node will follow `queue_update` events).
 */
export async function toStoredDiff(
  diff: GatewayDiff,
  tagQueries: readonly NodeJson[],
  dagClient: DagClient,
): Promise<StoredDiff> {
  const queueMap: Record<string, string | string[]> = {};
  for (const [nodeId, topic] of Object.entries(diff.queueMap)) {
    if (!(nodeId in diff.topicMap)) queueMap[nodeId] = topic;
  }
  const resolved = await Promise.all(tagQueries.map((node) => resolveTagQuery(node, dagClient)));
  tagQueries.forEach((node, i) => (queueMap[node.node_id] = resolved[i]!));
  return { sentinelId: diff.sentinelId, queueMap, topicMap: { ...diff.topicMap } };
}

async function resolveTagQuery(node: NodeJson, dagClient: DagClient): Promise<string[]> {
  const tags = node.query_tags ?? node.tags;
  try {
    return await dagClient.getQueues(tags, node.interval ?? 0, node.match_mode ?? 'any');
  } catch (error) {
    logger.warn({ err: error, nodeId: node.node_id }, 'tag query failed; the node starts with no queues');
    return [];
  }
}

/** The TagQueryNodes of a stored DAG (JSON text). */
export function tagQueryNodesOf(dagJson: string): NodeJson[] {
  const dag = JSON.parse(dagJson) as { nodes: NodeJson[] };
  return dag.nodes.filter((node) => node.node_type === 'TagQueryNode');
}
