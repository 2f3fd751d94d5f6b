/**
 * QuestDBLoader's range reads against a real QuestDB: bounds far outside what QuestDB stores,
 * coverage of a long stream without reading its every row, and coverage of a table written by
 * hand (duplicates, misaligned timestamps, other streams) in agreement with the rows it holds.
 */
import { afterAll, expect, it, vi } from 'vitest';
import { QuestDBClient } from '../../src/io/questdb-client.js';
import { QuestDBLoader } from '../../src/io/questdb-loader.js';
import { QuestDBRecorder } from '../../src/io/questdb-recorder.js';
import { contiguousRanges } from '../../src/io/timestamp-runs.js';
import type { StreamKey } from '../../src/sdk/history/protocols.js';
import { T0, TestTables, questdbDsn as dsn } from '../support/questdb-tables.js';
import { describeWithServer, isReachable } from '../support/servers.js';

const key: StreamKey = { nodeId: 'btc', interval: 60 };

const reachable = await isReachable('questdb');
const tables = new TestTables('qmtl_ranges');
const { admin } = tables;

/** Records `timestamps` of the `btc` stream (close = index) and waits until they are visible. */
async function record(table: string, timestamps: readonly number[]): Promise<void> {
  const recorder = new QuestDBRecorder({ dsn, table, batchRows: 10_000 });
  for (const [i, ts] of timestamps.entries()) await recorder.persist('btc', 60, ts, { close: i });
  await recorder.close();
  await admin.waitForWal(table, 15_000);
}

describeWithServer('questdb', reachable, 'QuestDBLoader ranges (real server)', () => {
  afterAll(async () => {
    vi.restoreAllMocks();
    await tables.close();
  });

  it('reads every row between bounds far outside what QuestDB stores (they used to match nothing)', async () => {
    const table = tables.next();
    await record(table, [T0, T0 + 60]);
    const loader = new QuestDBLoader({ dsn, table });
    const bounds: [number, number][] = [
      [0, 1e13],
      [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      [-1e13, T0 + 60],
    ];
    for (const [start, end] of bounds) {
      expect(
        (await loader.fetch(start, end, key)).map((row) => row.ts),
        `[${start}, ${end})`,
      ).toEqual(end === T0 + 60 ? [T0] : [T0, T0 + 60]);
    }
    expect(await loader.fetch(1e13, 2e13, key)).toEqual([]);
    await loader.close();
  });

  it('finds the coverage of a long stream from its runs’ ends, not from its every row', async () => {
    const table = tables.next();
    const timestamps = Array.from({ length: 20_000 }, (_, i) => T0 + 60 * (i < 12_000 ? i : i + 5));
    await record(table, timestamps);
    const loader = new QuestDBLoader({ dsn, table });
    // Calls through to QuestDB, recording what each read returned.
    const reads = vi.spyOn(QuestDBClient.prototype, 'queryArrays');
    expect(await loader.coverage(key)).toEqual([
      [T0, T0 + 60 * 11_999],
      [T0 + 60 * 12_005, T0 + 60 * 20_004],
    ]);
    const results = await Promise.all(reads.mock.results.map((result) => result.value as Promise<unknown[]>));
    vi.restoreAllMocks();
    expect(results.map((rows) => rows.length)).toEqual([4]);
    await loader.close();
  });

  it('agrees with the rows it holds on a table written by hand: duplicates, misaligned rows, other streams', async () => {
    const table = tables.next();
    await admin.query(
      `CREATE TABLE "${table}" ("node_id" SYMBOL, "interval" LONG, "ts" TIMESTAMP, "close" DOUBLE) TIMESTAMP("ts") PARTITION BY DAY WAL`,
    );
    const own = [0, 60, 60, 120, 150, 210, 300, 300, 420, 480, 545].map((s) => T0 + s);
    const rows = [
      ...own.map((ts) => ['btc', 60, ts]),
      ...[90, 180, 240, 360].map((s) => ['btc', 30, T0 + s]),
      ...[180, 240, 360].map((s) => ['eth', 60, T0 + s]),
    ];
    for (const [nodeId, interval, ts] of rows) {
      await admin.query(`INSERT INTO "${table}" VALUES ($1, $2, cast($3 AS TIMESTAMP), 1.0)`, [
        nodeId,
        interval,
        (ts as number) * 1_000_000,
      ]);
    }
    await admin.waitForWal(table, 15_000);
    const loader = new QuestDBLoader({ dsn, table });
    expect(await loader.coverage(key)).toEqual(contiguousRanges(own, 60));
    expect(await loader.coverage(key)).toEqual([
      [T0, T0 + 120],
      [T0 + 150, T0 + 210],
      [T0 + 300, T0 + 300],
      [T0 + 420, T0 + 480],
      [T0 + 545, T0 + 545],
    ]);
    expect(await loader.coverage({ nodeId: 'nobody', interval: 60 })).toEqual([]);
    await loader.close();
  });
});
