import {
  lineageKey,
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
  | { readonly op: 'weight'; readonly sentinelId: string; readonly weight: number }
  | { readonly op: 'buffering'; readonly nodeIds: readonly string[]; readonly since: number | null }
  | { readonly op: 'drop'; readonly topic: string }
  | { readonly op: 'orphaned'; readonly since: readonly (readonly [nodeId: string, time: number])[] };

interface StrategyState {
  active: boolean;
  readonly uses: Set<string>;
}

/** The global DAG held in maps; every mutation goes through {@link MemoryGraph.apply}. */
export class MemoryGraph {
  readonly nodes = new Map<string, NodeRecord>();
  readonly topics = new Map<string, string>();
  readonly strategies = new Map<string, StrategyState>();
  readonly producers = new Map<string, string>();
  readonly sentinels = new Map<string, SentinelRecord>();
  /** Node ids per lineage key (`node_type` NUL `config_hash`). */
  readonly lineages = new Map<string, Set<string>>();
  /** Node ids per tag, for tag queries. */
  private readonly tagged = new Map<string, Set<string>>();
  /** Active users per node id. */
  private readonly users = new Map<string, Set<string>>();
  /** When each node lost its last active user. */
  private readonly orphanedAt = new Map<string, number>();

  apply(operation: GraphOperation): void {
    switch (operation.op) {
      case 'nodes':
        for (const record of operation.records) {
          if (this.nodes.has(record.nodeId)) continue;
          this.nodes.set(record.nodeId, record);
          this.topics.set(record.topic, record.nodeId);
          const key = lineageKey(record.nodeType, record.configHash);
          let lineage = this.lineages.get(key);
          if (lineage === undefined) this.lineages.set(key, (lineage = new Set()));
          lineage.add(record.nodeId);
          for (const tag of record.tags) {
            let nodeIds = this.tagged.get(tag);
            if (nodeIds === undefined) this.tagged.set(tag, (nodeIds = new Set()));
            nodeIds.add(record.nodeId);
          }
        }
        if (operation.sentinel !== undefined)
          this.sentinels.set(operation.sentinel.sentinelId, operation.sentinel);
        return;
      case 'attach': {
        const strategy = this.strategy(operation.strategyId);
        strategy.active = true;
        for (const nodeId of operation.nodeIds) {
          strategy.uses.add(nodeId);
          let users = this.users.get(nodeId);
          if (users === undefined) this.users.set(nodeId, (users = new Set()));
          users.add(operation.strategyId);
          this.orphanedAt.delete(nodeId);
        }
        for (const nodeId of operation.claimed) this.producers.set(nodeId, operation.strategyId);
        return;
      }
      case 'release': {
        const strategy = this.strategies.get(operation.strategyId);
        if (strategy === undefined) return;
        strategy.active = false;
        for (const nodeId of strategy.uses) {
          const users = this.users.get(nodeId);
          users?.delete(operation.strategyId);
          if (users?.size === 0) this.orphanedAt.set(nodeId, operation.now);
          if (this.producers.get(nodeId) === operation.strategyId) this.producers.delete(nodeId);
        }
        // A strategy that comes back starts from what it attaches then (as in Neo4j).
        strategy.uses.clear();
        return;
      }
      case 'sentinel':
        this.sentinels.set(operation.sentinel.sentinelId, operation.sentinel);
        return;
      case 'weight': {
        const existing = this.sentinels.get(operation.sentinelId);
        this.sentinels.set(operation.sentinelId, {
          sentinelId: operation.sentinelId,
          strategyId: existing?.strategyId ?? '',
          createdAt: existing?.createdAt ?? 0,
          nodeIds: existing?.nodeIds ?? [],
          weight: operation.weight,
        });
        return;
      }
      case 'buffering':
        for (const nodeId of operation.nodeIds) {
          const record = this.nodes.get(nodeId);
          if (record === undefined) continue;
          if (operation.since !== null && record.bufferingSince !== null) continue;
          this.nodes.set(nodeId, { ...record, bufferingSince: operation.since });
        }
        return;
      case 'orphaned':
        for (const [nodeId, time] of operation.since) this.orphanedAt.set(nodeId, time);
        return;
      case 'drop': {
        const nodeId = this.topics.get(operation.topic);
        if (nodeId === undefined) return;
        this.topics.delete(operation.topic);
        const record = this.nodes.get(nodeId);
        if (record !== undefined) {
          this.lineages.get(lineageKey(record.nodeType, record.configHash))?.delete(nodeId);
          for (const tag of record.tags) {
            const nodeIds = this.tagged.get(tag);
            nodeIds?.delete(nodeId);
            if (nodeIds?.size === 0) this.tagged.delete(tag);
          }
        }
        this.nodes.delete(nodeId);
        this.producers.delete(nodeId);
        this.users.delete(nodeId);
        this.orphanedAt.delete(nodeId);
        return;
      }
    }
  }

  /** True when an active strategy uses the node (produces or consumes it). */
  isUsed(nodeId: string): boolean {
    return (this.users.get(nodeId)?.size ?? 0) > 0;
  }

  /** True when an active strategy produces the node. */
  hasLiveProducer(nodeId: string): boolean {
    const producer = this.producers.get(nodeId);
    return producer !== undefined && this.strategies.get(producer)?.active === true;
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
      const record = this.nodes.get(nodeId)!;
      if (record.interval === query.interval && record.nodeType !== TAG_QUERY_NODE_TYPE)
        topics.push(record.topic);
    }
    return topics.sort();
  }

  orphans(): OrphanQueue[] {
    const orphans: OrphanQueue[] = [];
    for (const record of this.nodes.values()) {
      if ((this.users.get(record.nodeId)?.size ?? 0) > 0) continue;
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
    const operations: GraphOperation[] = [{ op: 'nodes', records: [...this.nodes.values()] }];
    for (const [strategyId, strategy] of this.strategies) {
      const nodeIds = [...strategy.uses].filter((id) => this.nodes.has(id));
      const claimed = nodeIds.filter((id) => this.producers.get(id) === strategyId);
      operations.push({ op: 'attach', strategyId, nodeIds, claimed, now: 0 });
      if (!strategy.active) operations.push({ op: 'release', strategyId, now: 0 });
    }
    operations.push({ op: 'orphaned', since: [...this.orphanedAt] });
    for (const sentinel of this.sentinels.values()) operations.push({ op: 'sentinel', sentinel });
    return operations;
  }

  private strategy(strategyId: string): StrategyState {
    let strategy = this.strategies.get(strategyId);
    if (strategy === undefined)
      this.strategies.set(strategyId, (strategy = { active: true, uses: new Set() }));
    return strategy;
  }
}
