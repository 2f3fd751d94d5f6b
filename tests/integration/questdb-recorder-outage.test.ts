/**
 * QuestDBRecorder against a real QuestDB whose ILP/HTTP port sits behind a proxy the test takes
 * down and brings back: what an outage costs (sends, CPU) and what it loses, and rows QuestDB
 * would reject with the whole batch they are in.
 */
import { afterAll, beforeEach, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { logger } from '../../src/common/logger.js';
import { createIlpSender, type IlpSender } from '../../src/io/ilp-sender.js';
import { QuestDBLoader } from '../../src/io/questdb-loader.js';
import { QuestDBRecorder } from '../../src/io/questdb-recorder.js';
import type { StreamKey } from '../../src/sdk/history/protocols.js';
import { T0, TestTables, questdbDsn as dsn } from '../support/questdb-tables.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const { host } = servers.questdb;
const key: StreamKey = { nodeId: 'btc', interval: 60 };

const reachable = await isReachable('questdb');
const tables = new TestTables('qmtl_outage');
const { admin } = tables;

/** The real ILP/HTTP sender through `proxy`, counting the sends tried and the rows of each. */
function countingSender(proxy: TcpProxy): IlpSender & { tries: number; rowsPerSend: number[] } {
  const http = createIlpSender(`http://${proxy.address}`, { timeoutMs: 5_000 });
  const sender = {
    tries: 0,
    rowsPerSend: [] as number[],
    async send(lines: string): Promise<void> {
      sender.tries += 1;
      await http.send(lines);
      sender.rowsPerSend.push(lines.split('\n').length - 1);
    },
    close: () => http.close(),
  };
  return sender;
}

/**
 * A recorder (batches of 100, no timer) that stored `close: 0` at {@link T0} through `proxy`, which
 * is then taken down.
 */
async function recordingThroughOutage(proxy: TcpProxy): Promise<{
  table: string;
  sender: ReturnType<typeof countingSender>;
  recorder: QuestDBRecorder;
}> {
  const table = tables.next();
  const sender = countingSender(proxy);
  const recorder = new QuestDBRecorder({ dsn, table, sender, batchRows: 100, flushIntervalMs: 60_000 });
  await recorder.persist('btc', 60, T0, { close: 0 });
  await recorder.flush();
  await proxy.close();
  return { table, sender, recorder };
}

describeWithServer('questdb', reachable, 'QuestDBRecorder through an ILP outage (real server)', () => {
  let proxy: TcpProxy;

  afterAll(async () => {
    await tables.close();
  });
  beforeEach(async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    proxy = new TcpProxy({ host, port: 9000 });
    await proxy.listen();
    return async () => {
      vi.restoreAllMocks();
      await proxy.close();
    };
  });

  it('holds rows without a send per row while QuestDB is away, then sends them batchRows at a time', async () => {
    const { table, sender, recorder } = await recordingThroughOutage(proxy);
    for (let i = 1; i <= 5_000; i++) await recorder.persist('btc', 60, T0 + 60 * i, { close: i });
    // One failed send found the outage; the rest waits for the retry timer (a send per row used
    // to be tried, each with the whole buffer: 4,900 sends and seconds of CPU).
    expect(sender.tries).toBe(2);
    expect(recorder.pending).toBe(5_000);
    await proxy.listen();
    await recorder.close();
    expect(sender.rowsPerSend.slice(1)).toEqual(Array.from({ length: 50 }, () => 100));
    expect(await tables.count(table)).toBe(5_001);
  }, 60_000);

  it('loses only the row QuestDB refuses, not its batch nor every row held through the outage', async () => {
    const { table, recorder } = await recordingThroughOutage(proxy);
    // Row 150 puts a string into the DOUBLE column: QuestDB rejects the batch it is in.
    for (let i = 1; i <= 300; i++)
      await recorder.persist('btc', 60, T0 + 60 * i, { close: i === 150 ? 'oops' : i });
    await proxy.listen();
    const error = await recorder.close().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
    expect((error as Error).message).toMatch(
      /^QuestDB refused 1 of 100 rows of table ".*", which were dropped \(the other 99 were written\); the first, at 2023-11-15T00:44:00Z: /,
    );
    await admin.waitForWal(table, 15_000);
    const loader = new QuestDBLoader({ dsn, table });
    const stored = await loader.fetch(T0, T0 + 60 * 301, key);
    await loader.close();
    expect(stored.map((row) => row['close'])).toEqual(
      Array.from({ length: 301 }, (_, i) => i).filter((i) => i !== 150),
    );
  }, 60_000);

  it('refuses at persist a timestamp QuestDB would reject with its whole batch', async () => {
    const table = tables.next();
    const recorder = new QuestDBRecorder({ dsn, table, ilp: `http://${proxy.address}` });
    await recorder.persist('btc', 60, T0, { close: 1 });
    for (const timestamp of [-60, 9_223_372_080]) {
      await expect(recorder.persist('btc', 60, timestamp, { close: 2 })).rejects.toThrow(
        `timestamp must be epoch seconds from 0 (1970-01-01) to 9223372036 (2262-04-11), what QuestDB stores over ILP; got ${timestamp}`,
      );
    }
    await recorder.persist('btc', 60, T0 + 60, { close: 3 });
    await recorder.close();
    expect(await tables.count(table)).toBe(2);
  });

  it("refuses at persist a bigint outside QuestDB's LONG, which QuestDB would reject with its whole batch", async () => {
    const table = tables.next();
    const recorder = new QuestDBRecorder({ dsn, table, ilp: `http://${proxy.address}` });
    await recorder.persist('btc', 60, T0, { size: 1n });
    await expect(recorder.persist('btc', 60, T0 + 60, { size: 2n ** 70n })).rejects.toThrow(
      `field "size" is ${2n ** 70n}n, outside QuestDB's LONG (-(2^63 - 1) to 2^63 - 1)`,
    );
    await recorder.persist('btc', 60, T0 + 120, { size: 2n ** 63n - 1n });
    await recorder.close();
    expect(await tables.count(table)).toBe(2);
  });

  it('writes a table whose name has an equals sign (QuestDB used to reject every batch of it)', async () => {
    const table = tables.add(`${tables.next()}_a=b`);
    const recorder = new QuestDBRecorder({ dsn, table, ilp: `http://${proxy.address}` });
    await recorder.persist('btc', 60, T0, { close: 1 });
    await recorder.close();
    await admin.waitForWal(table, 15_000);
    const loader = new QuestDBLoader({ dsn, table });
    expect(await loader.fetch(T0, T0 + 60, key)).toEqual([{ ts: T0, close: 1 }]);
    await loader.close();
  });
});
