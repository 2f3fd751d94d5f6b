/**
 * Reliability plan, "malformed DAG", at the DAG Manager: generated hostile DAGs sent to the diff,
 * in process (10,000) and over gRPC on loopback (500). Each is rejected with an invalid-DAG error
 * (gRPC INVALID_ARGUMENT), and the journal of the file-backed repository is unchanged: nothing
 * was persisted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { baseDag, hostileDag } from '../dag/hostile-dag.test-kit.js';
import { DagManager } from './dag-manager.js';
import { DagManagerClient } from './grpc-client.js';
import { startGrpcServer } from './grpc-server.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';

/** The codes a rejected DAG may carry: all of them map to gRPC INVALID_ARGUMENT. */
const INVALID_DAG_CODES: readonly string[] = [
  ErrorCode.InvalidArgument,
  ErrorCode.InvalidDag,
  ErrorCode.InvalidNode,
  ErrorCode.InvalidInterval,
  ErrorCode.InvalidPeriod,
  ErrorCode.DagCycle,
  ErrorCode.UnknownInput,
  ErrorCode.DuplicateNodeId,
  ErrorCode.NodeIdMismatch,
];

let dir: string;
let journal: string;
let manager: DagManager;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qmtl-hostile-'));
  journal = join(dir, 'dagmanager.journal');
  const admin = new MemoryQueueAdmin();
  manager = new DagManager({
    repo: MemoryNodeRepository.open(journal),
    admin,
    topics: { ensure: (spec) => admin.createTopic(spec) },
  });
});
afterEach(async () => {
  await manager.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Checks that `diff` fails with one of the invalid-DAG codes. */
async function expectInvalidDag(diff: Promise<unknown>, why: string): Promise<void> {
  const error = await diff.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, why).toBeInstanceOf(QmtlError);
  expect(INVALID_DAG_CODES, `${why}: ${String(error)}`).toContain((error as QmtlError).code);
}

/** The journal's text: what the repository has persisted (opening it writes an empty snapshot). */
const journalText = (): string => (existsSync(journal) ? readFileSync(journal, 'utf8') : '');

describe('the diff under generated hostile DAGs', () => {
  it('rejects 10,000 in process with an invalid-DAG error and persists nothing', async () => {
    const before = journalText();
    await fc.assert(
      fc.asyncProperty(hostileDag, async ({ text, why }) => {
        await expectInvalidDag(manager.diff('hostile', text), why);
      }),
      { numRuns: 10_000 },
    );
    expect(journalText()).toBe(before);
    await manager.diff('valid', JSON.stringify(baseDag()));
    expect(journalText()).not.toBe(before);
  }, 120_000);

  it('rejects 500 over gRPC with an invalid-DAG error and persists nothing', async () => {
    const before = journalText();
    const server = await startGrpcServer(manager, { port: 0 });
    const client = new DagManagerClient(`127.0.0.1:${server.port}`, { deadlineMs: 10_000 });
    try {
      await fc.assert(
        fc.asyncProperty(hostileDag, async ({ text, why }) => {
          await expectInvalidDag(client.diff('hostile', text), why);
        }),
        { numRuns: 500 },
      );
      expect(journalText()).toBe(before);
    } finally {
      client.close();
      await server.close();
    }
  }, 120_000);
});
