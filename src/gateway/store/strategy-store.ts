import type { RunType, StrategyStatus } from '../strategy-status.js';

/**
 * The diff result kept with a strategy and returned in the 202 (SPEC §2.5): `queue_map[node_id]`
 * is a topic to consume, or for a TagQueryNode the list of matching topics; `topic_map[node_id]`
 * is the topic this strategy publishes a computed node to.
 */
export interface StoredDiff {
  readonly sentinelId: string | null;
  readonly queueMap: Readonly<Record<string, string | readonly string[]>>;
  readonly topicMap: Readonly<Record<string, string>>;
}

/** A strategy as submitted, before it is stored. */
export interface NewStrategy {
  /** A fresh id (UUID). */
  readonly id: string;
  /** sha256 hex of the canonical submitted DAG: the dedupe key of the 409. */
  readonly dagHash: string;
  /** The DAG to diff, as JSON text (VersionSentinel already inserted when configured). */
  readonly dagJson: string;
  readonly meta: Readonly<Record<string, unknown>> | null;
  readonly runType: RunType;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/** A stored strategy. */
export interface StrategyRecord extends NewStrategy {
  readonly status: StrategyStatus;
  readonly diff: StoredDiff | null;
}

/** One row of the event log: every status change, in the order it happened. */
export interface StrategyEventRecord {
  readonly strategyId: string;
  /** `INIT` for the insert, else a {@link StrategyEvent}. */
  readonly event: string;
  /** Null for `INIT`. */
  readonly fromStatus: StrategyStatus | null;
  readonly toStatus: StrategyStatus;
  /** Epoch milliseconds. */
  readonly at: number;
}

/** What {@link StrategyStore.insert} did. */
export type InsertOutcome =
  | { readonly inserted: true }
  /** An active (not stopped) strategy already has this DAG hash; nothing was written. */
  | { readonly inserted: false; readonly existingId: string; readonly existingStatus: StrategyStatus };

/**
 * The Gateway's authoritative, durable store of strategies and their event log (SPEC §4):
 * PostgreSQL (synchronous commit), SQLite or memory. Every write is durable when its promise
 * resolves, so a 202 sent after `insert` never loses the submission.
 */
export interface StrategyStore {
  /**
   * Stores a new strategy in `queued` and appends its `INIT` event, in one transaction. At most one
   * strategy that is not `stopped` may hold a DAG hash (a unique constraint, safe across Gateways):
   * a second insert returns the holder instead.
   */
  insert(strategy: NewStrategy): Promise<InsertOutcome>;
  /** The strategy, or null for an unknown id. */
  get(id: string): Promise<StrategyRecord | null>;
  /**
   * Compare-and-set: when the status is `from`, sets it to `to` (and the diff, when given) and
   * appends the event, in one transaction, and returns true; otherwise writes nothing and returns
   * false. A move to `stopped` releases the DAG hash for new submissions.
   */
  transition(
    id: string,
    from: StrategyStatus,
    to: StrategyStatus,
    event: string,
    at: number,
    diff?: StoredDiff,
  ): Promise<boolean>;
  /** Keeps the diff result of a strategy (overwrites an earlier one). */
  saveDiff(id: string, diff: StoredDiff): Promise<void>;
  /** The event log of a strategy, oldest first. */
  events(id: string): Promise<StrategyEventRecord[]>;
  /** Ids of strategies whose status is one of `statuses`, oldest first (crash recovery). */
  listByStatus(statuses: readonly StrategyStatus[]): Promise<string[]>;
  /** True when the store answers a trivial query. */
  health(): Promise<boolean>;
  close(): Promise<void>;
}
