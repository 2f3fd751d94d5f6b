/**
 * DAG Manager diff latency at a constant arrival rate (open loop: requests start on schedule
 * whether or not earlier ones finished), p50/p95/p99 in ms, on the memory repository or, with
 * `neo4j`, on a real Neo4j (bolt://127.0.0.1:7687), with `journal` on the memory repository
 * persisted to a journal file in a temporary directory. Workloads, each on a fresh DAG Manager and
 * in its own function, so one workload's data is garbage before the next starts:
 * - the SAME DAG resubmitted by new strategies (every node reused; the steady state),
 * - 5 % NEW each request: the shared DAG's first 95 % and a new tail of 5 % (a strategy that
 *   changes the parameters of its last few nodes),
 * - the same resubmission through gRPC, with the server in its own process,
 * - a NEW DAG each request (every node created, one topic each): a stress case.
 *   node --import tsx bench/dagmanager-diff.ts [memory|journal|neo4j] [nodes=1000] [rate=50] [seconds=10]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chainDag, withNewTail } from '../src/dagmanager/dag.test-kit.js';
import { DagManager } from '../src/dagmanager/dag-manager.js';
import { DagManagerClient } from '../src/dagmanager/grpc-client.js';
import { startGrpcServer } from '../src/dagmanager/grpc-server.js';
import { MemoryNodeRepository } from '../src/dagmanager/memory-node-repository.js';
import { MemoryQueueAdmin } from '../src/dagmanager/memory-queue-admin.js';
import type { NodeRepository } from '../src/dagmanager/node-repository.js';

const [backend = 'memory', nodesArg = '1000', rateArg = '50', secondsArg = '10', role] =
  process.argv.slice(2);
const nodes = Number(nodesArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const run = Date.now().toString(36);
const journalDir = backend === 'journal' ? mkdtempSync(join(tmpdir(), 'qmtl-bench-journals-')) : '';
const removeJournals = (): void => {
  if (journalDir !== '') rmSync(journalDir, { recursive: true, force: true });
};
let journals = 0;

async function manager(): Promise<DagManager> {
  let repo: NodeRepository;
  if (backend === 'memory') repo = MemoryNodeRepository.open();
  else if (backend === 'journal') repo = MemoryNodeRepository.open(join(journalDir, `${journals++}.journal`));
  else {
    const { Neo4jNodeRepository } = await import('../src/dagmanager/neo4j-node-repository.js');
    repo = await Neo4jNodeRepository.connect({ uri: 'bolt://127.0.0.1:7687', user: 'neo4j', password: 'x' });
  }
  const admin = new MemoryQueueAdmin();
  return new DagManager({ repo, admin, topics: { ensure: (spec) => admin.createTopic(spec) } });
}

if (role === 'serve') {
  const server = await startGrpcServer(await manager(), { port: 0 });
  process.send!(server.port);
  process.once('SIGTERM', () => {
    removeJournals();
    process.exit(0);
  });
} else {
  const percentile = (sorted: number[], p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

  /** Fires `count` requests at `rate`/s, each `fn(i)`; returns latencies in ms, sorted. */
  const openLoop = async (count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> => {
    const latencies: number[] = [];
    const start = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      pending.push(fn(i).then(() => void latencies.push(performance.now() - t0)));
    }
    await Promise.all(pending);
    return latencies.sort((a, b) => a - b);
  };
  const report = (label: string, latencies: number[]): void => {
    const f = (x: number): string => x.toFixed(1);
    const [p50, p95, p99] = [0.5, 0.95, 0.99].map((p) => f(percentile(latencies, p)));
    console.log(
      `| ${backend} | ${label} | ${nodes} | ${rate}/s × ${latencies.length} | ${p50} | ${p95} | ${p99} |`,
    );
  };

  console.log(`DAG Manager diff latency, open loop, ms`);
  console.log('| repository | workload | nodes | requests | p50 | p95 | p99 |');
  console.log('|---|---|---|---|---|---|---|');
  const count = rate * seconds;
  const shared = JSON.stringify(chainDag(nodes, `shared-${run}-`));

  const resubmitted = async (): Promise<void> => {
    const dm = await manager();
    await dm.diff(`warm-${run}`, shared);
    report('same DAG resubmitted', await openLoop(count, (i) => dm.diff(`r-${run}-${i}`, shared)));
    await dm.close();
  };

  const fivePercentNew = async (): Promise<void> => {
    const dm = await manager();
    await dm.diff(`warm-${run}`, shared);
    const base = chainDag(nodes, `shared-${run}-`).nodes.slice(0, nodes - Math.ceil(nodes / 20));
    const dags = Array.from({ length: count }, (_, i) =>
      JSON.stringify(withNewTail(base, nodes, `m-${run}-${i}-`)),
    );
    report('5 % new nodes each request', await openLoop(count, (i) => dm.diff(`m-${run}-${i}`, dags[i]!)));
    await dm.close();
  };

  const newDags = async (): Promise<void> => {
    const dm = await manager();
    const newCount = Math.min(count, Math.ceil(200_000 / nodes));
    const dags = Array.from({ length: newCount }, (_, i) =>
      JSON.stringify(chainDag(nodes, `new-${run}-${i}-`)),
    );
    report('new DAG each request', await openLoop(newCount, (i) => dm.diff(`n-${run}-${i}`, dags[i]!)));
    await dm.close();
  };

  const throughGrpc = async (): Promise<void> => {
    const child = fork(fileURLToPath(import.meta.url), [backend, nodesArg, rateArg, secondsArg, 'serve'], {
      execArgv: ['--import', 'tsx'],
    });
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
    const client = new DagManagerClient(`127.0.0.1:${port}`, { deadlineMs: 120_000 });
    await client.diff(`warm-${run}`, shared);
    report(
      'same DAG resubmitted, gRPC (server in its own process)',
      await openLoop(count, (i) => client.diff(`g-${run}-${i}`, shared)),
    );
    client.close();
    child.kill();
  };

  await resubmitted();
  await fivePercentNew();
  await throughGrpc();
  await newDags();
  removeJournals();
}
