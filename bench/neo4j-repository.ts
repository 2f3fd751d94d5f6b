/**
 * Neo4jNodeRepository on the loopback test server (`bash .ci/servers.sh start neo4j`): latency of
 * each DAG-Manager call on a `nodes`-node DAG and of the diffs made of them, p50/p95 over `runs`
 * runs, then the resubmit diff (getNodes + attachStrategy) offered at `rate` requests/s for
 * `seconds` s (0 skips it). Writes only data under a fresh run id and deletes it afterwards.
 *   node --import tsx bench/neo4j-repository.ts [nodes=1000] [runs=30] [rate=50] [seconds=10]
 */
import neo4j from 'neo4j-driver';
import { Neo4jNodeRepository } from '../src/dagmanager/neo4j-node-repository.js';
import { testRecord } from '../src/dagmanager/node-repository.contract.test-kit.js';
import type { NodeRecord } from '../src/dagmanager/node-record.js';

const nodes = Number(process.argv[2] ?? 1000);
const runs = Number(process.argv[3] ?? 30);
const rate = Number(process.argv[4] ?? 50);
const seconds = Number(process.argv[5] ?? 10);
const options = {
  uri: `bolt://${process.env['QMTL_TEST_NEO4J'] ?? '127.0.0.1:7687'}`,
  user: 'neo4j',
  password: 'unused',
};
const runId = `bench_${Date.now().toString(36)}_${process.pid}`;

/** A DAG of `nodes` records in distinct lineages (a chain: each node's input is the previous). */
function dag(seed: string): NodeRecord[] {
  const records: NodeRecord[] = [];
  for (let i = 0; i < nodes; i++) {
    const record = testRecord(`${runId}:${seed}:${i}`, {
      inputs: i === 0 ? [] : [records[i - 1]!.nodeId],
      tags: ['bench', `t${i % 13}`],
      topic: `${runId}_${seed}_${i}_v1`,
    });
    records.push(record);
  }
  return records;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50).toFixed(1);
  const p95 = percentile(sorted, 95).toFixed(1);
  return `| ${name.padEnd(36)} | ${p50.padStart(8)} | ${p95.padStart(8)} |`;
}

async function cleanUp(): Promise<void> {
  const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
  const session = driver.session();
  try {
    for (const match of [
      'MATCH (q:Queue) WHERE q.topic STARTS WITH $prefix OPTIONAL MATCH (c:ComputeNode)-[:EMITS]->(q)',
      'MATCH (s:Strategy) WHERE s.strategy_id STARTS WITH $prefix',
      'MATCH (v:VersionSentinel) WHERE v.version STARTS WITH $prefix',
    ]) {
      const deleted = match.includes('(c:') ? 'q, c' : match.includes('(s:') ? 's' : 'v';
      await session.run(
        `${match} CALL (${deleted}) { DETACH DELETE ${deleted} } IN TRANSACTIONS OF 2000 ROWS`,
        { prefix: runId },
      );
    }
  } finally {
    await session.close();
    await driver.close();
  }
}

/** Per-call samples, in the order the calls are first recorded. */
class Samples {
  readonly byName = new Map<string, number[]>();

  async time<T>(name: string, counted: boolean, action: () => Promise<T>): Promise<T> {
    const began = performance.now();
    const result = await action();
    if (counted) this.add(name, performance.now() - began);
    return result;
  }

  add(name: string, ms: number): void {
    const list = this.byName.get(name) ?? [];
    list.push(ms);
    this.byName.set(name, list);
  }
}

/**
 * Each run diffs a new DAG the way `DiffService` does (getNodes, getLineages, takenTopics,
 * createNodes, attachStrategy, upsertSentinel), resubmits it, submits it as a second strategy,
 * and releases that one. The first 3 runs warm the query plans and the JIT and are not counted.
 */
