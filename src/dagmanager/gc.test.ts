import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GC_POLICY, GarbageCollector } from './gc.js';
import { dagManagerMetrics } from './metrics.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';
import type { TopicKind } from './node-record.js';
import { testRecord } from './node-repository.contract.test-kit.js';
import { FileObjectStore, ObjectStoreArchive } from './queue-archive.js';

const DAY = 24 * 3600 * 1000;
const T0 = 1_700_000_000_000;

async function world(kinds: TopicKind[], options: { load?: number; batchSize?: number } = {}) {
  const repo = MemoryNodeRepository.open();
  const admin = new MemoryQueueAdmin();
  const records = kinds.map((kind, i) =>
    testRecord(`q${i}`, { kind, topic: `topic_${i}_${kind}`, createdAt: T0 }),
  );
  await repo.createNodes(records);
  for (const r of records)
    await admin.createTopic({ name: r.topic, partitions: 1, replicationFactor: 1, retentionMs: 1 });
  const root = mkdtempSync(join(tmpdir(), 'qmtl-archive-'));
  let now = T0;
  const dropped: string[] = [];
  const gc = new GarbageCollector({
    repo,
    admin,
    now: () => now,
    archive: new ObjectStoreArchive(new FileObjectStore(root), 'queues'),
    brokerLoad: () => Promise.resolve(options.load ?? 0),
    ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
    onDropped: (queues) => dropped.push(...queues.map((q) => q.topic)),
  });
  return { repo, admin, gc, records, root, dropped, at: (ms: number) => (now = ms) };
}

describe('GarbageCollector', () => {
  it('drops an orphan exactly at ttl + grace, not a millisecond before', async () => {
    const { gc, admin, at } = await world(['raw']);
    const rule = DEFAULT_GC_POLICY.raw!;
    at(T0 + rule.ttlMs + rule.graceMs - 1);
    expect(await gc.collect()).toEqual([]);
    at(T0 + rule.ttlMs + rule.graceMs);
    expect((await gc.collect()).map((q) => q.topic)).toEqual(['topic_0_raw']);
    expect(await admin.listTopics()).toEqual([]);
  });

  it('applies the policy matrix by kind: raw 8 d, indicator 33 d, sentinel 210 d; trade_exec never', async () => {
    const { gc, at } = await world(['raw', 'indicator', 'sentinel', 'trade_exec']);
    at(T0 + 8 * DAY);
    expect((await gc.collect()).map((q) => q.kind)).toEqual(['raw']);
    at(T0 + 33 * DAY);
    expect((await gc.collect()).map((q) => q.kind)).toEqual(['indicator']);
    at(T0 + 209 * DAY);
    expect(await gc.collect()).toEqual([]);
    at(T0 + 210 * DAY);
    expect((await gc.collect()).map((q) => q.kind)).toEqual(['sentinel']);
    at(T0 + 10_000 * DAY);
    expect(await gc.collect()).toEqual([]);
    expect(await dagManagerMetrics.orphanQueueTotal.get()).toMatchObject({ values: [{ value: 1 }] });
  });

  it('archives sentinel queues before dropping them', async () => {
    const { gc, at, root } = await world(['sentinel']);
    at(T0 + 210 * DAY);
    await gc.collect();
    const files = readdirSync(join(root, 'queues'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^topic_0_sentinel-\d{8}T\d{6}\.json$/);
    expect(JSON.parse(readFileSync(join(root, 'queues', files[0]!), 'utf8'))).toMatchObject({
      topic: 'topic_0_sentinel',
    });
  });

  it('never collects a queue an active strategy uses; counts from when the last user left', async () => {
    const { gc, repo, records, at } = await world(['raw']);
    await repo.attachStrategy('s1', [records[0]!.nodeId], T0);
    at(T0 + 100 * DAY);
    expect(await gc.collect()).toEqual([]);
    await repo.releaseStrategy('s1', T0 + 100 * DAY);
    at(T0 + 107 * DAY);
    expect(await gc.collect()).toEqual([]);
    at(T0 + 108 * DAY);
    expect(await gc.collect()).toHaveLength(1);
  });

  it('processes at most a batch per run, halved when the broker load is 80 % or more', async () => {
    const kinds: TopicKind[] = Array.from({ length: 10 }, () => 'raw');
    const calm = await world(kinds, { batchSize: 4 });
    calm.at(T0 + 9 * DAY);
    expect(await calm.gc.collect()).toHaveLength(4);
    const busy = await world(kinds, { batchSize: 4, load: 80 });
    busy.at(T0 + 9 * DAY);
    expect(await busy.gc.collect()).toHaveLength(2);
    const tiny = await world(kinds, { batchSize: 1, load: 95 });
    tiny.at(T0 + 9 * DAY);
    expect(await tiny.gc.collect()).toHaveLength(1);
  });

  it('reports dropped queues and stamps gc_last_run_timestamp', async () => {
    const { gc, at, dropped } = await world(['raw', 'raw']);
    at(T0 + 9 * DAY);
    await gc.collect();
    expect(dropped.sort()).toEqual(['topic_0_raw', 'topic_1_raw']);
    expect(await dagManagerMetrics.orphanQueueTotal.get()).toMatchObject({ values: [{ value: 0 }] });
    expect(await dagManagerMetrics.gcLastRunTimestamp.get()).toMatchObject({
      values: [{ value: Math.floor((T0 + 9 * DAY) / 1000) }],
    });
  });

  it('keeps going when one queue fails and retries it next run', async () => {
    const { gc, admin, at } = await world(['raw', 'raw']);
    const original = admin.deleteTopic.bind(admin);
    let failOnce = true;
    admin.deleteTopic = (name: string) => {
      if (name === 'topic_0_raw' && failOnce) {
        failOnce = false;
        return Promise.reject(new Error('broker hiccup'));
      }
      return original(name);
    };
    at(T0 + 9 * DAY);
    expect((await gc.collect()).map((q) => q.topic)).toEqual(['topic_1_raw']);
    expect((await gc.collect()).map((q) => q.topic)).toEqual(['topic_0_raw']);
  });

  it('refuses archive keys that would escape the archive root', async () => {
    const store = new FileObjectStore(mkdtempSync(join(tmpdir(), 'qmtl-archive-')));
    await expect(store.putObject({ Bucket: 'b', Key: '../../etc/x', Body: '' })).rejects.toThrow(
      /escapes the archive root/,
    );
  });
});
