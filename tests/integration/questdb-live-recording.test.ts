/**
 * A dry run recording its live bars to a real QuestDB: the run stores them before it ends, only
 * the rows its node cache took (a backtest over the recording computes what the run did), and
 * when QuestDB is away at the end the run (and `qmtl run`, which then exits) says what it did not
 * store instead of retrying for ever.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';
import { logger } from '../../src/common/logger.js';
import { QuestDBLoader } from '../../src/io/questdb-loader.js';
import { QuestDBRecorder } from '../../src/io/questdb-recorder.js';
import { MemoryHistoryProvider } from '../../src/sdk/history/memory-history-provider.js';
import { ReplayFeed } from '../../src/sdk/live/feeds/replay-feed.js';
import {
  B1,
  B3,
  INTERVAL,
  LATE_ROWS,
  LIVE_SUMS,
  listFeed,
  summingStrategy,
} from '../../src/sdk/live/late-rows.test-kit.js';
import { ProcessingNode } from '../../src/sdk/processing-node.js';
import { Runner } from '../../src/sdk/runner/runner.js';
import { StreamInput } from '../../src/sdk/stream-input.js';
import { Strategy } from '../../src/sdk/strategy.js';
import { TestTables, questdbDsn as dsn } from '../support/questdb-tables.js';
import { describeWithServer, isReachable } from '../support/servers.js';
import { freePort } from '../support/service-process.js';

const START = Date.UTC(2024, 0, 1) / 1000;
const BARS = 50;
const rows = Array.from({ length: BARS }, (_, i) => ({ ts: START + 60 * i, close: 100 + i }));
const range = { startTime: START, endTime: START + 60 * (BARS - 1) };
const root = fileURLToPath(new URL('../..', import.meta.url));
const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-live-recording-'));
writeFileSync(path.join(workDir, 'package.json'), JSON.stringify({ type: 'module' }));

const reachable = await isReachable('questdb');
const tables = new TestTables('qmtl_live_rec');

/** A strategy replaying {@link rows} live, recorded by `recorder`. */
function recordedStrategy(recorder: QuestDBRecorder): new () => Strategy {
  return class Recorded extends Strategy {
    setup(): void {
      const price = new StreamInput({
        tags: ['BTC', 'live-recording'],
        interval: 60,
        period: 1,
        liveFeed: new ReplayFeed({ provider: new MemoryHistoryProvider(rows) }),
        eventRecorder: recorder,
      });
      const close = new ProcessingNode({
        name: 'close',
        input: price,
        interval: 60,
        period: 1,
        computeFn: (view) => view.input<{ close: number }>().latest()?.close ?? null,
      });
      this.addNodes([price, close]);
    }
  };
}

describeWithServer('questdb', reachable, 'a dry run recording to QuestDB (real server)', () => {
  afterAll(async () => {
    vi.restoreAllMocks();
    await tables.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('stores its bars before it ends, with no flush or close of its own', async () => {
    const table = tables.next();
    // The timer alone would send them a minute after the run ended.
    const recorder = new QuestDBRecorder({ dsn, table, flushIntervalMs: 60_000 });
    const run = await Runner.dryrun(recordedStrategy(recorder), range);
    await run.done;
    expect(recorder.pending).toBe(0);
    expect(run.recordingError).toBeNull();
    expect(await tables.count(table)).toBe(BARS);
    await recorder.close();
  });

  it('keeps the bar a late row of an older bucket would overwrite, and records a correction of the newest', async () => {
    const table = tables.next();
    const recorder = new QuestDBRecorder({ dsn, table, flushIntervalMs: 60_000 });
    // The stream reads its history from the table it records to (its source is in its node id).
    const loader = new QuestDBLoader({ dsn, table });
    try {
      const live = summingStrategy({
        liveFeed: listFeed(LATE_ROWS),
        eventRecorder: recorder,
        historyProvider: loader,
      });
      const run = await Runner.dryrun(live.Summing, {
        startTime: B1,
        endTime: B3 + INTERVAL,
        keepOutputs: 'all',
      });
      await run.done;
      await recorder.close();
      expect(run.outputs(live.sum()).toArray()).toEqual(LIVE_SUMS);
      await tables.admin.waitForWal(table, 15_000);
      const key = { nodeId: run.strategy.nodes[0]!.nodeId, interval: INTERVAL };
      const recorded = await loader.fetch(B1, B3 + INTERVAL, key);
      expect(recorded.map((row) => [row.ts, row['close']])).toEqual([
        [B1, 1],
        [B1 + INTERVAL, 2],
        [B3, 30],
      ]);
      // A backtest over the recording computes what the live run did.
      const replayed = summingStrategy({ historyProvider: loader });
      const backtest = await Runner.backtest(replayed.Summing, {
        startTime: B1,
        endTime: B3,
        keepOutputs: 'all',
      });
      expect(backtest.outputs(replayed.sum()).toArray()).toEqual(LIVE_SUMS);
    } finally {
      await loader.close();
    }
  });

  it('says which bars it did not store when QuestDB is away as it ends', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const ilp = `http://127.0.0.1:${await freePort()}`;
    const recorder = new QuestDBRecorder({ dsn, table: tables.next(), ilp, flushIntervalMs: 60_000 });
    const run = await Runner.dryrun(recordedStrategy(recorder), range);
    await run.done;
    expect(run.recordingError?.message).toBe(
      `QuestDB ILP/HTTP is unreachable at ${ilp}/write?precision=n: fetch failed (connect ECONNREFUSED ${ilp.slice('http://'.length)}) (${BARS} rows kept; sent again in 60000 ms)`,
    );
    await recorder.close().catch(() => undefined);
  });

  it('qmtl run exits 1 naming the bars not stored, instead of retrying for ever', async () => {
    const ilp = `http://127.0.0.1:${await freePort()}`;
    const file = path.join(workDir, 'recorded.ts');
    const entry = (module: string): string => JSON.stringify(path.join(root, 'src', module));
    writeFileSync(
      file,
      `import { MemoryHistoryProvider, ProcessingNode, ReplayFeed, Strategy, StreamInput } from ${entry('sdk/index.ts')};
import { QuestDBRecorder } from ${entry('io/index.ts')};

const rows = ${JSON.stringify(rows)};
export class Recorded extends Strategy {
  setup(): void {
    const recorder = new QuestDBRecorder({ dsn: ${JSON.stringify(dsn)}, table: ${JSON.stringify(tables.next())}, ilp: ${JSON.stringify(ilp)} });
    const price = new StreamInput({ tags: ['BTC'], interval: 60, period: 1, liveFeed: new ReplayFeed({ provider: new MemoryHistoryProvider(rows) }), eventRecorder: recorder });
    this.addNodes([price, new ProcessingNode({ name: 'close', input: price, interval: 60, period: 1, computeFn: (view) => view.input().latest() })]);
  }
}
`,
    );
    const args = ['run', `${file}:Recorded`, '--mode', 'dryrun'];
    args.push('--start-time', String(range.startTime), '--end-time', String(range.endTime));
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args],
        { cwd: root, timeout: 30_000, env: { ...process.env, QMTL_LOG_LEVEL: 'silent' } },
        (_error, _stdout, stderrText) => resolve({ code: child.exitCode, stderr: stderrText }),
      );
    });
    expect(code).toBe(1);
    expect(stderr).toContain(
      `the run ended with bars its event recorder did not store, lost when this process ends: QuestDB ILP/HTTP is unreachable at ${ilp}/write?precision=n: fetch failed (connect ECONNREFUSED ${ilp.slice('http://'.length)}) (${BARS} rows kept`,
    );
  }, 40_000);
});
