import {
  TAG_QUERY_NODE_TYPE,
  type NodeRecord,
  type OrphanQueue,
  type SentinelRecord,
  type TagQuery,
} from './node-record.js';

/**
 * One change to the in-memory global DAG. The memory repository applies operations to a
 * {@link MemoryGraph} and appends them to its journal, so replaying the journal rebuilds the
 * graph exactly (producer claims are recorded as decided, not re-decided).
 */
export type GraphOperation =
  | { readonly op: 'nodes'; readonly records: readonly NodeRecord[]; readonly sentinel?: SentinelRecord }
  | {
      readonly op: 'attach';
      readonly strategyId: string;
      readonly nodeIds: readonly string[];
      readonly claimed: readonly string[];
      readonly now: number;
    }
  | { readonly op: 'release'; readonly strategyId: string; readonly now: number }
  | { readonly op: 'sentinel'; readonly sentinel: SentinelRecord }
  // `at`: when the weight came (a pending weight's createdAt); journals of earlier versions lack it.
  | { readonly op: 'weight'; readonly sentinelId: string; readonly weight: number; readonly at?: number }
  // Pending weights expired (bare sentinels deleted).
  | { readonly op: 'expire'; readonly sentinelIds: readonly string[] }
  // Written with `since: null` (buffering cleared); journals of earlier versions also hold marks.
  | { readonly op: 'buffering'; readonly nodeIds: readonly string[]; readonly since: number | null }
  | { readonly op: 'drop'; readonly topic: string }
  | { readonly op: 'orphaned'; readonly since: readonly (readonly [nodeId: string, time: number])[] };

const NO_IDS: readonly string[] = Object.freeze([]);

interface StrategyState {
  active: boolean;
  readonly uses: Set<string>;
}

/** A stored node and its use: one map entry per node for everything a diff reads and writes. */
interface NodeState {
  record: NodeRecord;
  /**
   * Active users: one strategy id (the usual case), a set of two or more, or null when none. A
   * `Set` per node would be most of the memory a node costs.
   */
  users: string | Set<string> | null;
  /** The strategy that produces the node (it may have been released meanwhile), or null. */
  producer: string | null;
}

/** The global DAG held in maps; every mutation goes through {@link MemoryGraph.apply}. */
export class MemoryGraph {
  readonly topics = new Map<string, string>();
  readonly strategies = new Map<string, StrategyState>();
  readonly sentinels = new Map<string, SentinelRecord>();
  /** Ids of the pending weights: sentinels no diff wrote (`strategyId` `''`). */
  private readonly pending = new Set<string>();
  /**
   * Every node by id, with its users and producer, in the order the nodes were stored. One entry
   * per node instead of one in each of a record, a users and a producer map: a diff looks each
   * node up once where it did three to six times (in maps of every node ever stored, each lookup
   * a few cache misses), and fewer maps grow, each growth rehashing all of its entries at once.
   */
  private readonly nodes = new Map<string, NodeState>();
  /**
   * Node ids per config hash, in the order they were stored: one id (most lineages have one
   * version) or a list. A lineage (same node_type and config_hash) is the ids of one config hash
   * whose node_type matches ({@link MemoryGraph.lineage}). Keyed by the record's own config hash
   * string, so storing a node allocates no key and, for a first version, no collection.
   */
  private readonly byConfigHash = new Map<string, string | string[]>();
  /** Node ids per tag, for tag queries. */
  private readonly tagged = new Map<string, Set<string>>();
  /** When each node lost its last active user. */
  private readonly orphanedAt = new Map<string, number>();

