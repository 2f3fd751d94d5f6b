import { ErrorCode, QmtlError, quote, shortId, type Problem } from '../common/errors.js';
import { canonicalJson, sha256Hex, sha3Hex } from '../common/hash.js';
import { parseInterval, parsePeriod } from '../common/interval.js';
import { nodeIdPreimage } from './node-id.js';
import type { DagJson, NodeJson } from './node-json.js';
import { topologicalSort } from './topo-sort.js';
import { isRecord } from '../common/is-record.js';

/** Options of {@link validateDag}. */
export interface ValidateDagOptions {
  /** Recompute every `node_id` from its four identity fields and report mismatches (default true). */
  readonly verifyNodeIds?: boolean;
  /** Reject DAGs with more nodes than this (default 100,000). */
  readonly maxNodes?: number;
}

/** The outcome of {@link validateDag}: the DAG in topological order when valid, and every problem. */
export interface DagValidation {
  readonly problems: Problem[];
  /** The nodes in topological order; present only when there are no problems. */
  readonly dag: DagJson | null;
}

const REQUIRED_HASHES = ['code_hash', 'config_hash', 'schema_hash'] as const;

/**
 * Checks a DAG received on the wire (SPEC §2.2–2.3) and reports **every** problem at once:
 * malformed nodes, bad interval or period, duplicate ids, unknown inputs, node ids that do not
 * match their identity fields, and cycles (each named by its path).
 */
export function validateDag(input: unknown, options: ValidateDagOptions = {}): DagValidation {
  const problems: Problem[] = [];
  if (!isRecord(input) || !Array.isArray(input['nodes'])) {
    problems.push({
      code: ErrorCode.InvalidDag,
      message: `DAG must be an object with a "nodes" array, got ${quote(input)}`,
    });
    return { problems, dag: null };
  }
  const rawNodes: unknown[] = input['nodes'];
  const maxNodes = options.maxNodes ?? 100_000;
  if (rawNodes.length > maxNodes) {
    problems.push({
      code: ErrorCode.InvalidDag,
      message: `DAG has ${rawNodes.length} nodes, more than the limit of ${maxNodes}`,
    });
    return { problems, dag: null };
  }
  const nodes: NodeJson[] = [];
  rawNodes.forEach((raw, position) => {
    const node = checkNode(raw, position, problems, options.verifyNodeIds ?? true);
    if (node) nodes.push(node);
  });
  // Ids of nodes that have problems of their own still count as present for their consumers.
  const presentIds = new Set<string>();
  for (const raw of rawNodes)
    if (isRecord(raw) && typeof raw['node_id'] === 'string') presentIds.add(raw['node_id']);
  checkReferences(nodes, presentIds, problems);
  const { order, cycles } = topologicalSort(nodes.map((n) => ({ id: n.node_id, inputs: n.inputs })));
  const byId = new Map(nodes.map((n) => [n.node_id, n]));
  for (const cycle of cycles) {
    const path = cycle.map((id) => label(byId.get(id)!)).join(' -> ');
    problems.push({ code: ErrorCode.DagCycle, message: `cycle: ${path}`, nodeId: cycle[0]! });
  }
  if (problems.length > 0) return { problems, dag: null };
  return { problems, dag: { ...input, nodes: order.map((id) => byId.get(id)!) } };
}

/** Like {@link validateDag}, but throws one {@link QmtlError} listing every problem. */
export function assertValidDag(input: unknown, options?: ValidateDagOptions): DagJson {
  const { dag, problems } = validateDag(input, options);
  if (!dag) throw QmtlError.fromProblems('invalid DAG', problems);
  return dag;
}

