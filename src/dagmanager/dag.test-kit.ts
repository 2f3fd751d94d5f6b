import { canonicalJson, sha256Hex } from '../common/hash.js';
import { computeNodeId } from '../dag/node-id.js';
import type { DagJson, NodeJson } from '../dag/node-json.js';

/** What {@link wireNode} needs; everything else has test defaults. */
export interface WireNodeSpec {
  /** Distinguishes nodes: goes into the config, so different names give different ids. */
  readonly name: string;
  readonly nodeType?: string;
  /** Source text standing in for the compute function (hashed into code_hash). */
  readonly code?: string;
  readonly inputs?: readonly NodeJson[];
  readonly interval?: number | null;
  readonly period?: number | null;
  readonly tags?: readonly string[];
  /** Output schema (hashed into schema_hash). */
  readonly schema?: Record<string, unknown>;
  readonly extra?: Record<string, unknown>;
}

/** A valid wire node (SPEC §2.2) whose node_id matches its identity fields. */
export function wireNode(spec: WireNodeSpec): NodeJson {
  const inputs = (spec.inputs ?? []).map((n) => n.node_id);
  const interval = spec.interval === undefined ? 60 : spec.interval;
  const period = spec.period === undefined ? 10 : spec.period;
  const config = { name: spec.name, interval, period, inputs };
  const identity = {
    nodeType: spec.nodeType ?? 'ProcessingNode',
    codeHash: sha256Hex(spec.code ?? `compute ${spec.name}`),
    configHash: sha256Hex(canonicalJson(config)),
    schemaHash: sha256Hex(canonicalJson(spec.schema ?? {})),
  };
  return {
    node_id: computeNodeId(identity),
    node_type: identity.nodeType,
    name: spec.name,
    interval,
    period,
    tags: [...(spec.tags ?? [])],
    inputs,
    code_hash: identity.codeHash,
    config_hash: identity.configHash,
    schema_hash: identity.schemaHash,
    pre_warmup: false,
    ...spec.extra,
  };
}

/** A chain of `length` nodes: a StreamInput then ProcessingNodes, each reading the previous one. */
export function chainDag(length: number, prefix = 'n'): DagJson {
  const nodes: NodeJson[] = [];
  for (let i = 0; i < length; i++) {
    nodes.push(
      wireNode({
        name: `${prefix}${i}`,
        nodeType: i === 0 ? 'StreamInput' : 'ProcessingNode',
        inputs: i === 0 ? [] : [nodes[i - 1]!],
        tags: i === 0 ? ['price'] : [],
      }),
    );
  }
  return { nodes };
}

/**
 * `base` (a chain's first nodes) followed by new chained nodes up to `length`, named with
 * `prefix`: a strategy that changes the parameters of its last few nodes.
 */
export function withNewTail(base: DagJson['nodes'], length: number, prefix: string): DagJson {
  const nodes = [...base];
  for (let i = base.length; i < length; i++)
    nodes.push(wireNode({ name: `${prefix}${i}`, inputs: [nodes[i - 1]!] }));
  return { nodes };
}
