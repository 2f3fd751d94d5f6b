/**
 * Where a Neo4j diff's CPU goes: runs `count` diffs one after another (5 % new tail each, new
 * strategy each) and prints per-call wall time of the repository and CPU ms per diff of this
 * process and of the Neo4j JVM (read from /proc, pid given).
 *   node --import tsx bench/neo4j-diff-cpu.ts <neo4j-pid> [nodes=1000] [count=200] [newShare=0.05]
 */
import { readFileSync } from 'node:fs';
import { chainDag, withNewTail } from '../src/dagmanager/dag.test-kit.js';
import { DagManager } from '../src/dagmanager/dag-manager.js';
import { MemoryQueueAdmin } from '../src/dagmanager/memory-queue-admin.js';
import { Neo4jNodeRepository } from '../src/dagmanager/neo4j-node-repository.js';

const [pidArg, nodesArg = '1000', countArg = '200', shareArg = '0.05'] = process.argv.slice(2);
const nodes = Number(nodesArg);
const count = Number(countArg);
const tail = Math.round(nodes * Number(shareArg));
const run = Date.now().toString(36);
const jvmCpuMs = (): number => {
  const fields = readFileSync(`/proc/${pidArg}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};

const repo = await Neo4jNodeRepository.connect({
  uri: 'bolt://127.0.0.1:7687',
  user: 'neo4j',
  password: 'x',
});
const times = new Map<string, number[]>();
for (const name of ['getNodes', 'getLineages', 'takenTopics', 'createNodes', 'attachStrategy'] as const) {
  const original = (repo[name] as (...a: unknown[]) => Promise<unknown>).bind(repo);
  (repo as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
    const t0 = performance.now();
    try {
      return await original(...args);
    } finally {
      const list = times.get(name) ?? [];
      list.push(performance.now() - t0);
      times.set(name, list);
    }
  };
}
const admin = new MemoryQueueAdmin();
const manager = new DagManager({ repo, admin, topics: { ensure: (spec) => admin.createTopic(spec) } });
const base = chainDag(nodes, `shared-${run}-`).nodes;
const dagWithTail = (i: number): string =>
  JSON.stringify(withNewTail(base.slice(0, nodes - tail), nodes, `tail-${run}-${i}-`));
await manager.diff(`warm-${run}`, JSON.stringify({ nodes: base }));
for (let i = 0; i < 20; i++) await manager.diff(`w-${run}-${i}`, dagWithTail(-i - 1));
times.clear();
const texts = Array.from({ length: count }, (_, i) => dagWithTail(i));
const cpu0 = process.cpuUsage();
const jvm0 = jvmCpuMs();
const t0 = performance.now();
for (let i = 0; i < count; i++) await manager.diff(`s-${run}-${i}`, texts[i]!);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const jvm = jvmCpuMs() - jvm0;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${count} diffs of ${nodes} nodes (${tail} new): wall ${(wall / count).toFixed(1)} ms/diff`);
console.log(
  `CPU ms/diff: node ${((cpu.user + cpu.system) / 1000 / count).toFixed(1)}, neo4j ${(jvm / count).toFixed(1)}`,
);
for (const [name, list] of times) {
  const total = list.reduce((a, b) => a + b, 0);
  console.log(
    `  ${name}: ${list.length / count} calls/diff, median ${median(list).toFixed(2)} ms, ${(total / count).toFixed(2)} ms/diff`,
  );
}
await manager.close();
