import { canonicalJson, sha256Hex, sha3Hex } from '../common/hash.js';

/** `code_hash` of a node without a compute function: sha256("null"). */
export const NULL_CODE_HASH = sha256Hex('null');

/** The four fields a NodeID is derived from (SPEC §2.3). */
export interface NodeIdentity {
  readonly nodeType: string;
  readonly codeHash: string;
  readonly configHash: string;
  readonly schemaHash: string;
}

/**
 * `code_hash` (SPEC §2.3): sha256 of a compute function's source text, trimmed; sha256("null")
 * when there is no function. Only the text counts: variables a closure captures are invisible,
 * which is why parameters belong in a node's `params`.
 */
export function codeHash(fn: ((...args: never[]) => unknown) | null | undefined): string {
  if (fn == null) return NULL_CODE_HASH;
  return sha256Hex(Function.prototype.toString.call(fn).trim());
}

/** `config_hash` / `schema_hash`: sha256 of the canonical JSON of a plain object. */
export function objectHash(value: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(value));
}

/** The string both NodeID digests are taken of: `"{node_type}:{code_hash}:{config_hash}:{schema_hash}"`. */
export function nodeIdPreimage(identity: NodeIdentity): string {
  return `${identity.nodeType}:${identity.codeHash}:${identity.configHash}:${identity.schemaHash}`;
}

/**
 * The content address of a node (SPEC §2.3): sha256 of its four identity fields. When
 * `isTakenByOther(id)` says the global DAG already holds a *different* node under that id, the id
 * falls back to SHA3-256 of the same string.
 */
export function computeNodeId(identity: NodeIdentity, isTakenByOther?: (id: string) => boolean): string {
  const preimage = nodeIdPreimage(identity);
  const id = sha256Hex(preimage);
  return isTakenByOther?.(id) ? sha3Hex(preimage) : id;
}

/** True if `nodeId` is either digest (sha256 or the SHA3 fallback) of the identity. */
export function isValidNodeId(nodeId: string, identity: NodeIdentity): boolean {
  const preimage = nodeIdPreimage(identity);
  return nodeId === sha256Hex(preimage) || nodeId === sha3Hex(preimage);
}
