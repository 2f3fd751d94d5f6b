import type { NodeRecord } from './node-record.js';

/** A diff request: the strategy submitting and its DAG (JSON text or parsed). */
export interface DiffRequest {
  readonly strategyId: string;
  readonly dagJson: string | object;
}

/**
 * A node that reuses an earlier version's data while it warms up after a compatible schema
 * change: consumers read `lag` bars of the old topic before switching (SPEC §5 buffering).
 */
export interface BufferInstruction {
  readonly nodeId: string;
  readonly nodeType: string;
  readonly codeHash: string;
  readonly schemaHash: string;
  readonly interval: number;
  readonly period: number;
  readonly tags: readonly string[];
  readonly lag: number;
}

/** What a diff decided for a submitted DAG. */
export interface DiffOutcome {
  readonly strategyId: string;
  /** `{strategy_id}-sentinel`. */
  readonly sentinelId: string;
  /** Topic of every node of the DAG, in topological order. */
  readonly queueMap: ReadonlyMap<string, string>;
  /** The nodes this strategy produces (computes and publishes), with their topics. */
  readonly topicMap: ReadonlyMap<string, string>;
  /** Nodes stored by this diff (they did not exist before). */
  readonly newNodes: readonly NodeRecord[];
  readonly bufferNodes: readonly BufferInstruction[];
  /** True when a VersionSentinel was written (the diff created at least one node). */
  readonly sentinelWritten: boolean;
}
