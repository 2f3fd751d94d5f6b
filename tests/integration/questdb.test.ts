/**
 * QuestDBLoader and QuestDBRecorder against a real QuestDB (started by `.ci/run`, or locally with
 * `bash .ci/servers.sh start questdb`): reads over the PostgreSQL wire, writes over InfluxDB line
 * protocol (TCP and HTTP), and the loader as the history provider of a backtest that fills its
 * gaps from an exchange-candles fetcher served by a local HTTP server.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ErrorCode, QmtlError } from '../../src/common/errors.js';
import { logger } from '../../src/common/logger.js';
import { createIlpSender, type IlpSender } from '../../src/io/ilp-sender.js';
import { ExchangeCandlesFetcher } from '../../src/io/exchange-candles-fetcher.js';
import { QuestDBLoader } from '../../src/io/questdb-loader.js';
import { QuestDBRecorder } from '../../src/io/questdb-recorder.js';
import { gridFetcher } from '../../src/sdk/history/history.test-kit.js';
import type { DataFetcher, HistoryRow, StreamKey } from '../../src/sdk/history/protocols.js';
import { ProcessingNode } from '../../src/sdk/processing-node.js';
import { Runner } from '../../src/sdk/runner/runner.js';
import { StreamInput } from '../../src/sdk/stream-input.js';
import { Strategy } from '../../src/sdk/strategy.js';
import { T0, TestTables, questdbDsn as dsn } from '../support/questdb-tables.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const { host } = servers.questdb;
const ilp = { tcp: `tcp://${host}:9009`, http: `http://${host}:9000` } as const;
const key: StreamKey = { nodeId: 'btc', interval: 60 };

const reachable = await isReachable('questdb');
/** Tables no other test (or earlier run) uses; dropped after the suite. */
const tables = new TestTables('qmtl_it');
const { admin } = tables;

/** Polls `read` until `done` accepts its result or `timeoutMs` passes (ILP rows appear asynchronously). */
async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function tableExists(table: string): Promise<boolean> {
  const rows = await admin.query('SELECT table_name FROM tables() WHERE table_name = $1', [table]);
  return rows.length === 1;
}

