/**
 * A node as it travels on the wire (SPEC §2.2). Field names are snake_case so that clients of
 * the original QMTL protocol interoperate. Unknown fields are preserved, not rejected.
 */
export interface NodeJson {
  node_id: string;
  node_type: string;
  name: string | null;
  /** Bar interval in seconds. */
  interval: number | null;
  /** Bars of history the node needs per upstream. */
  period: number | null;
  tags: string[];
  /** Upstream node ids, in the order the compute function sees them. */
  inputs: string[];
  code_hash: string;
  config_hash: string;
  schema_hash: string;
  pre_warmup: boolean;
  /** The identity config whose canonical JSON hashes to `config_hash` (qmtl addition). */
  config?: Record<string, unknown>;
  /** TagQueryNode only. */
  query_tags?: string[];
  /** TagQueryNode only. */
  match_mode?: MatchMode;
  [extra: string]: unknown;
}

/** How a TagQueryNode matches queue tags: `any` = at least one tag in common, `all` = every query tag. */
export const MatchMode = { Any: 'any', All: 'all' } as const;
/** One of {@link MatchMode}. */
export type MatchMode = (typeof MatchMode)[keyof typeof MatchMode];

/** A DAG on the wire: `{"nodes": [...]}`, in topological order when produced by qmtl. */
export interface DagJson {
  nodes: NodeJson[];
  [extra: string]: unknown;
}

/**
 * The node type of the marker node a Gateway appends to the DAG it stores (SPEC §4). It is not a
 * computation: the DAG Manager drops it before the diff and writes its own VersionSentinel record.
 */
export const VERSION_SENTINEL = 'VersionSentinel';
