import type {
  NewSentinel,
  NodeRecord,
  NodeRole,
  OrphanQueue,
  SentinelRecord,
  TagQuery,
} from './node-record.js';

/** The identity shared by every version of a node: same type and same identity config. */
export interface LineageKey {
  readonly nodeType: string;
  readonly configHash: string;
}

/** Outcome of {@link NodeRepository.attachStrategy}: each node's producer after the call. */
export type ProducerMap = ReadonlyMap<string, string>;

/**
 * Outcome of {@link NodeRepository.setSentinelWeight}: `stored` on a sentinel a diff wrote,
 * `pending` as a weight waiting for its sentinel (a sentinel with `strategyId` `''`), `full` when
 * refused because `limit` weights are already pending (nothing was written).
 */
export type SentinelWeightOutcome = 'stored' | 'pending' | 'full';

/** How {@link NodeRepository.setSentinelWeight} holds a weight that comes before its sentinel. */
export interface PendingWeightBounds {
  /** Epoch ms: a pending weight's `createdAt`, which {@link NodeRepository.expirePendingWeights} reads. */
  readonly now: number;
  /** Most pending weights held at once (0: a weight needs its sentinel). */
  readonly limit: number;
}

/**
 * The global DAG store (SPEC §5): ComputeNode, Queue, VersionSentinel and Strategy with EMITS,
 * HAS and USED_BY edges. Adapters: memory (persisted to a file) and Neo4j; both pass
 * `node-repository.contract.test-kit.ts`. Every write is idempotent and safe under concurrent
 * callers: concurrent `createNodes` of one node_id store it once; concurrent `attachStrategy`
 * calls give every node exactly one producer.
 */
export interface NodeRepository {
  /**
   * True when reads are lookups in this process's memory (the memory repository): the diff then
   * keeps no cache of node records in front of it, which would only add a lookup and an entry
   * per node.
   */
  readonly inProcess?: boolean;
  /** The stored records among `nodeIds` (missing ids are absent from the map). */
  getNodes(nodeIds: readonly string[]): Promise<Map<string, NodeRecord>>;
  /** Every stored version of each lineage (same node_type and config_hash), any order. */
  getLineages(keys: readonly LineageKey[]): Promise<NodeRecord[]>;
  /** Which of `topics` are already taken by some node. */
  takenTopics(topics: readonly string[]): Promise<Set<string>>;
  /** The node publishing to `topic`, or null. */
  getNodeByTopic(topic: string): Promise<NodeRecord | null>;
  /**
   * Stores nodes with their Queue and EMITS edge, keeping any record already stored under the
   * same node_id (first writer wins). Returns the stored record of every given node_id. With a
   * `sentinel`, it is stored in the same write, its HAS edges to the given nodes (the ones its
   * version created, as the original's `insert_sentinel`): a crash cannot leave the nodes of a new
   * version without their sentinel.
   */
  createNodes(records: readonly NodeRecord[], sentinel?: NewSentinel): Promise<Map<string, NodeRecord>>;
  /** Topics of nodes with `interval` whose tags match (`any`: intersect; `all`: query ⊆ node tags). */
  getQueuesByTags(query: TagQuery): Promise<string[]>;

  /**
   * Records that `strategyId` (active from `now`) uses `nodeIds` (USED_BY edges) and makes it the
   * producer of each node whose producer is not an active strategy. Returns every node's producer.
   */
  attachStrategy(strategyId: string, nodeIds: readonly string[], now: number): Promise<ProducerMap>;
  /**
   * Marks the strategy inactive at `now`, releasing its producer roles. Returns the node ids it
   * produced. Unknown strategies release nothing.
   */
  releaseStrategy(strategyId: string, now: number): Promise<string[]>;
  /** The roles of an active strategy, by node id (empty when unknown or inactive). */
  strategyRoles(strategyId: string): Promise<Map<string, NodeRole>>;

  /** Creates or replaces the sentinel and its HAS edges. */
  upsertSentinel(sentinel: NewSentinel): Promise<void>;
  getSentinel(sentinelId: string): Promise<SentinelRecord | null>;
  /**
   * Stores a canary weight on the sentinel. A weight may come before the diff that writes its
   * sentinel: it is then held as a pending weight, a bare sentinel (`strategyId` `''`, no nodes,
   * `createdAt` = `bounds.now`, restarted by each new weight) that the diff's sentinel takes
   * over, weight included. At most `bounds.limit` are pending at once, also under concurrent
   * callers; beyond that a weight for an unknown sentinel is refused (`full`).
   */
  setSentinelWeight(
    sentinelId: string,
    weight: number,
    bounds: PendingWeightBounds,
  ): Promise<SentinelWeightOutcome>;
  /**
   * Deletes the pending weights (bare sentinels) whose `createdAt` is before `cutoff`, never a
   * sentinel a diff wrote; returns their sentinel ids.
   */
  expirePendingWeights(cutoff: number): Promise<string[]>;

  /** Ends buffering: a node is stored buffering (`bufferingSince`) and only ever cleared. */
  clearBuffering(nodeIds: readonly string[]): Promise<void>;
  /** Nodes buffering since before `cutoff`. */
  getBufferingNodes(cutoff: number): Promise<NodeRecord[]>;

  /** Queues whose node no active strategy uses. */
  listOrphanQueues(): Promise<OrphanQueue[]>;
  /**
   * Removes the queue and its node (GC), in one step with checking that no active strategy uses
   * the node: true when dropped, false for a used node or an unknown topic.
   */
  dropQueue(topic: string): Promise<boolean>;

  /** `ok` when the store answers, `error` when it does not. */
  health(): Promise<'ok' | 'error'>;
  close(): Promise<void>;
}
