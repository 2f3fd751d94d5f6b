import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { canonicalJson } from '../common/hash.js';

/** JSON-compatible parameters of a node; part of its NodeID. */
export type Params = Record<string, unknown>;

/**
 * Throws when `options` has keys the constructor does not know (catches typos such as `compute`);
 * `hint` follows the list of known keys.
 */
export function rejectUnknownKeys(
  options: object,
  allowed: readonly string[],
  what: string,
  { code = ErrorCode.InvalidNode, hint }: { code?: ErrorCode; hint?: string } = {},
): void {
  const unknown = Object.keys(options).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new QmtlError(
      code,
      `${what}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => quote(k)).join(', ')} (known: ${allowed.join(', ')}${hint === undefined ? '' : `; ${hint}`})`,
    );
  }
}

/** Checks that `value` is a plain object whose canonical JSON exists, and returns a frozen deep copy. */
export function frozenJsonObject<T>(value: unknown, field: string, what: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: ${field} must be a plain object, got ${quote(value)}`,
    );
  }
  let text: string;
  try {
    text = canonicalJson(value);
  } catch (error) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: ${field} must be JSON-compatible (numbers, strings, booleans, arrays, objects): ${(error as Error).message}`,
    );
  }
  return deepFreeze(JSON.parse(text)) as T;
}

/**
 * Where a worker thread finds a node's pure compute function (parallel compute, SPEC §3.5): the
 * module URL and the name of the export, which must be the node's `computeFn` itself. Not part of
 * the NodeID: the function is, through its source text.
 */
export interface WorkerSpec {
  /** Absolute URL of the ES module, e.g. `new URL('./heavy.js', import.meta.url).href`. */
  readonly module: string;
  /** Name of the export that is the node's `computeFn`. */
  readonly export: string;
}

/** Checks a `worker` option and returns a frozen copy; every problem is named in one error. */
export function workerSpec(value: unknown, what: string): WorkerSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: worker must be an object { module, export }, got ${quote(value)}`,
    );
  }
  rejectUnknownKeys(value, ['module', 'export'], `${what}: worker`);
  const { module, export: name } = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof module !== 'string' || !URL.canParse(module)) {
    problems.push(
      `worker.module must be an absolute module URL such as new URL('./heavy.js', import.meta.url).href, got ${quote(module)}`,
    );
  }
  if (typeof name !== 'string' || name.trim() === '')
    problems.push(`worker.export must be the non-empty name of an export, got ${quote(name)}`);
  if (problems.length > 0) throw new QmtlError(ErrorCode.InvalidNode, `${what}: ${problems.join('; ')}`);
  return Object.freeze({ module: module as string, export: name as string });
}

/** Checks that `value` is an array of strings and returns a de-duplicated copy in first-seen order. */
export function stringList(value: unknown, field: string, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: ${field} must be an array of strings, got ${quote(value)}`,
    );
  }
  return [...new Set(value)];
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