describeWithServer('questdb', reachable, 'QuestDB history (real server)', () => {
  afterAll(() => tables.close());

  it('reads a table that does not exist as empty history', async () => {
    const loader = new QuestDBLoader({ dsn, table: tables.next() });
    expect(await loader.coverage(key)).toEqual([]);
    expect(await loader.fetch(T0, T0 + 600, key)).toEqual([]);
    await loader.close();
  });

  it('fills missing rows from its fetcher and reads them back half-open and in order', async () => {
    const fetcher = gridFetcher((ts) => ({ ts, close: ts / 60 - 28_333_334, note: `bar ${ts}` }));
    const loader = new QuestDBLoader({ dsn, table: tables.next(), fetcher, poolSize: 2 });
    await loader.fillMissing(T0, T0 + 240, key);
    expect(fetcher.calls).toEqual([[T0, T0 + 241]]);
    expect(await loader.coverage(key)).toEqual([[T0, T0 + 240]]);
    expect(await loader.fetch(T0 + 60, T0 + 180, key)).toEqual([
      { ts: T0 + 60, close: 1, note: `bar ${T0 + 60}` },
      { ts: T0 + 120, close: 2, note: `bar ${T0 + 120}` },
    ]);
    expect(await loader.fetch(-Infinity, Infinity, key)).toHaveLength(5);
    await loader.close();
  });

  it('inserts only the rows the table lacks and reports gaps as separate ranges', async () => {
    const table = tables.next();
    const first = new QuestDBLoader({ dsn, table, fetcher: gridFetcher((ts) => ({ ts, close: 1 })) });
    await first.fillMissing(T0, T0 + 60, key);
    await first.fillMissing(T0 + 180, T0 + 240, key);
    expect(await first.coverage(key)).toEqual([
      [T0, T0 + 60],
      [T0 + 180, T0 + 240],
    ]);
    const second = new QuestDBLoader({
      dsn,
      table,
      fetcher: gridFetcher((ts) => ({ ts, close: 2, volume: 7 })),
    });
    await second.fillMissing(T0, T0 + 300, key);
    const rows = await second.fetch(T0, T0 + 360, key);
    expect(rows.map((row) => [row.ts - T0, row['close'], row['volume']])).toEqual([
      [0, 1, null],
      [60, 1, null],
      [120, 2, 7],
      [180, 1, null],
      [240, 1, null],
      [300, 2, 7],
    ]);
    const [count] = await admin.query<{ count: number }>(`SELECT count() AS count FROM "${table}"`);
    expect(count?.count).toBe(6);
    await Promise.all([first.close(), second.close()]);
  });

  it('keeps the streams of one table apart by node id and interval', async () => {
    const table = tables.next();
    const loader = new QuestDBLoader({ dsn, table, fetcher: gridFetcher((ts) => ({ ts, v: ts })) });
    const other: StreamKey = { nodeId: 'eth', interval: 60 };
    const slower: StreamKey = { nodeId: 'btc', interval: 300 };
    await loader.fillMissing(T0, T0 + 120, key);
    await loader.fillMissing(T0 + 600, T0 + 660, other);
    expect(await loader.coverage(key)).toEqual([[T0, T0 + 120]]);
    expect(await loader.coverage(other)).toEqual([[T0 + 600, T0 + 660]]);
    expect(await loader.coverage(slower)).toEqual([]);
    await loader.close();
  });

  it('drops rows its fetcher returns outside the asked range, warning once per stream like the other providers', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      // A fetcher that ignores the range: every call answers T0 - 120 .. T0 + 600.
      const all = Array.from({ length: 13 }, (_, k) => ({ ts: T0 - 120 + k * 60, close: k }));
      const table = tables.next();
      const loader = new QuestDBLoader({ dsn, table, fetcher: { fetch: () => Promise.resolve(all) } });
      await loader.fillMissing(T0, T0 + 120, key);
      await loader.fillMissing(T0 + 300, T0 + 360, key);
      expect(await loader.coverage(key)).toEqual([
        [T0, T0 + 120],
        [T0 + 300, T0 + 360],
      ]);
      const warnings = warn.mock.calls.filter(([, message]) =>
        String(message).startsWith('history.fill_outside_range'),
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.[0]).toMatchObject({
        table,
        node_id: key.nodeId,
        interval: key.interval,
        start: T0,
        end: T0 + 121,
        dropped: 10,
      });
      await loader.close();
    } finally {
      warn.mockRestore();
    }
  });

  it('stores hostile values verbatim and refuses hostile table and field names', async () => {
    const victim = tables.next();
    await admin.query(`CREATE TABLE "${victim}" (x INT)`);
    expect(() => new QuestDBLoader({ dsn, table: `${victim}"; DROP TABLE "${victim}"; --` })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
    const table = tables.next();
    const hostileField: DataFetcher = {
      fetch: () => Promise.resolve([{ ts: T0, [`close" DOUBLE); DROP TABLE "${victim}"; --`]: 1 }]),
    };
    await expect(
      new QuestDBLoader({ dsn, table, fetcher: hostileField }).fillMissing(T0, T0, key),
    ).rejects.toThrow(/QuestDB column name .* contains/);
    const payload = `'); DROP TABLE "${victim}"; --`;
    const hostileKey: StreamKey = { nodeId: "x' OR '1'='1", interval: 60 };
    const loader = new QuestDBLoader({
      dsn,
      table,
      fetcher: { fetch: () => Promise.resolve([{ ts: T0, note: payload }]) },
    });
    await loader.fillMissing(T0, T0, hostileKey);
    expect(await loader.fetch(T0, T0 + 60, hostileKey)).toEqual([{ ts: T0, note: payload }]);
    expect(await loader.fetch(T0, T0 + 60, key)).toEqual([]);
    expect(await tableExists(victim)).toBe(true);
    await loader.close();
  });

  it.each(['tcp', 'http'] as const)(
    'round-trips recorder rows to the loader over ILP/%s',
    async (transport) => {
      const table = tables.next();
      const recorder = new QuestDBRecorder({ dsn, ilp: ilp[transport], table });
      const stream: StreamKey = { nodeId: 'odd id, with = signs\\and "quotes"', interval: 60 };
      const rows: HistoryRow[] = [
        { ts: T0, close: 101.5, note: 'say "hi"\nnext line \\ done', live: true, trades: 12n },
        { ts: T0 + 60, close: 102, note: 'plain', live: false, trades: 9_007_199_254_740_993n },
        { ts: T0 + 180, close: -0.25, note: '', live: true, trades: 0n },
      ];
      for (const { ts, ...payload } of rows) await recorder.persist(stream.nodeId, 60, ts, payload);
      await recorder.flush();
      const loader = new QuestDBLoader({ dsn, table });
      const read = await eventually(
        () => loader.fetch(T0, T0 + 600, stream),
        (found) => found.length === rows.length,
      );
      expect(read).toEqual([
        { ...rows[0], trades: 12 },
        { ...rows[1], trades: 9_007_199_254_740_993n },
        { ...rows[2], trades: 0 },
      ]);
      expect(await loader.coverage(stream)).toEqual([
        [T0, T0 + 60],
        [T0 + 180, T0 + 180],
      ]);
      await Promise.all([recorder.close(), loader.close()]);
    },
  );

  it('round-trips generated rows (any text, any finite number, any node id) through recorder and loader', async () => {
    const table = tables.next();
    const recorder = new QuestDBRecorder({ dsn, ilp: ilp.http, table });
    const loader = new QuestDBLoader({ dsn, table });
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom('', ' ', '\\', '"', '\n', '\r\n', '\t', ',', '=', 'a b'),
    );
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          text.filter((id) => id !== '' && !/[\n\r]/.test(id)),
          fc.array(fc.record({ close: fc.double({ noNaN: true, noDefaultInfinity: true }), note: text }), {
            minLength: 1,
            maxLength: 5,
          }),
          async (nodeId, payloads) => {
            const stream: StreamKey = { nodeId: `${(run += 1)}:${nodeId}`, interval: 60 };
            const rows = payloads.map((payload, k) => ({ ts: T0 + k * 60, ...payload }));
            // ILP has no form for NUL (QuestDB would reject the whole batch): refused at persist.
            const refused = rows.filter((row) => nodeId.includes('\0') || row.note.includes('\0'));
            for (const { ts, ...payload } of refused) {
              await expect(recorder.persist(stream.nodeId, 60, ts, payload)).rejects.toMatchObject({
                code: ErrorCode.InvalidArgument,
              });
            }
            if (refused.length === rows.length) return;
            rows.splice(0, rows.length, ...rows.filter((row) => !refused.includes(row)));
            for (const { ts, ...payload } of rows) await recorder.persist(stream.nodeId, 60, ts, payload);
            await recorder.flush();
            const read = await eventually(
              () => loader.fetch(T0, T0 + 600, stream),
              (found) => found.length === rows.length,
            );
            // QuestDB reads -0 back as 0; everything else comes back exactly.
            expect(read).toEqual(rows.map((row) => ({ ...row, close: row.close + 0 })));
          },
        ),
        { numRuns: 20 },
      );
    } finally {
      await Promise.all([recorder.close(), loader.close()]);
    }
  }, 120_000);

  it('sends a batch again when its reply was lost, and QuestDB stores it once', async () => {
    const table = tables.next();
    const http = createIlpSender(ilp.http);
    let loseReply = true;
    // QuestDB stores the batch, but the recorder never hears back (a timeout on the way back).
    const sender: IlpSender = {
      async send(lines) {
        await http.send(lines);
        if (loseReply) {
          loseReply = false;
          throw new QmtlError(ErrorCode.Timeout, 'reply lost');
        }
      },
      close: () => http.close(),
    };
    const recorder = new QuestDBRecorder({ dsn, table, sender, flushIntervalMs: 60_000 });
    const loader = new QuestDBLoader({ dsn, table });
    for (let i = 0; i < 3; i++) await recorder.persist('btc', 60, T0 + 60 * i, { close: i });
    await expect(recorder.flush()).rejects.toThrow('reply lost (3 rows kept');
    await recorder.flush();
    await admin.waitForWal(table, 15_000);
    expect(await loader.fetch(T0, T0 + 180, key)).toEqual(
      [0, 1, 2].map((i) => ({ ts: T0 + 60 * i, close: i })),
    );
    const [{ count }] = (await admin.query(`SELECT count() AS count FROM "${table}"`)) as [{ count: number }];
    expect(count).toBe(3);
    await Promise.all([recorder.close(), loader.close()]);
  });

  it('flushes on its timer without an explicit flush', async () => {
    const table = tables.next();
    const recorder = new QuestDBRecorder({ dsn, table, flushIntervalMs: 50 });
    const loader = new QuestDBLoader({ dsn, table });
    await recorder.persist('btc', 60, T0, { close: 1 });
    const read = await eventually(
      () => loader.fetch(T0, T0 + 60, key).catch(() => []),
      (found) => found.length === 1,
    );
    expect(read).toEqual([{ ts: T0, close: 1 }]);
    await Promise.all([recorder.close(), loader.close()]);
  });

  it('reports a row QuestDB refuses over ILP/HTTP', async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const table = tables.next();
    const recorder = new QuestDBRecorder({ dsn, ilp: ilp.http, table });
    await recorder.persist('btc', 60, T0, { close: 1 });
    await recorder.flush();
    await recorder.persist('btc', 60, T0 + 60, { close: 'not a number' });
    const error = await recorder.flush().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
    expect((error as Error).message).toMatch(
      /^QuestDB refused 1 of 1 rows of table ".*", which were dropped \(the other 0 were written\); the first, at .*: .*cast error/s,
    );
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({ table, refused: 1 }),
      'questdb refused rows: dropped',
    );
    logged.mockRestore();
    await recorder.close();
  });

  it('writes and reads the table named after the StreamInput both are attached to', async () => {
    const recorder = new QuestDBRecorder({ dsn });
    const loader = new QuestDBLoader({ dsn });
    const stream = new StreamInput({
      tags: ['BTC', `bound-${process.pid}-${Date.now()}`],
      interval: 60,
      period: 1,
      historyProvider: loader,
      eventRecorder: recorder,
    });
    tables.add(stream.nodeId);
    await recorder.persist(stream.nodeId, 60, T0, { close: 5 });
    await recorder.close();
    expect(await tableExists(stream.nodeId)).toBe(true);
    const streamKey = { nodeId: stream.nodeId, interval: 60 };
    const read = await eventually(
      () => loader.fetch(T0, T0 + 60, streamKey),
      (found) => found.length === 1,
    );
    expect(read).toEqual([{ ts: T0, close: 5 }]);
    await loader.close();
  });

  it('ends its pool on close', async () => {
    const loader = new QuestDBLoader({ dsn, table: tables.next() });
    expect(await loader.coverage(key)).toEqual([]);
    await loader.close();
    await expect(loader.coverage(key)).rejects.toThrow(/is closed/);
  });

  describeBacktest();
});

