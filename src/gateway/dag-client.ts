import type { BufferInstruction } from '../dagmanager/diff-types.js';

/** A merged diff as the Gateway sees it (SPEC §2.5, §2.7). */
export interface GatewayDiff {
  /** `{strategy_id}-sentinel`. */
  readonly sentinelId: string;
  /** Topic of every node of the DAG. */
  readonly queueMap: Readonly<Record<string, string>>;
  /** The nodes the submitter produces, with the topic each is published to. */
  readonly topicMap: Readonly<Record<string, string>>;
  readonly bufferNodes: readonly BufferInstruction[];
}

/**
 * The Gateway's port to the DAG Manager: over gRPC (retries, breaker) when distributed, or an
 * in-process DAG Manager when embedded. Errors are QmtlErrors; `QMTL_UNAVAILABLE` means "try again
 * later" (the DAG Manager is down or the breaker is open), anything else is final.
 */
export interface DagClient {
  diff(strategyId: string, dagJson: string): Promise<GatewayDiff>;
  /** Topics of nodes matching a tag query (`any`: some tag in common; `all`: every query tag). */
  getQueues(tags: readonly string[], interval: number, matchMode: 'any' | 'all'): Promise<string[]>;
  /** Releases a stopped strategy's nodes; returns the node ids released. */
  cleanup(strategyId: string): Promise<string[]>;
  /** True when the DAG Manager answers its health check with a working graph store. Never throws. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
