/**
 * DAG Manager diff latency: 1,000-node (or N-node) DAGs diffed at a constant arrival rate (open
 * loop: requests start on schedule whether or not earlier ones finished), on the memory
 * repository and, with `neo4j`, on a real Neo4j. Two workloads: every request a NEW DAG (all
 * nodes created, one topic each) and the SAME DAG resubmitted by new strategies (all reused).
 * Reports p50/p95/p99 in ms, in-process and through the gRPC server + client on loopback.
 *   node --import tsx bench/dagmanager-diff.ts [memory|neo4j] [nodes=1000] [rate=50] [seconds=10]
 */
import { chainDag } from '../src/dagmanager/dag.test-kit.js';
import { DagManager } from '../src/dagmanager/dag-manager.js';
import { DagManagerClient } from '../src/dagmanager/grpc-client.js';
import { startGrpcServer } from '../src/dagmanager/grpc-server.js';
import { MemoryNodeRepository } from '../src/dagmanager/memory-node-repository.js';
import { MemoryQueueAdmin } from '../src/dagmanager/memory-queue-admin.js';
import type { NodeRepository } from '../src/dagmanager/node-repository.js';

const backend = process.argv[2] ?? 'memory';
const nodes = Number(process.argv[3] ?? 1000);
const rate = Number(process.argv[4] ?? 50);
const seconds = Number(process.argv[5] ?? 10);

async function openRepo(): Promise<NodeRepository> {
  if (backend === 'memory') return MemoryNodeRepository.open();
  const { Neo4jNodeRepository } = await import('../src/dagmanager/neo4j-node-repository.js');
  const repo = await Neo4jNodeRepository.connect({ uri: 'bolt://127.0.0.1:7687', user: 'neo4j', password: 'x' });
  return repo;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** Fires `count` requests at `rate`/s, each `fn(i)`; returns latencies in ms. */
async function openLoop(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(fn(i).then(() => void latencies.push(performance.now() - t0)));
  }
  await Promise.all(pending);
  return latencies.sort((a, b) => a - b);
}

function report(label: string, latencies: number[]): void {
  const f = (x: number): string => x.toFixed(1);
  console.log(
    `| ${backend} | ${label} | ${nodes} | ${latencies.length} | ${f(percentile(latencies, 0.5))} | ${f(percentile(latencies, 0.95))} | ${f(percentile(latencies, 0.99))} |`,
  );
}

const repo = await openRepo();
const admin = new MemoryQueueAdmin();
const manager = new DagManager({ repo, admin, topics: { ensure: (spec) => admin.createTopic(spec) } });
const count = rate * seconds;
const run = Date.now().toString(36);
const shared = JSON.stringify(chainDag(nodes, `shared-${run}-`));
await manager.diff(`warm-${run}`, shared);
const fresh = Array.from({ length: count }, (_, i) => JSON.stringify(chainDag(nodes, `new-${run}-${i}-`)));

console.log(`DAG Manager diff latency, ${rate} requests/s for ${seconds} s (open loop), ms`);
console.log('| repository | workload | nodes | requests | p50 | p95 | p99 |');
console.log('|---|---|---|---|---|---|---|');
report('new DAG each request (in-process)', await openLoop(count, (i) => manager.diff(`n-${run}-${i}`, fresh[i]!)));
report('same DAG resubmitted (in-process)', await openLoop(count, (i) => manager.diff(`r-${run}-${i}`, shared)));

const server = await startGrpcServer(manager, { port: 0 });
const client = new DagManagerClient(`127.0.0.1:${server.port}`);
await client.diff(`warm-grpc-${run}`, shared);
report('same DAG resubmitted (gRPC round trip)', await openLoop(count, (i) => client.diff(`g-${run}-${i}`, shared)));
client.close();
await server.close();
await manager.close();