async function latencies(repo: Neo4jNodeRepository): Promise<void> {
  const samples = new Samples();
  for (let run = 0; run < runs + 3; run++) {
    const counted = run >= 3;
    const time = <T>(name: string, action: () => Promise<T>): Promise<T> =>
      samples.time(name, counted, action);
    const records = dag(`latency${run}`);
    const ids = records.map((r) => r.nodeId);
    const producer = `${runId}_producer${run}`;
    const consumer = `${runId}_consumer${run}`;

    let began = performance.now();
    await time('getNodes (none exist)', () => repo.getNodes(ids));
    await time('getLineages', () =>
      repo.getLineages(records.map((r) => ({ nodeType: r.nodeType, configHash: r.configHash }))),
    );
    await time('takenTopics', () => repo.takenTopics(records.map((r) => r.topic)));
    await time('createNodes (new nodes)', () => repo.createNodes(records));
    await time('attachStrategy (claims producers)', () => repo.attachStrategy(producer, ids, run));
    await time('upsertSentinel', () =>
      repo.upsertSentinel({
        sentinelId: `${runId}_sentinel${run}`,
        strategyId: producer,
        createdAt: run,
        nodeIds: ids,
      }),
    );
    if (counted) samples.add('= diff of a new DAG', performance.now() - began);

    began = performance.now();
    await time('getNodes (all exist)', () => repo.getNodes(ids));
    await time('attachStrategy (again, idempotent)', () => repo.attachStrategy(producer, ids, run));
    if (counted) samples.add('= diff of a resubmitted DAG', performance.now() - began);

    began = performance.now();
    await time('getNodes (all exist)', () => repo.getNodes(ids));
    await time('attachStrategy (consumer)', () => repo.attachStrategy(consumer, ids, run));
    if (counted) samples.add('= diff of the DAG by a 2nd strategy', performance.now() - began);

    await time('createNodes (all exist)', () => repo.createNodes(records));
    await time('releaseStrategy', () => repo.releaseStrategy(consumer, run));
  }
  console.log(`\n${nodes} nodes per call, ${runs} runs (ms):\n`);
  console.log(`| ${'call'.padEnd(36)} |      p50 |      p95 |`);
  console.log(`| ${'-'.repeat(36)} | -------: | -------: |`);
  for (const [name, list] of samples.byName) console.log(summary(name, list));
}

/**
 * Open-loop load: every 1000/rate ms a resubmission of one of 10 known strategies starts
 * (getNodes + attachStrategy, the Neo4j part of a diff whose nodes all exist), whether or not
 * earlier ones finished.
 */
async function load(repo: Neo4jNodeRepository): Promise<void> {
  const strategies = Array.from({ length: 10 }, (_, i) => ({
    id: `${runId}_load${i}`,
    records: dag(`load${i}`),
  }));
  for (const strategy of strategies) {
    await repo.createNodes(strategy.records);
    await repo.attachStrategy(
      strategy.id,
      strategy.records.map((r) => r.nodeId),
      0,
    );
  }
  const samples: number[] = [];
  const total = Math.round(rate * seconds);
  const began = performance.now();
  const requests: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = began + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const strategy = strategies[i % strategies.length]!;
    const ids = strategy.records.map((r) => r.nodeId);
    const request = async (): Promise<void> => {
      const start = performance.now();
      await repo.getNodes(ids);
      await repo.attachStrategy(strategy.id, ids, i);
      samples.push(performance.now() - start);
    };
    requests.push(request());
  }
  await Promise.all(requests);
  const elapsed = (performance.now() - began) / 1000;
  console.log(
    `\nresubmit load, ${rate}/s offered for ${seconds} s, ${(total / elapsed).toFixed(1)}/s done (ms):\n`,
  );
  console.log(`| ${'getNodes + attachStrategy'.padEnd(36)} |      p50 |      p95 |`);
  console.log(`| ${'-'.repeat(36)} | -------: | -------: |`);
  console.log(summary(`${nodes} nodes, ${total} requests`, samples));
}

const repo = await Neo4jNodeRepository.connect(options);
try {
  await latencies(repo);
  if (seconds > 0) await load(repo);
} finally {
  await repo.close();
  await cleanUp();
}
