/**
 * The Cypher of {@link Neo4jNodeRepository}, and the conversion between {@link NodeRecord}s and
 * the properties it stores. Every value reaches Neo4j as a parameter (never spliced into the
 * text), and every batch is one statement over `UNWIND $rows`, so a call is one round trip
 * whatever its size. Every lookup carries a `USING INDEX SEEK` hint: Neo4j caches plans, and a
 * plan made from stale index statistics (seen right after bulk writes and deletes) scanned the
 * whole index once per `UNWIND` row — 150 ms instead of 10 ms for 1,000 ids — until replanned.
 *
 * The graph (SPEC §5):
 * - `(:ComputeNode {node_id, node_type, code_hash, config_hash, schema_hash, period, tags, inputs,
 *   version, created_at, buffering_since?, orphaned_since?})-[:EMITS]->(:Queue {topic, kind,
 *   interval})`: one node version and the topic carrying its output;
 * - `(:Strategy {strategy_id, active, released_at?, uses?})`: `uses` lists (sorted) the node_ids
 *   an active strategy uses, as producer or consumer; release removes it. A node is an orphan
 *   when no active strategy lists it. Using a node writes only the Strategy, so concurrent
 *   consumers of one DAG take no lock on its ComputeNodes;
 * - `(:ComputeNode)-[:USED_BY {role: 'producer'}]->(:Strategy)`: the node's one producer, an
 *   active strategy (release deletes its edges), also listed in that strategy's `uses`;
 * - `(:VersionSentinel {version, strategy_id, created_at, node_ids, traffic_weight?})-[:HAS]->
 *   (:ComputeNode)`: `version` is the sentinel id; `node_ids` keeps the submitted order.
 *   A pending weight (a weight that came before its diff) is a VersionSentinel with
 *   `strategy_id: ''`, no nodes and `created_at` = when its latest weight came; the diff's
 *   sentinel takes it over. `(:PendingWeightGate {name})`, one node, is locked by the writers
 *   that add one, so they count the pending weights one at a time.
 *
 * @module
 */
import type { NodeRecord, TopicKind } from './node-record.js';

/**
 * A ComputeNode with its Queue as the statements below return it: a list, not a map, since
 * repeating 14 keys in every row made reading 1,000 nodes about 40 % slower.
 */
export type StoredNode = readonly [
  nodeId: string,
  nodeType: string,
  codeHash: string,
  configHash: string,
  schemaHash: string,
  period: number | null,
  tags: string[] | null,
  inputs: string[] | null,
  version: number,
  createdAt: number,
  bufferingSince: number | null,
  topic: string,
  kind: TopicKind,
  interval: number | null,
];

/** One `$rows` entry of {@link CREATE_NODES}. */
export interface NodeRow {
  readonly nodeId: string;
  readonly node: Record<string, unknown>;
  readonly queue: Record<string, unknown>;
}

/** Converts a number to what Neo4j should store: integers as INTEGER, the rest as FLOAT. */
export type IntegerEncoder = (value: number | null) => unknown;

/** The `$rows` entry storing `record` (times, version, interval and period as integers). */
export function nodeRow(record: NodeRecord, integer: IntegerEncoder): NodeRow {
  return {
    nodeId: record.nodeId,
    node: {
      node_type: record.nodeType,
      code_hash: record.codeHash,
      config_hash: record.configHash,
      schema_hash: record.schemaHash,
      period: integer(record.period),
      tags: [...record.tags],
      inputs: [...record.inputs],
      version: integer(record.version),
      created_at: integer(record.createdAt),
      buffering_since: integer(record.bufferingSince),
    },
    queue: { topic: record.topic, kind: record.kind, interval: integer(record.interval) },
  };
}

/** The record of a stored node (absent properties read back as null). */
export function toNodeRecord(node: StoredNode): NodeRecord {
  const [nodeId, nodeType, codeHash, configHash, schemaHash, period, tags, inputs] = node;
  const [, , , , , , , , version, createdAt, bufferingSince, topic, kind, interval] = node;
  return {
    nodeId,
    nodeType,
    codeHash,
    configHash,
    schemaHash,
    interval: interval ?? null,
    period: period ?? null,
    tags: tags ?? [],
    inputs: inputs ?? [],
    topic,
    kind,
    version,
    createdAt,
    bufferingSince: bufferingSince ?? null,
  };
}

/** `c` and its queue `q` as a {@link StoredNode}. */
const NODE = `[c.node_id, c.node_type, c.code_hash, c.config_hash, c.schema_hash, c.period, c.tags,
  c.inputs, c.version, c.created_at, c.buffering_since, q.topic, q.kind, q.interval]`;

