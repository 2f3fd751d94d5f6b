/**
 * How long the memory repository's journal compaction stops the event loop, at several DAG
 * sizes: the synchronous compaction (what opening a journal does, and what a running service
 * did before compaction moved to the background) against the background compaction a write
 * starts, measured in the same run on the same graph. The nodes come from diffs of new
 * 1,000-node DAGs, as a service stores them.
 *   node --import tsx bench/dagmanager-journal.ts [sizes=25000,100000,200000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainDag } from '../src/dagmanager/dag.test-kit.js';
import { DagManager } from '../src/dagmanager/dag-manager.js';
import { GraphJournal } from '../src/dagmanager/graph-journal.js';
import type { GraphOperation } from '../src/dagmanager/memory-graph.js';
import { MemoryNodeRepository } from '../src/dagmanager/memory-node-repository.js';
import { MemoryQueueAdmin } from '../src/dagmanager/memory-queue-admin.js';

const sizes = (process.argv[2] ?? '25000,100000,200000').split(',').map(Number);
const directory = mkdtempSync(join(tmpdir(), 'qmtl-journal-bench-'));

/** Runs `work`, sampling the event loop with a setImmediate chain; returns [ms, longest stall ms]. */
async function withStalls(work: () => Promise<void> | void): Promise<[number, number]> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const start = performance.now();
  await work();
  const elapsed = performance.now() - start;
  running = false;
  await new Promise((resolve) => setImmediate(resolve));
  return [elapsed, Math.max(longest, performance.now() - last)];
}

const repo = MemoryNodeRepository.open();
const admin = new MemoryQueueAdmin();
const manager = new DagManager({ repo, admin, topics: { ensure: (spec) => admin.createTopic(spec) } });
let stored = 0;
console.log('Memory repository journal compaction, ms (longest event-loop stall / whole compaction)');
console.log('| nodes | journal MB | synchronous: stall | background: longest stall | background: whole |');
console.log('|---|---|---|---|---|');
for (const size of sizes) {
  for (; stored < size; stored += 1000)
    await manager.diff(`s${stored}`, JSON.stringify(chainDag(1000, `n${stored}-`)));
  const operations: GraphOperation[] = [{ op: 'nodes', records: [...repo.records()] }];
  const path = join(directory, `journal-${size}`);
  const foreground = new GraphJournal(path, () => operations, 1);
  const [synchronous] = await withStalls(() => foreground.compactNow());
  const background = new GraphJournal(path, () => operations, 1);
  background.append({ op: 'orphaned', since: [] });
  const [whole, stall] = await withStalls(async () => {
    background.compactIfDue();
    await background.idle();
  });
  const bytes = statSync(path).size;
  const f = (x: number): string => x.toFixed(1);
  console.log(`| ${size} | ${(bytes / 1e6).toFixed(0)} | ${f(synchronous)} | ${f(stall)} | ${f(whole)} |`);
}
await manager.close();
rmSync(directory, { recursive: true, force: true });
