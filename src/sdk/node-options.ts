import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { canonicalJson } from '../common/hash.js';

/** JSON-compatible parameters of a node; part of its NodeID. */
export type Params = Record<string, unknown>;

/** Throws when `options` has keys the constructor does not know (catches typos such as `compute`). */
export function rejectUnknownKeys(options: object, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(options).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => quote(k)).join(', ')} (known: ${allowed.join(', ')})`,
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