/**
 * Takes `c`'s exclusive lock (held until commit) before anything reads it. Cypher has no lock
 * clause; writing a property's own value locks the node without changing it. (A REMOVE locks
 * only once its property key exists somewhere in the database, so it cannot be relied on.)
 * Exported for the test that pins this behaviour.
 */
export const LOCK_C = 'SET c.node_id = c.node_id';

/**
 * First writer wins: MERGE on the unique node_id sets properties only when it creates the node,
 * and only a node created by this statement lacks its EMITS edge, so concurrent losers neither
 * overwrite the record nor add a second Queue. `$rows` must not repeat a node_id. Returns the
 * records stored before this statement ran; a row it created is stored exactly as given.
 */
export const CREATE_NODES = `
UNWIND $rows AS row
MERGE (c:ComputeNode {node_id: row.nodeId})
  ON CREATE SET c += row.node
WITH c, row, NOT EXISTS { (c)-[:EMITS]->(:Queue) } AS created
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
  CREATE (c)-[:EMITS]->(queue:Queue) SET queue = row.queue)
WITH c, created WHERE NOT created
MATCH (c)-[:EMITS]->(q:Queue)
RETURN ${NODE} AS node`;

export const GET_NODES = `
UNWIND $nodeIds AS nodeId
MATCH (c:ComputeNode {node_id: nodeId})-[:EMITS]->(q:Queue)
USING INDEX SEEK c:ComputeNode(node_id)
RETURN ${NODE} AS node`;

/** Seeks the `compute_lineage` index once per key. */
export const GET_LINEAGES = `
UNWIND $keys AS key
MATCH (c:ComputeNode {node_type: key.nodeType, config_hash: key.configHash})
USING INDEX SEEK c:ComputeNode(node_type, config_hash)
WITH DISTINCT c
MATCH (c)-[:EMITS]->(q:Queue)
RETURN ${NODE} AS node`;

export const TAKEN_TOPICS = `
UNWIND $topics AS topic
MATCH (q:Queue {topic: topic})
USING INDEX SEEK q:Queue(topic)
RETURN DISTINCT q.topic AS topic`;

export const NODE_BY_TOPIC = `
MATCH (c:ComputeNode)-[:EMITS]->(q:Queue {topic: $topic})
USING INDEX SEEK q:Queue(topic)
RETURN ${NODE} AS node
LIMIT 1`;

/** Tag query, mode `any`: the node's tags intersect `$tags` (tag-query nodes themselves excluded). */
export const QUEUES_MATCHING_ANY_TAG = `
MATCH (c:ComputeNode)-[:EMITS]->(q:Queue {interval: $interval})
USING INDEX SEEK q:Queue(interval)
WHERE c.node_type <> 'TagQueryNode' AND any(tag IN $tags WHERE tag IN c.tags)
RETURN q.topic AS topic`;

/** Tag query, mode `all`: `$tags` ⊆ the node's tags. */
export const QUEUES_MATCHING_ALL_TAGS = `
MATCH (c:ComputeNode)-[:EMITS]->(q:Queue {interval: $interval})
USING INDEX SEEK q:Queue(interval)
WHERE c.node_type <> 'TagQueryNode' AND all(tag IN $tags WHERE tag IN c.tags)
RETURN q.topic AS topic`;

/**
 * One write transaction: activate the strategy (its lock serialises it against its own
 * release), read each node's producer without locking, and for each node without one, in
 * node_id order, lock it, read its producer again and claim it if still unclaimed. Then add the
 * nodes to the strategy's `uses`. A node that already has an active producer is not written, so
 * consumers of one DAG do not contend; locking before the second read is what makes the
 * producer unique under concurrent attaches, and the sorted order keeps two attaches from
 * deadlocking on each other (a deadlock with another writer is transient and retried). Returns
 * one row per producer with its node ids (a row per node made the call ~20 % slower).
 */
export const ATTACH_STRATEGY = `
MERGE (s:Strategy {strategy_id: $strategyId})
SET s.active = true
WITH s
UNWIND $nodeIds AS nodeId
MATCH (c:ComputeNode {node_id: nodeId})
USING INDEX SEEK c:ComputeNode(node_id)
OPTIONAL MATCH (c)-[:USED_BY {role: 'producer'}]->(seen:Strategy)
OPTIONAL CALL (s, c, seen) {
  WITH s, c WHERE seen IS NULL
  ${LOCK_C}
  REMOVE c.orphaned_since
  WITH s, c
  OPTIONAL MATCH (c)-[:USED_BY {role: 'producer'}]->(current:Strategy)
  FOREACH (_ IN CASE WHEN current IS NULL THEN [1] ELSE [] END |
    CREATE (c)-[:USED_BY {role: 'producer'}]->(s))
  RETURN coalesce(current, s) AS decided
}
WITH s, collect([nodeId, coalesce(seen, decided).strategy_id]) AS producers
CALL (s, producers) {
  UNWIND coalesce(s.uses, []) + [row IN producers | row[0]] AS nodeId
  WITH DISTINCT nodeId ORDER BY nodeId
  RETURN collect(nodeId) AS uses
}
SET s.uses = uses
WITH producers
UNWIND producers AS row
RETURN row[1] AS producer, collect(row[0]) AS nodeIds`;

