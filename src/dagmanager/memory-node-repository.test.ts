import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { testNodeRepositoryContract, testRecord } from './node-repository.contract.test-kit.js';

const journals = new WeakMap<object, string>();
const freshJournal = (): string => join(mkdtempSync(join(tmpdir(), 'qmtl-repo-')), 'dag.journal');

testNodeRepositoryContract('memory (no file)', {
  create: () => Promise.resolve(MemoryNodeRepository.open()),
});

testNodeRepositoryContract('memory (journal file)', {
  create: () => {
    const path = freshJournal();
    const repo = MemoryNodeRepository.open(path);
    journals.set(repo, path);
    return Promise.resolve(repo);
  },
  reopen: (repo) => Promise.resolve(MemoryNodeRepository.open(journals.get(repo))),
});

describe('MemoryNodeRepository journal', () => {
  it('replays a weight journalled without its time as pending since 0, and expires it', async () => {
    const path = freshJournal();
    // A bare sentinel as earlier versions journalled it: no `at`, and no bound on how many.
    writeFileSync(path, `${JSON.stringify({ op: 'weight', sentinelId: 'legacy', weight: 0.5 })}\n`);
    const repo = MemoryNodeRepository.open(path);
    expect(await repo.getSentinel('legacy')).toEqual({
      sentinelId: 'legacy',
      strategyId: '',
      createdAt: 0,
      nodeIds: [],
      weight: 0.5,
    });
    expect(await repo.setSentinelWeight('new', 0.1, { now: 5, limit: 1 })).toBe('full');
    expect(await repo.expirePendingWeights(1)).toEqual(['legacy']);
    expect(await MemoryNodeRepository.open(path).getSentinel('legacy')).toBeNull();
  });

  it('compacts the journal on open to one snapshot of the current graph', async () => {
    const path = freshJournal();
    const repo = MemoryNodeRepository.open(path);
    const a = testRecord('a');
    await repo.createNodes([a]);
    for (let i = 0; i < 101; i++) await repo.clearBuffering([a.nodeId]);
    expect(readFileSync(path, 'utf8').trim().split('\n').length).toBeGreaterThan(100);
    const reopened = MemoryNodeRepository.open(path);
    expect(readFileSync(path, 'utf8').trim().split('\n').length).toBeLessThan(5);
    expect((await reopened.getNodes([a.nodeId])).get(a.nodeId)).toEqual(a);
  });

  it('compacts while running, so a long-lived service keeps a journal the size of its DAG', async () => {
    const path = freshJournal();
    const repo = MemoryNodeRepository.open(path, { compactAfterBytes: 4096 });
    const records = ['a', 'b', 'c'].map((seed) => testRecord(seed));
    const ids = records.map((r) => r.nodeId);
    await repo.createNodes(records);
    let largest = 0;
    // A strategy resubmitted over and over: every attach and release appends its node ids.
    for (let i = 0; i < 300; i++) {
      await repo.attachStrategy(`s${i % 7}`, ids, i);
      if (i % 3 === 0) await repo.releaseStrategy(`s${(i + 3) % 7}`, i);
      await repo.idle();
      largest = Math.max(largest, statSync(path).size);
    }
    const appendedAtLeast = 300 * 3 * 64;
    expect(largest).toBeLessThan(3 * 4096);
    expect(largest).toBeLessThan(appendedAtLeast / 4);
    const reopened = MemoryNodeRepository.open(path);
    for (let k = 0; k < 7; k++)
      expect(await reopened.strategyRoles(`s${k}`)).toEqual(await repo.strategyRoles(`s${k}`));
    expect(await reopened.listOrphanQueues()).toEqual(await repo.listOrphanQueues());
    expect(await reopened.getNodes(ids)).toEqual(await repo.getNodes(ids));
  });

  it('compacts in the background: the write returns first, and what is written meanwhile is kept', async () => {
    const path = freshJournal();
    // Syncs that need no disk, so that no await below lets the compaction's file I/O run.
    const repo = MemoryNodeRepository.open(path, {
      compactAfterBytes: 16_384,
      syncJournal: () => Promise.resolve(),
    });
    const lines = (): number => readFileSync(path, 'utf8').trim().split('\n').length;
    const first = Array.from({ length: 5 }, (_, i) => testRecord(`a${i}`));
    await repo.createNodes(first);
    for (let i = 0; i < 60; i++) await repo.clearBuffering([first[0]!.nodeId]);
    // This write crosses the threshold.
    const second = Array.from({ length: 30 }, (_, i) => testRecord(`b${i}`));
    await repo.createNodes(second);
    const late = [testRecord('late-1'), testRecord('late-2')];
    await repo.createNodes(late);
    await repo.attachStrategy('s1', [first[0]!.nodeId], 1);
    await repo.attachStrategy('s2', [late[0]!.nodeId], 2);
    await repo.releaseStrategy('s1', 3);
    expect(lines()).toBeGreaterThan(60);
    await repo.idle();
    expect(lines()).toBeLessThan(12);
    const ids = [...first, ...second, ...late].map((r) => r.nodeId);
    await repo.close();
    const reopened = MemoryNodeRepository.open(path);
    expect(await reopened.getNodes(ids)).toEqual(await repo.getNodes(ids));
    expect(await reopened.strategyRoles('s2')).toEqual(new Map([[late[0]!.nodeId, 'producer']]));
    expect(await reopened.strategyRoles('s1')).toEqual(new Map());
    expect(await reopened.listOrphanQueues()).toEqual(await repo.listOrphanQueues());
  });

  it('keeps serving when a compaction fails, and compacts once it can', async () => {
    const path = freshJournal();
    const repo = MemoryNodeRepository.open(path, { compactAfterBytes: 4096 });
    const lines = (): number => readFileSync(path, 'utf8').trim().split('\n').length;
    mkdirSync(`${path}.compact`); // the compaction's file cannot be opened
    const records = Array.from({ length: 10 }, (_, i) => testRecord(`n${i}`));
    const ids = records.map((r) => r.nodeId);
    await repo.createNodes(records);
    const churn = async (times: number): Promise<void> => {
      for (let i = 0; i < times; i++) {
        await repo.attachStrategy('s', ids, i);
        await repo.releaseStrategy('s', i);
        await repo.idle();
      }
    };
    await churn(20);
    expect(lines()).toBeGreaterThan(40);
    expect((await repo.strategyRoles('s')).size).toBe(0);
    rmdirSync(`${path}.compact`);
    await churn(20);
    expect(lines()).toBeLessThan(40);
    const reopened = MemoryNodeRepository.open(path);
    expect((await reopened.getNodes(ids)).size).toBe(10);
  });

  it('answers a write once its journal line is synced to disk, and names the journal when the sync fails', async () => {
    const path = freshJournal();
    const synced: string[] = [];
    let release!: () => void;
    let failNext = false;
    const repo = MemoryNodeRepository.open(path, {
      syncJournal: (file) => {
        if (failNext) return Promise.reject(new Error('EIO: i/o error, fdatasync'));
        return new Promise((resolve) => (release = () => resolve(void synced.push(file))));
      },
    });
    const a = testRecord('a');
    // Nodes are answered at once (a diff creates them under its naming lock); its attach waits.
    await repo.createNodes([a]);
    let answered = false;
    const write = repo.attachStrategy('s0', [a.nodeId], 1).then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(answered).toBe(false);
    expect(readFileSync(path, 'utf8')).toContain('"s0"');
    release();
    await write;
    expect(synced).toEqual([path]);
    const released = repo.releaseStrategy('s0', 2);
    await new Promise((resolve) => setTimeout(resolve, 1));
    release();
    await released;
    expect(synced).toEqual([path, path]);

    failNext = true;
    const failed = repo.attachStrategy('s1', [a.nodeId], 3);
    await expect(failed).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    await expect(failed).rejects.toThrow(`DAG Manager journal "${path}" could not be synced to disk: EIO`);
    await repo.close();
    // The line stays in the file: what the failed sync did not confirm is still there.
    expect(await MemoryNodeRepository.open(path).strategyRoles('s1')).toEqual(
      new Map([[a.nodeId, 'producer']]),
    );
  });

  it('keeps lineages and users right through drops, shared nodes and a restart', async () => {
    const path = freshJournal();
    const repo = MemoryNodeRepository.open(path);
    const [v1, v2, v3] = [1, 2, 3].map((version) =>
      testRecord(`v${version}`, { configHash: 'cfg', version, topic: `asset_EMA_v${version}` }),
    );
    const other = testRecord('other', { nodeType: 'SMA', configHash: 'cfg', topic: 'asset_SMA_v1' });
    await repo.createNodes([v1!, v2!, v3!, other]);
    const lineage = async (r: MemoryNodeRepository): Promise<number[]> =>
      (await r.getLineages([{ nodeType: 'EMA', configHash: 'cfg' }])).map((record) => record.version);
    expect(await lineage(repo)).toEqual([1, 2, 3]);
    // v2 used by two strategies, then by one, then by none: dropped only then.
    await repo.attachStrategy('a', [v2!.nodeId], 1);
    await repo.attachStrategy('b', [v2!.nodeId, v2!.nodeId], 2);
    await repo.releaseStrategy('a', 3);
    expect(await repo.dropQueue(v2!.topic)).toBe(false);
    await repo.releaseStrategy('b', 4);
    expect((await repo.listOrphanQueues()).find((q) => q.nodeId === v2!.nodeId)?.orphanedSince).toBe(4);
    expect(await repo.dropQueue(v2!.topic)).toBe(true);
    expect(await repo.dropQueue(v1!.topic)).toBe(true);
    expect(await lineage(repo)).toEqual([3]);
    expect(await repo.getLineages([{ nodeType: 'SMA', configHash: 'cfg' }])).toEqual([other]);
    expect(await lineage(MemoryNodeRepository.open(path))).toEqual([3]);
    await repo.createNodes([v1!]);
    expect(await lineage(repo)).toEqual([3, 1]);
    expect(await repo.dropQueue(v3!.topic)).toBe(true);
    expect(await repo.dropQueue(v1!.topic)).toBe(true);
    expect(await lineage(repo)).toEqual([]);
  });

  it('drops a torn last line (a crash mid-append) and keeps everything before it', async () => {
    const path = freshJournal();
    const repo = MemoryNodeRepository.open(path);
    const a = testRecord('a');
    await repo.createNodes([a]);
    appendFileSync(path, '{"op":"nodes","records":[{"nodeId":"tor');
    expect((await MemoryNodeRepository.open(path).getNodes([a.nodeId])).size).toBe(1);
  });

  it('refuses a journal corrupt in the middle, naming the file and line', () => {
    const path = freshJournal();
    writeFileSync(path, 'not json\n{"op":"drop","topic":"x"}\n');
    expect(() => MemoryNodeRepository.open(path)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidConfig, message: expect.stringContaining('line 1') }),
    );
  });

  it('names the file and line of a well-formed line that is not an operation, and a path that is a directory', () => {
    const path = freshJournal();
    writeFileSync(path, '{"op":"nodes"}\n');
    expect(() => MemoryNodeRepository.open(path)).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidConfig,
        message: expect.stringMatching(/^DAG Manager journal ".*" is corrupt at line 1: /),
      }),
    );
    expect(() => MemoryNodeRepository.open(dirname(path))).toThrow(
      /\(memory_repo_path\) cannot be read: EISDIR/,
    );
  });
});

describe('MemoryNodeRepository journal lock', () => {
  /** A process that stays alive until killed, and its pid. */
  const liveProcess = () => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);

  it('refuses a journal another live process holds, naming it, and takes over a dead one', async () => {
    const journal = freshJournal();
    const other = liveProcess();
    try {
      writeFileSync(`${journal}.lock`, String(other.pid));
      expect(() => MemoryNodeRepository.open(journal)).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidConfig,
          message: expect.stringContaining(`is in use by process ${other.pid}`),
        }),
      );
    } finally {
      other.kill('SIGKILL');
      await once(other, 'exit');
    }
    // The holder was killed: its lock is stale and taken over.
    const repo = MemoryNodeRepository.open(journal);
    expect(readFileSync(`${journal}.lock`, 'utf8')).toBe(String(process.pid));
    await repo.close();
    expect(existsSync(`${journal}.lock`)).toBe(false);
  });
});
