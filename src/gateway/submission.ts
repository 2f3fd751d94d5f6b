import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { crc32OfList } from '../common/crc32.js';
import { canonicalJson, sha256Hex } from '../common/hash.js';
import { SENTINEL_SUFFIX } from '../common/sentinel-weight.js';
import { VERSION_SENTINEL, type DagJson, type NodeJson } from '../dag/node-json.js';
import { validateDag } from '../dag/validate-dag.js';
import { RunType } from './strategy-status.js';

/** A `POST /strategies` body that passed every check (SPEC §2.5, §4). */
export interface PreparedSubmission {
  /** The decoded DAG, nodes in topological order. */
  readonly dag: DagJson;
  /** sha256 hex of the canonical JSON of the submitted DAG: the key of the 409 dedupe. */
  readonly dagHash: string;
  readonly meta: Readonly<Record<string, unknown>> | null;
  readonly runType: RunType;
  /** The TagQueryNodes of the DAG (their queues are resolved for the 202). */
  readonly tagQueries: readonly NodeJson[];
}

/** Limits applied to a submission. */
export interface SubmissionLimits {
  /** Most nodes a DAG may have. Default 100,000. */
  readonly maxNodes?: number;
}

const RUN_TYPES: readonly string[] = Object.values(RunType);

/**
 * Checks a `POST /strategies` body in the order of SPEC §4: body fields (422), DAG decoding
 * (base64 JSON, or raw JSON; 422), `node_ids_crc32` against the node ids (400), then the DAG
 * itself with every `node_id` recomputed (422 listing every problem).
 * @throws QmtlError with the code that maps to the HTTP status.
 */
export function prepareSubmission(body: unknown, limits: SubmissionLimits = {}): PreparedSubmission {
  const fields = checkBody(body);
  const decoded = decodeDag(fields.dagJson);
  checkCrc(decoded, fields.nodeIdsCrc32);
  const { dag, problems } = validateDag(decoded, { maxNodes: limits.maxNodes ?? 100_000 });
  if (dag === null) throw QmtlError.fromProblems('invalid DAG', problems);
  return {
    dag,
    dagHash: sha256Hex(canonicalJson(decoded)),
    meta: fields.meta,
    runType: fields.runType,
    tagQueries: dag.nodes.filter((node) => node.node_type === 'TagQueryNode'),
  };
}

/** The DAG as stored and sent to the DAG Manager: JSON text, with a VersionSentinel when asked. */
export function storedDagJson(dag: DagJson, strategyId: string, insertSentinel: boolean): string {
  if (!insertSentinel) return JSON.stringify(dag);
  const sentinel = {
    node_id: sentinelIdOf(strategyId),
    node_type: VERSION_SENTINEL,
    name: null,
    interval: null,
    period: null,
    tags: [],
    inputs: [],
  };
  return JSON.stringify({ ...dag, nodes: [...dag.nodes, sentinel] });
}

/** `{strategy_id}-sentinel`. */
export function sentinelIdOf(strategyId: string): string {
  return `${strategyId}${SENTINEL_SUFFIX}`;
}

interface BodyFields {
  dagJson: string;
  meta: Record<string, unknown> | null;
  runType: RunType;
  nodeIdsCrc32: number;
}

function checkBody(body: unknown): BodyFields {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new QmtlError(ErrorCode.InvalidArgument, `body must be a JSON object, got ${quote(body)}`);
  const fields = body as Record<string, unknown>;
  const problems: string[] = [];
  const { dag_json: dagJson, meta = null, run_type: runType, node_ids_crc32: crc } = fields;
  if (typeof dagJson !== 'string' || dagJson === '')
    problems.push(`dag_json must be a non-empty string (base64 or JSON text), got ${quote(dagJson)}`);
  if (meta !== null && (typeof meta !== 'object' || Array.isArray(meta)))
    problems.push(`meta must be an object or null, got ${quote(meta)}`);
  else if (meta !== null) {
    const at = nulPath(meta);
    // PostgreSQL cannot store it, so no store takes it: one answer whatever the backend.
    if (at !== null) problems.push(`meta must not contain NUL characters, found one at ${at}`);
  }
  if (typeof runType !== 'string' || !RUN_TYPES.includes(runType))
    problems.push(
      `run_type must be one of ${RUN_TYPES.map((r) => quote(r)).join(', ')}, got ${quote(runType)}`,
    );
  if (typeof crc !== 'number' || !Number.isSafeInteger(crc) || crc < 0 || crc > 0xffff_ffff)
    problems.push(`node_ids_crc32 must be an unsigned 32-bit integer, got ${quote(crc)}`);
  if (problems.length > 0)
    throw QmtlError.fromProblems(
      'invalid submission',
      problems.map((message) => ({ code: ErrorCode.InvalidArgument, message })),
    );
  return {
    dagJson: dagJson as string,
    meta: meta as Record<string, unknown> | null,
    runType: runType as RunType,
    nodeIdsCrc32: crc as number,
  };
}

/** The path (`meta.a[2]`) of a key or string holding a NUL character in `value`, or null. */
function nulPath(value: object): string | null {
  // An explicit stack: a body may nest deeper than the call stack allows.
  const stack: [unknown, string][] = [[value, 'meta']];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\0')) return path;
    } else if (Array.isArray(item)) {
      item.forEach((element, k) => stack.push([element, `${path}[${k}]`]));
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, element] of Object.entries(item)) {
        if (key.includes('\0')) return `${path} (a key)`;
        stack.push([element, `${path}.${key}`]);
      }
    }
  }
  return null;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Decodes `dag_json`: base64 of JSON text (as the SDK sends it), or raw JSON text. */
export function decodeDag(dagJson: string): unknown {
  const text = dagJson.trimStart();
  const fromBase64 = !text.startsWith('{') && BASE64.test(text.trimEnd());
  const json = fromBase64 ? Buffer.from(text, 'base64').toString('utf8') : text;
  try {
    return JSON.parse(json);
  } catch (error) {
    const what = fromBase64 ? 'base64 that decodes to invalid JSON' : 'neither base64 nor valid JSON';
    throw new QmtlError(ErrorCode.InvalidDag, `dag_json is ${what}: ${(error as Error).message}`);
  }
}

function checkCrc(decoded: unknown, expected: number): void {
  const nodes = (decoded as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return; // validateDag reports the shape
  const ids = nodes.map((node) => (node as { node_id?: unknown } | null)?.node_id);
  if (!ids.every((id): id is string => typeof id === 'string')) return;
  const actual = crc32OfList(ids);
  if (actual !== expected) {
    throw new QmtlError(
      ErrorCode.CrcMismatch,
      `node id checksum mismatch: node_ids_crc32 is ${expected}, the DAG's node ids give ${actual}`,
    );
  }
}