function checkNode(raw: unknown, position: number, problems: Problem[], verifyIds: boolean): NodeJson | null {
  if (!isRecord(raw)) {
    problems.push({
      code: ErrorCode.InvalidNode,
      message: `nodes[${position}] must be an object, got ${quote(raw)}`,
    });
    return null;
  }
  // One reporter per node, and only strings built when there is a problem: validating a valid node
  // allocates next to nothing, which keeps large DAGs linear (less garbage to collect).
  const report = new NodeReporter(raw, position, problems);
  const nodeId = raw['node_id'];
  if (typeof nodeId !== 'string' || nodeId.length === 0)
    report.add(ErrorCode.InvalidNode, `node_id must be a non-empty string, got ${quote(nodeId)}`);
  if (typeof raw['node_type'] !== 'string' || raw['node_type'] === '')
    report.add(ErrorCode.InvalidNode, `node_type must be a non-empty string, got ${quote(raw['node_type'])}`);
  for (const field of REQUIRED_HASHES) {
    if (typeof raw[field] !== 'string' || !isHex64(raw[field]))
      report.add(
        ErrorCode.InvalidNode,
        `${field} must be 64 lowercase hex characters, got ${quote(raw[field])}`,
      );
  }
  const name = raw['name'] ?? null;
  if (name !== null && typeof name !== 'string')
    report.add(ErrorCode.InvalidNode, `name must be a string or null, got ${quote(name)}`);
  const interval = optional(raw['interval'], parseInterval, ErrorCode.InvalidInterval, report);
  const period = optional(raw['period'], parsePeriod, ErrorCode.InvalidPeriod, report);
  const tags = tagList(raw['tags'] ?? [], 'tags', report);
  const inputs = stringArray(raw['inputs'] ?? [], 'inputs', report);
  const preWarmup = raw['pre_warmup'] ?? true;
  if (typeof preWarmup !== 'boolean')
    report.add(ErrorCode.InvalidNode, `pre_warmup must be a boolean, got ${quote(preWarmup)}`);
  const config = raw['config'];
  if (config !== undefined && !isRecord(config))
    report.add(ErrorCode.InvalidNode, `config must be an object, got ${quote(config)}`);
  if (raw['node_type'] === 'TagQueryNode') {
    tagList(raw['query_tags'] ?? [], 'query_tags', report);
    const mode = raw['match_mode'] ?? 'any';
    if (mode !== 'any' && mode !== 'all')
      report.add(ErrorCode.InvalidNode, `match_mode must be "any" or "all", got ${quote(mode)}`);
  }
  if (report.found) return null;
  // Wire JSON usually has every field in its normal form already; the node is then used as is.
  const normal =
    raw['name'] === name &&
    raw['interval'] === interval &&
    raw['period'] === period &&
    raw['tags'] === tags &&
    raw['inputs'] === inputs &&
    raw['pre_warmup'] === preWarmup;
  const node = (
    normal ? raw : { ...raw, name, interval, period, tags, inputs, pre_warmup: preWarmup }
  ) as NodeJson;
  if (verifyIds) checkIdentity(node, (code, message) => report.add(code, message));
  return report.found ? null : node;
}

/** Collects the problems of one node, each prefixed with where the node is. */
class NodeReporter {
  found = false;

  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly position: number,
    private readonly problems: Problem[],
  ) {}

  add(code: Problem['code'], message: string): void {
    this.found = true;
    const nodeId = this.raw['node_id'];
    if (typeof nodeId !== 'string') {
      this.problems.push({ code, message: `nodes[${this.position}]: ${message}` });
      return;
    }
    const name = this.raw['name'];
    const where = `node ${quote(typeof name === 'string' ? name : shortId(nodeId))}`;
    this.problems.push({ code, message: `${where}: ${message}`, nodeId });
  }
}

/**
 * The identity problems of one well-formed node: a node_id that does not match its four identity
 * fields, or a config_hash that does not match its `config`. What `verifyNodeIds` checks. A
 * node_id that is the SHA3-256 fallback (SPEC §2.3) is valid here; `onFallback` gets its SHA-256
 * id, which the caller must find taken by a different node for the fallback to be legitimate.
 */
export function identityProblems(node: NodeJson, onFallback?: (sha256Id: string) => void): Problem[] {
  const problems: Problem[] = [];
  checkIdentity(
    node,
    (code, message) =>
      problems.push({
        code,
        message: `node ${quote(node.name ?? shortId(node.node_id))}: ${message}`,
        nodeId: node.node_id,
      }),
    onFallback,
  );
  return problems;
}

