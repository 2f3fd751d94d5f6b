import { hash } from 'node:crypto';

// crypto.hash (one-shot, Node ≥ 20.12) is about twice as fast as createHash().update().digest()
// for short inputs: NodeIDs are hashed for every node of every DAG the services validate.

/** Lowercase hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Lowercase hex SHA3-256 of the UTF-8 bytes of `text` (the NodeID collision fallback). */
export function sha3Hex(text: string): string {
  return hash('sha3-256', text, 'hex');
}

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, as RFC 8785 does), no insignificant
 * whitespace, `undefined` members dropped.
 * Two values that mean the same give the same text, whatever their key order.
 * Non-finite numbers, functions, symbols and bigints have no canonical form and throw.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot encode ${value}`);
      return JSON.stringify(value);
    case 'object':
      break;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
  if (seen.has(value)) throw new TypeError('canonical JSON cannot encode a circular structure');
  seen.add(value);
  try {
    let out: string;
    if (Array.isArray(value)) {
      out = '[';
      for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + write(value[i] ?? null, seen);
      return out + ']';
    }
    if (value instanceof Date) return JSON.stringify(value.toISOString());
    // A Map, Set, typed array or class instance has no faithful JSON: its own keys (often none)
    // would stand for it, so different values would hash alike.
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw new TypeError(
        `canonical JSON cannot encode a ${typeof name === 'string' && name !== '' ? name : 'non-plain object'} (use plain objects and arrays)`,
      );
    }
    // Object.keys order, sorted by the default comparison: UTF-16 code units.
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    out = '{';
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      out += (out.length > 1 ? ',' : '') + quoteString(key) + ':' + write(member, seen);
    }
    return out + '}';
  } finally {
    seen.delete(value);
  }
}

/** Printable ASCII except the quote and the backslash: characters JSON writes as they are. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** `JSON.stringify` of a string, without the call for the common plain-ASCII case. */
function quoteString(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}
