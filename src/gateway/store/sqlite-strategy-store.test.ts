import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { sha256Hex } from '../../common/hash.js';
import { StrategyEvent, StrategyStatus } from '../strategy-status.js';
import { SqliteStrategyStore, sqlitePathFromDsn } from './sqlite-strategy-store.js';
import type { InsertOutcome } from './strategy-store.js';
import { testStrategy, testStrategyStoreContract } from './strategy-store.contract.test-kit.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A database path in a new temporary directory (removed after the file's tests). */
function freshFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qmtl-store-'));
  dirs.push(dir);
  return join(dir, 'gateway.db');
}

testStrategyStoreContract('sqlite (file)', () => SqliteStrategyStore.open(`sqlite://${freshFile()}`));
testStrategyStoreContract('sqlite (:memory:)', () => SqliteStrategyStore.open(':memory:'));

describe('sqlitePathFromDsn', () => {
  it.each([
    ['sqlite:///abs/path.db', '/abs/path.db'],
    ['sqlite://rel.db', 'rel.db'],
    ['./qmtl.db', './qmtl.db'],
    [':memory:', ':memory:'],
    ['sqlite://', ':memory:'],
    ['', ':memory:'],
  ])('reads %j as %j', (dsn, path) => {
    expect(sqlitePathFromDsn(dsn)).toBe(path);
  });
});

describe('SqliteStrategyStore', () => {
  it('keeps everything across closing and reopening the file', async () => {
    const file = freshFile();
    const first = await SqliteStrategyStore.open(file);
    const strategy = testStrategy('a');
    await first.insert(strategy);
    await first.transition(
      strategy.id,
      StrategyStatus.Queued,
      StrategyStatus.Processing,
      StrategyEvent.Process,
      7,
    );
    await first.saveDiff(strategy.id, {
      sentinelId: 's',
      queueMap: { a: ['t1', 't2'] },
      topicMap: { b: 't3' },
    });
    await first.close();

    const reopened = await SqliteStrategyStore.open(`sqlite://${file}`);
    expect(await reopened.get(strategy.id)).toEqual({
      ...strategy,
      status: StrategyStatus.Processing,
      diff: { sentinelId: 's', queueMap: { a: ['t1', 't2'] }, topicMap: { b: 't3' } },
    });
    expect((await reopened.events(strategy.id)).map((event) => event.event)).toEqual(['INIT', 'PROCESS']);
    expect(await reopened.insert({ ...testStrategy('b'), dagHash: strategy.dagHash })).toMatchObject({
      inserted: false,
      existingId: strategy.id,
    });
    await reopened.close();
  });

  it("sees another store's writes on the same file, and shares its DAG hash dedupe", async () => {
    const file = freshFile();
    const [a, b] = await Promise.all([SqliteStrategyStore.open(file), SqliteStrategyStore.open(file)]);
    const strategy = testStrategy('a');
    await a.insert(strategy);
    expect(await b.get(strategy.id)).toMatchObject({ status: StrategyStatus.Queued });
    expect(await b.insert({ ...testStrategy('b'), dagHash: strategy.dagHash })).toEqual({
      inserted: false,
      existingId: strategy.id,
      existingStatus: StrategyStatus.Queued,
    });
    expect(
      await b.transition(strategy.id, StrategyStatus.Queued, StrategyStatus.Stopped, StrategyEvent.Stop, 1),
    ).toBe(true);
    expect(
      await a.transition(strategy.id, StrategyStatus.Queued, StrategyStatus.Processing, 'PROCESS', 2),
    ).toBe(false);
    expect(await a.insert({ ...testStrategy('c'), dagHash: strategy.dagHash })).toEqual({ inserted: true });
    await Promise.all([a.close(), b.close()]);
  });

  it('commits the writes of one event-loop turn together: each settles durable, a failing one alone', async () => {
    const file = freshFile();
    const store = await SqliteStrategyStore.open(file);
    const reader = await SqliteStrategyStore.open(file);
    const strategies = Array.from({ length: 50 }, (_, i) => testStrategy(`group-${i}`));
    const duplicateId = { ...testStrategy('other-hash'), id: strategies[0]!.id };
    const writes = Promise.allSettled([
      ...strategies.map((strategy) => store.insert(strategy)),
      store.insert(duplicateId),
      store.transition(strategies[1]!.id, StrategyStatus.Queued, StrategyStatus.Processing, 'PROCESS', 1),
    ]);
    // Same turn: nothing is committed yet (the group commits at setImmediate, in one transaction).
    expect(await reader.listByStatus([StrategyStatus.Queued])).toEqual([]);
    const outcomes = await writes;
    expect(outcomes.slice(0, 50).every((o) => o.status === 'fulfilled')).toBe(true);
    expect(outcomes[50]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.InvalidArgument } });
    expect(outcomes[51]).toEqual({ status: 'fulfilled', value: true });
    // Another connection (another process) sees every settled write: it was committed.
    expect(await reader.listByStatus([StrategyStatus.Queued])).toHaveLength(49);
    expect((await reader.get(strategies[1]!.id))?.status).toBe(StrategyStatus.Processing);
    await Promise.all([store.close(), reader.close()]);
  });

  it('lets two processes race on one file: each DAG hash gets exactly one holder, no busy errors', async () => {
    const file = freshFile();
    // Create the schema first so both children start straight with their inserts.
    await (await SqliteStrategyStore.open(file)).close();
    const [first = [], second = []] = await race(file);
    for (let hash = 0; hash < HASHES; hash += 1) {
      const outcomes = [...first, ...second].filter((result) => result.hash === hash);
      const winners = outcomes.filter((result) => result.outcome.inserted);
      expect(winners).toHaveLength(1);
      const holder = winners[0]!.id;
      for (const { outcome } of outcomes) {
        if (!outcome.inserted) expect(outcome.existingId).toBe(holder);
      }
    }
    const store = await SqliteStrategyStore.open(file);
    expect(await store.listByStatus([StrategyStatus.Queued])).toHaveLength(HASHES);
    await store.close();
  }, 60_000);

  it('rejects a file it cannot open as unavailable, naming the path', async () => {
    const missingDir = join(freshFile(), 'no', 'such', 'dir.db');
    await expect(SqliteStrategyStore.open(missingDir)).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringContaining(missingDir),
    });
  });
});

