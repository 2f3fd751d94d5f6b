/**
 * Rows a real QuestDB refuses (a string for a DOUBLE column): over ILP/HTTP QuestDB rejects the
 * whole batch, and the recorder splits it until only the refused rows are left out; over ILP/TCP
 * QuestDB answers nothing, so what it drops cannot be told apart (pinned here as documented).
 */
import { afterAll, beforeEach, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { logger } from '../../src/common/logger.js';
import { formatTime } from '../../src/common/time.js';
import { createIlpSender, type IlpSender } from '../../src/io/ilp-sender.js';
import { QuestDBLoader } from '../../src/io/questdb-loader.js';
import { QuestDBRecorder } from '../../src/io/questdb-recorder.js';
import { sdkMetrics } from '../../src/sdk/metrics.js';
import type { StreamKey } from '../../src/sdk/history/protocols.js';
import { T0, TestTables, questdbDsn as dsn } from '../support/questdb-tables.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const { host } = servers.questdb;
const key: StreamKey = { nodeId: 'btc', interval: 60 };
const BAD = new Set([49, 50]);

const reachable = await isReachable('questdb');
const tables = new TestTables('qmtl_refused');

/** The real ILP/HTTP sender, counting its requests. */
function countingSender(): IlpSender & { requests: number } {
  const http = createIlpSender(`http://${host}:9000`);
  const sender = {
    requests: 0,
    send(lines: string): Promise<void> {
      sender.requests += 1;
      return http.send(lines);
    },
    close: () => http.close(),
  };
  return sender;
}

/** Persists 100 bars, `close: i`, but a string for the rows in {@link BAD}. */
async function persistHundred(recorder: QuestDBRecorder): Promise<void> {
  for (let i = 0; i < 100; i++)
    await recorder.persist('btc', 60, T0 + 60 * i, { close: BAD.has(i) ? 'oops' : i });
}

async function storedCloses(table: string): Promise<unknown[]> {
  await tables.admin.waitForWal(table, 15_000);
  const loader = new QuestDBLoader({ dsn, table });
  try {
    return (await loader.fetch(T0, T0 + 60 * 100, key)).map((row) => row['close']);
  } finally {
    await loader.close();
  }
}

describeWithServer('questdb', reachable, 'QuestDBRecorder and rows QuestDB refuses (real server)', () => {
  afterAll(() => tables.close());
  beforeEach(() => () => vi.restoreAllMocks());

  it('stores the 98 good rows of a batch of 100 with 2 refused rows in the middle', async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const table = tables.next();
    const sender = countingSender();
    // close() sends the 100 rows as one batch.
    const recorder = new QuestDBRecorder({ dsn, table, sender, batchRows: 1000, flushIntervalMs: 60_000 });
    await persistHundred(recorder);
    const error = await recorder.close().catch((e: unknown) => e);

    expect(await storedCloses(table)).toEqual(
      Array.from({ length: 100 }, (_, i) => i).filter((i) => !BAD.has(i)),
    );
    expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^QuestDB refused 2 of 100 rows of table "${table}", which were dropped \\(the other 98 were written\\); ` +
          `the first, at ${formatTime(T0 + 60 * 49)}: .*cast error from protocol type: STRING to column type: DOUBLE`,
        's',
      ),
    );
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({
        table,
        rows: [49, 50].map((i) => ({
          ts: formatTime(T0 + 60 * i),
          reason: expect.stringContaining('cast error from protocol type: STRING to column type: DOUBLE'),
        })),
      }),
      'questdb refused rows: dropped',
    );
    const dropped = (await sdkMetrics.recorderRowsDroppedTotal.get()).values.find(
      (v) => v.labels.table === table && v.labels.reason === 'refused',
    );
    expect(dropped?.value).toBe(2);
    // 1 + 2 per refused row per halving (log2 100 < 7): the work is bounded by the bad rows.
    expect(sender.requests).toBeLessThanOrEqual(1 + 2 * 2 * 7);
  });

  it('over ILP/TCP keeps the rows before the first refused one; QuestDB drops the connection and the rest', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const table = tables.next();
    const recorder = new QuestDBRecorder({
      dsn,
      table,
      ilp: `tcp://${host}:9009`,
      batchRows: 1000,
      flushIntervalMs: 60_000,
    });
    await persistHundred(recorder);
    // The batch goes out whole and TCP confirms nothing: the flush succeeds. QuestDB closes the
    // connection at the first refused row; whether the recorder notices before close() is a race.
    await recorder.flush();
    await recorder
      .close()
      .catch((error: unknown) => expect(error).toMatchObject({ code: ErrorCode.Unavailable }));
    expect(await storedCloses(table)).toEqual(Array.from({ length: 49 }, (_, i) => i));
  });
});