  apply(operation: GraphOperation): void {
    switch (operation.op) {
      case 'nodes':
        for (const record of operation.records) {
          if (this.nodes.has(record.nodeId)) continue;
          this.nodes.set(record.nodeId, { record, users: null, producer: null });
          this.topics.set(record.topic, record.nodeId);
          const ids = this.byConfigHash.get(record.configHash);
          if (ids === undefined) this.byConfigHash.set(record.configHash, record.nodeId);
          else if (typeof ids === 'string') this.byConfigHash.set(record.configHash, [ids, record.nodeId]);
          else ids.push(record.nodeId);
          for (const tag of record.tags) {
            let nodeIds = this.tagged.get(tag);
            if (nodeIds === undefined) this.tagged.set(tag, (nodeIds = new Set()));
            nodeIds.add(record.nodeId);
          }
        }
        if (operation.sentinel !== undefined) this.setSentinel(operation.sentinel);
        return;
      case 'attach': {
        const strategyId = operation.strategyId;
        const strategy = this.strategy(strategyId);
        strategy.active = true;
        for (const nodeId of operation.nodeIds) {
          strategy.uses.add(nodeId);
          const node = this.nodes.get(nodeId);
          if (node !== undefined) addUser(node, strategyId);
          if (this.orphanedAt.size > 0) this.orphanedAt.delete(nodeId);
        }
        for (const nodeId of operation.claimed) {
          const node = this.nodes.get(nodeId);
          if (node !== undefined) node.producer = strategyId;
        }
        return;
      }
      case 'release': {
        const strategy = this.strategies.get(operation.strategyId);
        if (strategy === undefined) return;
        strategy.active = false;
        for (const nodeId of strategy.uses) {
          const node = this.nodes.get(nodeId);
          if (node === undefined) continue;
          if (removeUser(node, operation.strategyId)) this.orphanedAt.set(nodeId, operation.now);
          if (node.producer === operation.strategyId) node.producer = null;
        }
        // A strategy that comes back starts from what it attaches then (as in Neo4j).
        strategy.uses.clear();
        return;
      }
      case 'sentinel':
        this.setSentinel(operation.sentinel);
        return;
      case 'weight': {
        const existing = this.sentinels.get(operation.sentinelId);
        const pending = existing === undefined || existing.strategyId === '';
        this.setSentinel({
          sentinelId: operation.sentinelId,
          strategyId: existing?.strategyId ?? '',
          // A pending weight waits from its latest weight on; a written sentinel keeps its time.
          createdAt: (pending ? operation.at : undefined) ?? existing?.createdAt ?? 0,
          nodeIds: existing?.nodeIds ?? [],
          weight: operation.weight,
        });
        return;
      }
      case 'expire':
        for (const sentinelId of operation.sentinelIds) {
          if (!this.pending.delete(sentinelId)) continue;
          this.sentinels.delete(sentinelId);
        }
        return;
      case 'buffering':
        for (const nodeId of operation.nodeIds) {
          const node = this.nodes.get(nodeId);
          if (node === undefined) continue;
          if (operation.since !== null && node.record.bufferingSince !== null) continue;
          node.record = { ...node.record, bufferingSince: operation.since };
        }
        return;
      case 'orphaned':
        for (const [nodeId, time] of operation.since) this.orphanedAt.set(nodeId, time);
        return;
      case 'drop': {
        const nodeId = this.topics.get(operation.topic);
        if (nodeId === undefined) return;
        this.topics.delete(operation.topic);
        const node = this.nodes.get(nodeId);
        if (node !== undefined) {
          this.forgetConfigHash(node.record.configHash, nodeId);
          for (const tag of node.record.tags) {
            const nodeIds = this.tagged.get(tag);
            nodeIds?.delete(nodeId);
            if (nodeIds?.size === 0) this.tagged.delete(tag);
          }
        }
        this.nodes.delete(nodeId);
        this.orphanedAt.delete(nodeId);
        return;
      }
    }
  }

  /** How many pending weights (sentinels no diff wrote) are held. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** Ids of the pending weights whose latest weight came before `cutoff`. */
  pendingBefore(cutoff: number): string[] {
    return [...this.pending].filter((id) => this.sentinels.get(id)!.createdAt < cutoff);
  }

  /** The stored record of a node, or undefined. */
  record(nodeId: string): NodeRecord | undefined {
    return this.nodes.get(nodeId)?.record;
  }

  hasNode(nodeId: string): boolean {
    return this.nodes.has(nodeId);
  }

  /** Every stored record, in the order the nodes were stored. */
  *records(): IterableIterator<NodeRecord> {
    for (const node of this.nodes.values()) yield node.record;
  }

  /** The strategy producing the node (possibly released since), or undefined. */
  producer(nodeId: string): string | undefined {
    return this.nodes.get(nodeId)?.producer ?? undefined;
  }

  /**
   * For an attach: undefined for an unknown node, otherwise whether the node has a producer that
   * is an active strategy (one lookup for both questions).
   */
  hasLiveProducerIfKnown(nodeId: string): boolean | undefined {
    const node = this.nodes.get(nodeId);
    if (node === undefined) return undefined;
    return node.producer !== null && this.strategies.get(node.producer)?.active === true;
  }

  /** True when an active strategy uses the node (produces or consumes it). */
  isUsed(nodeId: string): boolean {
    return (this.nodes.get(nodeId)?.users ?? null) !== null;
  }