/**
 * First statement of a release: deactivates an active strategy and removes its `uses`, then, in
 * node_id order, locks each node it used and deletes its producer edge. Returns each node with
 * whether the strategy produced it and whether it is left without producer (then it is an
 * orphan unless another active strategy uses it: {@link STAMP_ORPHANS}, same transaction).
 */
export const RELEASE_STRATEGY = `
MATCH (s:Strategy {strategy_id: $strategyId, active: true})
USING INDEX SEEK s:Strategy(strategy_id)
SET s.active = false, s.released_at = $now
WITH s, coalesce(s.uses, []) AS uses
REMOVE s.uses
WITH s, uses
UNWIND uses AS nodeId
MATCH (c:ComputeNode {node_id: nodeId})
USING INDEX SEEK c:ComputeNode(node_id)
WITH s, c ORDER BY c.node_id
${LOCK_C}
WITH s, c
OPTIONAL MATCH (c)-[used:USED_BY]->(s)
WITH c, used, used IS NOT NULL AS produced
DELETE used
WITH c, produced
RETURN c.node_id AS nodeId, produced, NOT EXISTS { (c)-[:USED_BY]->(:Strategy) } AS unproduced`;

/**
 * Second statement of a release: of `$nodeIds` (nodes the first statement locked and left
 * without producer), stamps those no active strategy uses as orphans since `$now`. It reads
 * the other strategies only now, under the node locks, so of two releases of a node's last
 * users the second sees the first and stamps the node.
 */
export const STAMP_ORPHANS = `
CALL () {
  MATCH (other:Strategy {active: true})
  USING INDEX SEEK other:Strategy(active)
  UNWIND other.uses AS nodeId
  WITH nodeId WHERE nodeId IN $nodeIds
  RETURN collect(DISTINCT nodeId) AS used
}
UNWIND $nodeIds AS nodeId
WITH nodeId WHERE NOT nodeId IN used
MATCH (c:ComputeNode {node_id: nodeId})
USING INDEX SEEK c:ComputeNode(node_id)
SET c.orphaned_since = $now`;

/** A node in the strategy's `uses` is produced by it when it has the producer edge. */
export const STRATEGY_ROLES = `
MATCH (s:Strategy {strategy_id: $strategyId, active: true})
USING INDEX SEEK s:Strategy(strategy_id)
UNWIND coalesce(s.uses, []) AS nodeId
MATCH (c:ComputeNode {node_id: nodeId})
USING INDEX SEEK c:ComputeNode(node_id)
RETURN nodeId,
  CASE WHEN EXISTS { (c)-[:USED_BY {role: 'producer'}]->(s) } THEN 'producer' ELSE 'consumer' END AS role`;

/**
 * Replaces the sentinel's fields and HAS edges, keeping its traffic weight. Edges to nodes still
 * listed stay (a resubmission rewrites none); the rest are deleted, then missing ones created,
 * each pass in node_id order (`$lockOrder`: the distinct ids, sorted).
 */
export const UPSERT_SENTINEL = `
MERGE (v:VersionSentinel {version: $sentinelId})
SET v.strategy_id = $strategyId, v.created_at = $createdAt, v.node_ids = $nodeIds
WITH v
CALL (v) {
  MATCH (v)-[old:HAS]->(c:ComputeNode)
  WHERE NOT c.node_id IN $lockOrder
  WITH old ORDER BY c.node_id
  DELETE old
}
UNWIND $lockOrder AS nodeId
MATCH (c:ComputeNode {node_id: nodeId})
USING INDEX SEEK c:ComputeNode(node_id)
MERGE (v)-[:HAS]->(c)`;

export const GET_SENTINEL = `
MATCH (v:VersionSentinel {version: $sentinelId})
USING INDEX SEEK v:VersionSentinel(version)
RETURN v { .version, .strategy_id, .created_at, .node_ids, .traffic_weight } AS sentinel`;

/**
 * A weight for a stored sentinel; a pending one's wait restarts at `$now`. Returns whether it is
 * pending; no row when no sentinel has the id.
 */
export const SET_SENTINEL_WEIGHT = `
MATCH (v:VersionSentinel {version: $sentinelId})
USING INDEX SEEK v:VersionSentinel(version)
SET v.traffic_weight = $weight,
  v.created_at = CASE WHEN v.strategy_id = '' THEN $now ELSE v.created_at END
RETURN v.strategy_id = '' AS pending`;

