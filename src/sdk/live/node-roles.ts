import type { GatewaySubmission } from '../gateway-client.js';

/**
 * What this process does with each node, from the Gateway's diff of every strategy it runs
 * (SPEC §2.5): compute and publish (`produced`), read from another process's topic and never
 * compute (`consumed`), or read a TagQueryNode's resolved queues (`tagQueues`).
 */
export interface NodeRoles {
  readonly produced: ReadonlyMap<string, string>;
  readonly consumed: ReadonlyMap<string, string>;
  readonly tagQueues: ReadonlyMap<string, readonly string[]>;
}

/** Every node is computed here and published nowhere: the embedded and offline shape. */
export const LOCAL_ROLES: NodeRoles = { produced: new Map(), consumed: new Map(), tagQueues: new Map() };

/**
 * Merges the diffs of the strategies of one process. A node one of them produces is computed here
 * (it is computed once and fans out to the others in the process); a node none produces is consumed.
 */
export function rolesOf(submissions: readonly GatewaySubmission[]): NodeRoles {
  const produced = new Map<string, string>();
  const consumed = new Map<string, string>();
  const tagQueues = new Map<string, readonly string[]>();
  for (const { topicMap } of submissions)
    for (const [nodeId, topic] of Object.entries(topicMap)) produced.set(nodeId, topic);
  for (const { queueMap } of submissions) {
    for (const [nodeId, entry] of Object.entries(queueMap)) {
      if (typeof entry !== 'string') tagQueues.set(nodeId, [...entry]);
      else if (!produced.has(nodeId)) consumed.set(nodeId, entry);
    }
  }
  return { produced, consumed, tagQueues };
}

/** Nodes consumed in `before` that `after` produces: what this process must take over. */
export function promotedNodes(before: NodeRoles, after: NodeRoles): string[] {
  return [...before.consumed.keys()].filter((nodeId) => after.produced.has(nodeId));
}

/**
 * The roles after a take-over: `claimed`, except that nodes this process consumed and does not
 * take over (their topic already reaches the end of the run) stay consumed.
 */
export function keepConsuming(claimed: NodeRoles, before: NodeRoles, promoted: readonly string[]): NodeRoles {
  const taken = new Set(promoted);
  const produced = new Map(claimed.produced);
  const consumed = new Map(claimed.consumed);
  for (const [nodeId, topic] of before.consumed) {
    if (taken.has(nodeId)) continue;
    produced.delete(nodeId);
    consumed.set(nodeId, topic);
  }
  return { produced, consumed, tagQueues: claimed.tagQueues };
}