  /** Ids of the stored nodes of one lineage (same node_type and config_hash), oldest first. */
  lineage(nodeType: string, configHash: string): readonly string[] {
    const ids = this.byConfigHash.get(configHash);
    if (ids === undefined) return NO_IDS;
    if (typeof ids === 'string') return this.record(ids)?.nodeType === nodeType ? [ids] : NO_IDS;
    return ids.filter((id) => this.record(id)?.nodeType === nodeType);
  }

  /**
   * Topics of nodes with the query's interval whose tags match (`any`: intersect; `all`: query ⊆
   * node tags), sorted; tag-query nodes excluded. Reads only the nodes of the query's tags.
   */
  queuesByTags(query: TagQuery): string[] {
    const sets = query.tags.map((tag) => this.tagged.get(tag) ?? new Set<string>());
    let candidates: Iterable<string>;
    if (query.matchMode === 'all') {
      const smallest = sets.reduce((a, b) => (b.size < a.size ? b : a));
      candidates = [...smallest].filter((nodeId) => sets.every((set) => set.has(nodeId)));
    } else {
      candidates = new Set(sets.flatMap((set) => [...set]));
    }
    const topics: string[] = [];
    for (const nodeId of candidates) {
      const record = this.record(nodeId)!;
      if (record.interval === query.interval && record.nodeType !== TAG_QUERY_NODE_TYPE)
        topics.push(record.topic);
    }
    return topics.sort();
  }

  orphans(): OrphanQueue[] {
    const orphans: OrphanQueue[] = [];
    for (const { record, users } of this.nodes.values()) {
      if (users !== null) continue;
      orphans.push({
        topic: record.topic,
        nodeId: record.nodeId,
        kind: record.kind,
        interval: record.interval,
        tags: record.tags,
        createdAt: record.createdAt,
        orphanedSince: this.orphanedAt.get(record.nodeId) ?? record.createdAt,
      });
    }
    return orphans;
  }

  /** Operations that rebuild this graph from empty: the journal's compacted form. */
  snapshot(): GraphOperation[] {
    const operations: GraphOperation[] = [{ op: 'nodes', records: [...this.records()] }];
    for (const [strategyId, strategy] of this.strategies) {
      const nodeIds = [...strategy.uses].filter((id) => this.nodes.has(id));
      const claimed = nodeIds.filter((id) => this.nodes.get(id)?.producer === strategyId);
      operations.push({ op: 'attach', strategyId, nodeIds, claimed, now: 0 });
      if (!strategy.active) operations.push({ op: 'release', strategyId, now: 0 });
    }
    operations.push({ op: 'orphaned', since: [...this.orphanedAt] });
    for (const sentinel of this.sentinels.values()) operations.push({ op: 'sentinel', sentinel });
    return operations;
  }

  private setSentinel(sentinel: SentinelRecord): void {
    this.sentinels.set(sentinel.sentinelId, sentinel);
    if (sentinel.strategyId === '') this.pending.add(sentinel.sentinelId);
    else this.pending.delete(sentinel.sentinelId);
  }

  private forgetConfigHash(configHash: string, nodeId: string): void {
    const ids = this.byConfigHash.get(configHash);
    if (ids === nodeId) this.byConfigHash.delete(configHash);
    else if (Array.isArray(ids)) {
      const index = ids.indexOf(nodeId);
      if (index >= 0) ids.splice(index, 1);
      if (ids.length === 1) this.byConfigHash.set(configHash, ids[0]!);
    }
  }

  private strategy(strategyId: string): StrategyState {
    let strategy = this.strategies.get(strategyId);
    if (strategy === undefined)
      this.strategies.set(strategyId, (strategy = { active: true, uses: new Set() }));
    return strategy;
  }
}

function addUser(node: NodeState, strategyId: string): void {
  const users = node.users;
  if (users === null) node.users = strategyId;
  else if (typeof users !== 'string') users.add(strategyId);
  else if (users !== strategyId) node.users = new Set([users, strategyId]);
}

/** Removes one user of the node; true when the node had users and now has none. */
function removeUser(node: NodeState, strategyId: string): boolean {
  const users = node.users;
  if (users === null) return false;
  if (typeof users === 'string') {
    if (users !== strategyId) return false;
    node.users = null;
    return true;
  }
  users.delete(strategyId);
  if (users.size > 0) return false;
  node.users = null;
  return true;
}
