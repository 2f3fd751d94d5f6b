import type { MatchMode } from '../dag/node-json.js';

/** What a topic carries, which decides its Kafka config (SPEC §2.9) and its GC rule (SPEC §5). */
export type TopicKind = 'raw' | 'indicator' | 'trade_exec' | 'sentinel';

/**
 * One node of the global DAG as the DAG Manager stores it: the node's identity, the topic that
 * carries its output, and bookkeeping. Times are epoch milliseconds.
 */
export interface NodeRecord {
  readonly nodeId: string;
  readonly nodeType: string;
  readonly codeHash: string;
  readonly configHash: string;
  readonly schemaHash: string;
  /** Seconds, or null for nodes without an interval. */
  readonly interval: number | null;
  readonly period: number | null;
  readonly tags: readonly string[];
  /** Upstream node ids, in order. */
  readonly inputs: readonly string[];
  /** The topic the node's output is published to. */
  readonly topic: string;
  readonly kind: TopicKind;
  /** 1 for the first version of a node lineage (same node_type + config_hash), then 2, 3, … */
  readonly version: number;
  readonly createdAt: number;
  /** Set while the node is buffering after a compatible schema change (earliest time kept). */
  readonly bufferingSince: number | null;
}

/** A strategy's use of one node: the node's producer computes and publishes it, others consume. */
export type NodeRole = 'producer' | 'consumer';

/** A queue nobody active references any more, as GC sees it. */
export interface OrphanQueue {
  readonly topic: string;
  readonly nodeId: string;
  readonly kind: TopicKind;
  readonly interval: number | null;
  readonly tags: readonly string[];
  readonly createdAt: number;
  /** When the last active strategy released it (its creation time if none ever used it). */
  readonly orphanedSince: number;
}

/** A VersionSentinel: one submitted version of a strategy and the nodes it HAS. */
export interface SentinelRecord {
  readonly sentinelId: string;
  /**
   * `''` for a pending weight: a weight stored before any diff wrote the sentinel (see
   * `NodeRepository.setSentinelWeight`).
   */
  readonly strategyId: string;
  /** When the diff wrote it; for a pending weight, when its latest weight came. */
  readonly createdAt: number;
  /** Canary traffic weight in [0, 1]; null until set. */
  readonly weight: number | null;
  readonly nodeIds: readonly string[];
}

/** A sentinel as a diff writes it: its weight, if any, is kept. */
export type NewSentinel = Omit<SentinelRecord, 'weight'>;

/** A tag query, as `TagQuery.GetQueues` receives it. */
export interface TagQuery {
  readonly tags: readonly string[];
  readonly interval: number;
  readonly matchMode: MatchMode;
}

/** The key of a node lineage: every version of a node shares its type and identity config. */
export function lineageKey(nodeType: string, configHash: string): string {
  return `${nodeType}\u0000${configHash}`;
}

/** node_type of tag-query nodes: they read queues matching tags, so they are never one themselves. */
export const TAG_QUERY_NODE_TYPE = 'TagQueryNode';