const HASHES = 20;
const PER_HASH = 10;

interface RaceResult {
  readonly hash: number;
  readonly id: string;
  readonly outcome: InsertOutcome;
}

interface Racer {
  readonly ready: Promise<void>;
  readonly go: () => void;
  readonly results: Promise<{ results: RaceResult[]; startedAt: number; endedAt: number }>;
}

/** Both children open the file, then insert only once both are ready, so their writes overlap. */
async function race(file: string): Promise<RaceResult[][]> {
  const racers = [racer(file, 'p1'), racer(file, 'p2')];
  await Promise.all(racers.map((child) => child.ready));
  for (const child of racers) child.go();
  const runs = await Promise.all(racers.map((child) => child.results));
  // The second child started inserting before the first one finished.
  expect(Math.max(...runs.map((run) => run.startedAt))).toBeLessThan(
    Math.min(...runs.map((run) => run.endedAt)),
  );
  return runs.map((run) => run.results);
}

/** A child process that inserts PER_HASH strategies for each of HASHES DAG hashes into `file`. */
function racer(file: string, name: string): Racer {
  const storeModule = fileURLToPath(new URL('./sqlite-strategy-store.ts', import.meta.url));
  const script = `
    const { once } = await import('node:events');
    const { SqliteStrategyStore } = await import(${JSON.stringify(storeModule)});
    const store = await SqliteStrategyStore.open(${JSON.stringify(file)});
    process.stderr.write('ready\\n');
    await once(process.stdin, 'data');
    const startedAt = Date.now();
    const results = [];
    for (let round = 0; round < ${PER_HASH}; round += 1) {
      for (let hash = 0; hash < ${HASHES}; hash += 1) {
        const id = ${JSON.stringify(name)} + '-' + hash + '-' + round;
        const outcome = await store.insert({
          id, dagHash: ${JSON.stringify(sha256Hex('race'))} + hash, dagJson: '{}', meta: null,
          runType: 'backtest', createdAt: Date.now(),
        });
        results.push({ hash, id, outcome });
      }
    }
    const endedAt = Date.now();
    await store.close();
    process.stdout.write(JSON.stringify({ results, startedAt, endedAt }));
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const ready = new Promise<void>((resolve) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('ready')) resolve();
    });
  });
  const results = once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`racer ${name} exited with ${String(code)}: ${stderr}`);
    return JSON.parse(stdout) as { results: RaceResult[]; startedAt: number; endedAt: number };
  });
  return {
    ready: Promise.race([ready, results.then(() => undefined)]),
    go: () => child.stdin.end('go\n'),
    results,
  };
}