/** Candles of 2024-01-01 00:00–00:59 UTC served like an exchange, fed to a backtest through QuestDB. */
function describeBacktest(): void {
  const fixture = JSON.parse(
    readFileSync(new URL('../fixtures/candles/btcusdt-1m.json', import.meta.url), 'utf8'),
  ) as { klines: (string | number)[][] };
  const START = 1_704_067_200;
  let exchange: Server;
  let baseUrl: string;
  const requests: string[] = [];

  beforeAll(async () => {
    exchange = createServer((request, response) => {
      const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
      requests.push(request.url ?? '');
      const from = Number(query.get('startTime'));
      const to = Number(query.get('endTime'));
      const page = fixture.klines.filter((k) => Number(k[0]) >= from && Number(k[0]) <= to);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(page.slice(0, Number(query.get('limit')))));
    });
    await new Promise<void>((resolve) => exchange.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(exchange.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    exchange.closeAllConnections();
    await new Promise((resolve) => exchange.close(resolve));
  });

  /** BTC candles → the candle body (close − open) of each bar. */
  function candleStrategy(
    loader: QuestDBLoader,
    runTag: string,
  ): { strategy: Strategy; nodes: { body: ProcessingNode } } {
    const nodes = {} as { body: ProcessingNode };
    const strategy = new (class CandleBodies extends Strategy {
      setup(): void {
        const price = new StreamInput({
          tags: ['BTCUSDT', runTag],
          interval: 60,
          period: 1,
          historyProvider: loader,
        });
        nodes.body = new ProcessingNode({
          name: 'body',
          input: price,
          computeFn: (view) => {
            const bar = view.input<HistoryRow>(0).latest()!;
            return (bar['close'] as number) - (bar['open'] as number);
          },
        });
        tables.add(price.nodeId);
        this.addNodes([price, nodes.body]);
      }
    })({ defaultInterval: 60, defaultPeriod: 1 });
    // The runner calls setup(), so read nodes.body after the run.
    return { strategy, nodes };
  }

  it('fills a backtest gap from the exchange into QuestDB, then replays from QuestDB alone', async () => {
    const runTag = `run-${process.pid}-${Date.now()}`;
    const range = { startTime: START, endTime: START + 59 * 60, keepOutputs: 'all' } as const;
    const fetcher = new ExchangeCandlesFetcher({
      baseUrl,
      symbol: 'BTCUSDT',
      limit: 25,
      requestsPerSecond: 50,
    });
    const filling = new QuestDBLoader({ dsn, fetcher });
    const first = candleStrategy(filling, runTag);
    const filled = await Runner.backtest(first.strategy, range);
    expect(filled.historyGaps).toEqual([]);
    expect(filled.bars).toBe(60);
    expect(requests).toHaveLength(3);
    const bodies = filled.outputs<number>(first.nodes.body).toArray();
    expect(bodies).toHaveLength(60);
    const k0 = fixture.klines[0]!;
    expect(bodies[0]).toEqual([START, Number(k0[4]) - Number(k0[1])]);
    await filling.close();

    // Same stream, no fetcher: the table now covers the range, so nothing is fetched again.
    const readOnly = new QuestDBLoader({ dsn });
    const second = candleStrategy(readOnly, runTag);
    const replayed = await Runner.backtest(second.strategy, range);
    expect(replayed.outputs<number>(second.nodes.body).toArray()).toEqual(bodies);
    expect(requests).toHaveLength(3);
    await readOnly.close();
  });
}
