import type { NodeRecord, OrphanQueue, SentinelRecord } from './node-record.js';

/**
 * One change to the in-memory global DAG. The memory repository applies operations to a
 * {@link MemoryGraph} and appends them to its journal, so replaying the journal rebuilds the
 * graph exactly (producer claims are recorded as decided, not re-decided).
 */
export type GraphOperation =
  | { readonly op: 'nodes'; readonly records: readonly NodeRecord[] }
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

const NO_IDS: readonly string[] = Object.freeze([]);

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
  /**
   * Node ids per config hash, in the order they were stored: one id (most lineages have one
   * version) or a list. A lineage (same node_type and config_hash) is the ids of one config hash
   * whose node_type matches ({@link MemoryGraph.lineage}). Keyed by the record's own config hash
   * string, so storing a node allocates no key and, for a first version, no collection.
   */
  private readonly byConfigHash = new Map<string, string | string[]>();
  /**
   * Active users per node id: one strategy id (the usual case) or a set of them; no entry when
   * none. Most nodes have one user, and a `Set` per node would be most of the memory a node costs.
   */
  private readonly users = new Map<string, string | Set<string>>();
  /** When each node lost its last active user. */
  private readonly orphanedAt = new Map<string, number>();

  apply(operation: GraphOperation): void {
    switch (operation.op) {
      case 'nodes':
        for (const record of operation.records) {
          if (this.nodes.has(record.nodeId)) continue;
          this.nodes.set(record.nodeId, record);
          this.topics.set(record.topic, record.nodeId);
          const ids = this.byConfigHash.get(record.configHash);
          if (ids === undefined) this.byConfigHash.set(record.configHash, record.nodeId);
          else if (typeof ids === 'string') this.byConfigHash.set(record.configHash, [ids, record.nodeId]);
          else ids.push(record.nodeId);
        }
        return;
      case 'attach': {
        const strategy = this.strategy(operation.strategyId);
        strategy.active = true;
        for (const nodeId of operation.nodeIds) {
          strategy.uses.add(nodeId);
          this.addUser(nodeId, operation.strategyId);
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
          if (this.removeUser(nodeId, operation.strategyId)) this.orphanedAt.set(nodeId, operation.now);
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
        if (record !== undefined) this.forgetConfigHash(record.configHash, nodeId);
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
    const users = this.users.get(nodeId);
    return users !== undefined && (typeof users === 'string' || users.size > 0);
  }

  /** Ids of the stored nodes of one lineage (same node_type and config_hash), oldest first. */
  lineage(nodeType: string, configHash: string): readonly string[] {
    const ids = this.byConfigHash.get(configHash);
    if (ids === undefined) return NO_IDS;
    if (typeof ids === 'string') return this.nodes.get(ids)?.nodeType === nodeType ? [ids] : NO_IDS;
    return ids.filter((id) => this.nodes.get(id)?.nodeType === nodeType);
  }

  /** True when an active strategy produces the node. */
  hasLiveProducer(nodeId: string): boolean {
    const producer = this.producers.get(nodeId);
    return producer !== undefined && this.strategies.get(producer)?.active === true;
  }

  orphans(): OrphanQueue[] {
    const orphans: OrphanQueue[] = [];
    for (const record of this.nodes.values()) {
      if (this.isUsed(record.nodeId)) continue;
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

  private addUser(nodeId: string, strategyId: string): void {
    const users = this.users.get(nodeId);
    if (users === undefined) this.users.set(nodeId, strategyId);
    else if (typeof users !== 'string') users.add(strategyId);
    else if (users !== strategyId) this.users.set(nodeId, new Set([users, strategyId]));
  }

  /** Removes one user of the node; true when the node had users and now has none. */
  private removeUser(nodeId: string, strategyId: string): boolean {
    const users = this.users.get(nodeId);
    if (users === undefined) return false;
    if (typeof users === 'string') {
      if (users !== strategyId) return false;
      this.users.delete(nodeId);
      return true;
    }
    users.delete(strategyId);
    if (users.size > 0) return false;
    this.users.delete(nodeId);
    return true;
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
