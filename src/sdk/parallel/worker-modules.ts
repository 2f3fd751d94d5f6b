import { ErrorCode, QmtlError, quote, shortId, type Problem } from '../../common/errors.js';
import { codeHash } from '../../dag/node-id.js';
import type { NodeRuntime } from '../runner/node-runtime.js';

/**
 * Checks, before any bucket is sent to a worker, that each offloaded node's `worker.module`
 * imports and that its `worker.export` is the node's `computeFn` (the same function, or one with
 * the same source): otherwise workers would compute something the NodeID does not describe.
 * Throws one error listing every problem.
 */
export async function checkWorkerModules(runtimes: readonly NodeRuntime[]): Promise<void> {
  const problems = (await Promise.all(runtimes.map(checkOne))).filter((p): p is Problem => p !== null);
  if (problems.length > 0) throw QmtlError.fromProblems('nodes cannot run on workers as declared', problems);
}

async function checkOne(runtime: NodeRuntime): Promise<Problem | null> {
  const { module, export: name } = runtime.node.worker!;
  const problem = (message: string): Problem => ({
    code: ErrorCode.InvalidNode,
    message: `node ${quote(runtime.node.name)} (${shortId(runtime.id)}): ${message}`,
    nodeId: runtime.id,
  });
  let exports: Record<string, unknown>;
  try {
    exports = (await import(module)) as Record<string, unknown>;
  } catch (error) {
    return problem(
      `worker.module ${quote(module)} cannot be imported: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const fn = exports[name];
  if (typeof fn !== 'function') {
    const names = Object.keys(exports).filter((key) => typeof exports[key] === 'function');
    return problem(
      `worker.export ${quote(name)} is not a function exported by ${quote(module)} (its function exports: ${names.join(', ') || 'none'})`,
    );
  }
  const computeFn = runtime.node.computeFn;
  if (fn !== computeFn && codeHash(fn as () => unknown) !== codeHash(computeFn)) {
    return problem(
      `worker.export ${quote(name)} of ${quote(module)} is not the node's computeFn (its source differs), so workers would compute something else`,
    );
  }
  return null;
}