function checkIdentity(
  node: NodeJson,
  report: (code: Problem['code'], message: string) => void,
  onFallback?: (sha256Id: string) => void,
): void {
  const preimage = nodeIdPreimage({
    nodeType: node.node_type,
    codeHash: node.code_hash,
    configHash: node.config_hash,
    schemaHash: node.schema_hash,
  });
  const primary = sha256Hex(preimage);
  if (node.node_id !== primary) {
    if (node.node_id === sha3Hex(preimage)) onFallback?.(primary);
    else
      report(
        ErrorCode.NodeIdMismatch,
        `node_id ${quote(node.node_id)} does not match its node_type, code_hash, config_hash and schema_hash`,
      );
  }
  if (node.config === undefined) return;
  let hash: string | null = null;
  try {
    hash = sha256Hex(canonicalJson(node.config));
  } catch (error) {
    report(ErrorCode.InvalidNode, `config cannot be hashed: ${(error as Error).message}`);
    return;
  }
  if (hash !== node.config_hash)
    report(ErrorCode.NodeIdMismatch, `config_hash does not match the canonical JSON of config`);
  const configInputs = node.config['inputs'];
  if (configInputs !== undefined && canonicalJson(configInputs) !== canonicalJson(node.inputs)) {
    report(
      ErrorCode.NodeIdMismatch,
      `inputs ${quote(node.inputs)} differ from the inputs in its config ${quote(configInputs)}`,
    );
  }
}

function checkReferences(nodes: NodeJson[], presentIds: ReadonlySet<string>, problems: Problem[]): void {
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.node_id)) {
      problems.push({
        code: ErrorCode.DuplicateNodeId,
        message: `${label(node)}: node_id ${quote(node.node_id)} appears more than once`,
        nodeId: node.node_id,
      });
    } else {
      seen.add(node.node_id);
    }
  }
  for (const node of nodes) {
    for (const input of node.inputs) {
      if (!presentIds.has(input)) {
        problems.push({
          code: ErrorCode.UnknownInput,
          message: `${label(node)} references unknown input ${quote(input)}`,
          nodeId: node.node_id,
        });
      }
    }
  }
}

function label(node: NodeJson): string {
  return `node ${quote(node.name ?? shortId(node.node_id))}`;
}

function optional<T>(
  value: unknown,
  parse: (v: unknown) => T,
  code: Problem['code'],
  report: NodeReporter,
): T | null {
  if (value === null || value === undefined) return null;
  try {
    return parse(value);
  } catch (error) {
    report.add(code, (error as Error).message);
    return null;
  }
}

/**
 * Tags per node and characters per tag a DAG may carry: every tag of a new node becomes a tag
 * query the DAG Manager answers and announces, and rides in its buffer instructions.
 */
export const MAX_TAGS_PER_NODE = 100;
export const MAX_TAG_LENGTH = 256;

function tagList(value: unknown, field: string, report: NodeReporter): string[] {
  const tags = stringArray(value, field, report);
  if (tags.length > MAX_TAGS_PER_NODE)
    report.add(
      ErrorCode.InvalidNode,
      `${field} has ${tags.length} tags, more than the limit of ${MAX_TAGS_PER_NODE}`,
    );
  const long = tags.find((tag) => tag.length > MAX_TAG_LENGTH);
  if (long !== undefined)
    report.add(
      ErrorCode.InvalidNode,
      `${field} has a tag of ${long.length} characters, more than the limit of ${MAX_TAG_LENGTH}: ${quote(long.slice(0, 40))}…`,
    );
  return tags;
}

function stringArray(value: unknown, field: string, report: NodeReporter): string[] {
  if (Array.isArray(value)) {
    let strings = true;
    for (let i = 0; i < value.length && strings; i++) strings = typeof value[i] === 'string';
    if (strings) return value as string[];
  }
  report.add(ErrorCode.InvalidNode, `${field} must be an array of strings, got ${quote(value)}`);
  return [];
}

/** True for 64 lowercase hex digits (a sha256/sha3 hex digest); a char loop, faster than a regex. */
function isHex64(text: string): boolean {
  if (text.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
