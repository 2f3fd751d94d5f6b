import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  it('compacts the journal on open to one snapshot of the current graph', async () => {
    const path = freshJournal();
    const repo = MemoryNodeRepository.open(path);
    const a = testRecord('a');
    await repo.createNodes([a]);
    for (let i = 0; i < 50; i++) await repo.markBuffering([a.nodeId], i);
    for (let i = 0; i < 50; i++) await repo.clearBuffering([a.nodeId]);
    expect(readFileSync(path, 'utf8').trim().split('\n').length).toBeGreaterThan(100);
    const reopened = MemoryNodeRepository.open(path);
    expect(readFileSync(path, 'utf8').trim().split('\n').length).toBeLessThan(5);
    expect((await reopened.getNodes([a.nodeId])).get(a.nodeId)).toEqual(a);
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
});
