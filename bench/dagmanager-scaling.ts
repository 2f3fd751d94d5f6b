/**
 * How the DAG Manager's diff scales with DAG size, one request at a time on the memory repository:
 * for each size, the median time of a resubmission (every node reused) and of a new DAG (every
 * node created), and the cost per node. Linear scaling keeps the per-node cost flat.
 *   node --import tsx bench/dagmanager-scaling.ts [sizes=500,1000,2000,5000,10000,20000,40000]
 */
import { chainDag } from '../src/dagmanager/dag.test-kit.js';
import { DagManager } from '../src/dagmanager/dag-manager.js';
import { MemoryNodeRepository } from '../src/dagmanager/memory-node-repository.js';
import { MemoryQueueAdmin } from '../src/dagmanager/memory-queue-admin.js';

const sizes = (process.argv[2] ?? '500,1000,2000,5000,10000,20000,40000').split(',').map(Number);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function manager(): DagManager {
  const admin = new MemoryQueueAdmin();
  return new DagManager({
    repo: MemoryNodeRepository.open(),
    admin,
    topics: { ensure: (spec) => admin.createTopic(spec) },
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

console.log('DAG Manager diff, one request at a time, memory repository, median ms (µs per node)');
console.log('| nodes | requests | resubmitted | new DAG |');
console.log('|---|---|---|---|');
for (const nodes of sizes) {
  const requests = Math.max(8, Math.round(60_000 / nodes));
  const shared = JSON.stringify(chainDag(nodes, `shared-${nodes}-`));
  const resubmit = manager();
  await resubmit.diff('warm', shared);
  const reused: number[] = [];
  for (let i = 0; i < requests; i++) reused.push(await timed(() => resubmit.diff(`r-${i}`, shared)));
  await resubmit.close();
  const fresh = manager();
  const created: number[] = [];
  for (let i = 0; i < Math.min(requests, 60); i++) {
    const dag = JSON.stringify(chainDag(nodes, `new-${nodes}-${i}-`));
    created.push(await timed(() => fresh.diff(`n-${i}`, dag)));
  }
  await fresh.close();
  const cell = (ms: number): string => `${ms.toFixed(2)} (${((ms * 1000) / nodes).toFixed(2)})`;
  console.log(`| ${nodes} | ${requests} | ${cell(median(reused))} | ${cell(median(created))} |`);
}