/**
 * Takes the lock of the one PendingWeightGate node, held until commit (the
 * `pending_weight_gate_pk` constraint makes concurrent MERGEs find one node): the writers that
 * add pending weights count them one at a time, so the count never passes the limit.
 */
export const LOCK_PENDING_WEIGHTS = `
MERGE (g:PendingWeightGate {name: 'sentinel-weights'})
SET g.name = g.name`;

/**
 * After {@link LOCK_PENDING_WEIGHTS}: adds a pending weight unless `$limit` are held; a sentinel
 * stored meanwhile takes its weight whatever the count. Returns whether the weight is pending; no
 * row when refused. Seeks the `sentinel_strategy` index, so counting reads only pending weights.
 */
export const ADD_PENDING_WEIGHT = `
CALL () {
  MATCH (p:VersionSentinel)
  USING INDEX SEEK p:VersionSentinel(strategy_id)
  WHERE p.strategy_id = ''
  RETURN count(p) AS pending
}
OPTIONAL MATCH (known:VersionSentinel {version: $sentinelId})
USING INDEX SEEK known:VersionSentinel(version)
WITH known, pending
WHERE known IS NOT NULL OR pending < $limit
MERGE (v:VersionSentinel {version: $sentinelId})
  ON CREATE SET v.strategy_id = '', v.node_ids = []
SET v.traffic_weight = $weight,
  v.created_at = CASE WHEN v.strategy_id = '' THEN $now ELSE v.created_at END
RETURN v.strategy_id = '' AS pending`;

/**
 * Deletes the pending weights whose latest weight came before `$cutoff` and returns their ids.
 * Each is locked and read again first: one that a new weight or the diff's sentinel took over
 * meanwhile (committed while this statement ran) is kept.
 */
export const EXPIRE_PENDING_WEIGHTS = `
MATCH (v:VersionSentinel)
USING INDEX SEEK v:VersionSentinel(strategy_id)
WHERE v.strategy_id = '' AND v.created_at < $cutoff
WITH v ORDER BY v.version
SET v.version = v.version
WITH v
WHERE v.strategy_id = '' AND v.created_at < $cutoff
WITH v, v.version AS version
DETACH DELETE v
RETURN version`;

export const CLEAR_BUFFERING = `
UNWIND $nodeIds AS nodeId
MATCH (c:ComputeNode {node_id: nodeId})
USING INDEX SEEK c:ComputeNode(node_id)
REMOVE c.buffering_since`;

/** Seeks the `compute_buffering` index. */
export const BUFFERING_NODES = `
MATCH (c:ComputeNode)
USING INDEX SEEK c:ComputeNode(buffering_since)
WHERE c.buffering_since < $cutoff
MATCH (c)-[:EMITS]->(q:Queue)
RETURN ${NODE} AS node`;

/**
 * Nodes without a producer that no active strategy uses. One pass over every active strategy's
 * `uses` (GC runs this rarely; the check per node is then a lookup in that list).
 */
export const ORPHAN_QUEUES = `
CALL () {
  MATCH (s:Strategy {active: true})
  USING INDEX SEEK s:Strategy(active)
  UNWIND s.uses AS nodeId
  RETURN collect(DISTINCT nodeId) AS used
}
MATCH (c:ComputeNode)-[:EMITS]->(q:Queue)
WHERE NOT EXISTS { (c)-[:USED_BY]->(:Strategy) } AND NOT c.node_id IN used
RETURN q.topic AS topic, c.node_id AS nodeId, q.kind AS kind, q.interval AS interval,
  c.tags AS tags, c.created_at AS createdAt,
  coalesce(c.orphaned_since, c.created_at) AS orphanedSince`;

/**
 * Deletes the queue and the node emitting it, with all their edges, unless an active strategy
 * uses the node (produces it, or lists it in `uses`), as {@link ORPHAN_QUEUES} decides; returns how
 * many queues it deleted (0 or 1).
 * The node is locked first, so a producer claim on it waits for this statement.
 */
export const DROP_QUEUE = `
MATCH (q:Queue {topic: $topic})
USING INDEX SEEK q:Queue(topic)
OPTIONAL MATCH (c:ComputeNode)-[:EMITS]->(q)
FOREACH (_ IN CASE WHEN c IS NULL THEN [] ELSE [1] END | ${LOCK_C})
WITH q, c
WHERE c IS NULL OR (
  NOT EXISTS { (c)-[:USED_BY]->(:Strategy) } AND
  NOT EXISTS { MATCH (s:Strategy {active: true}) WHERE c.node_id IN s.uses })
DETACH DELETE q, c
RETURN count(q) AS dropped`;
