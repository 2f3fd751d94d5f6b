import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { StreamInput } from '../sdk/stream-input.js';
import { sdkMetrics } from '../sdk/metrics.js';
import { HttpIlpSender, IlpRejectedError, type IlpSender } from './ilp-sender.js';
import { QuestDBRecorder, type QuestDBRecorderOptions } from './questdb-recorder.js';

/**
 * A sender that records batches; `fail` makes the next send reject, `down` every send, and
 * `refuse` rejects, as QuestDB does with HTTP 400, every batch with a line containing it.
 */
function fakeSender(): IlpSender & {
  batches: string[];
  fail: Error | null;
  down: boolean;
  refuse: string | null;
  closed: boolean;
} {
  const sender = {
    batches: [] as string[],
    fail: null as Error | null,
    down: false,
    refuse: null as string | null,
    closed: false,
    send(lines: string): Promise<void> {
      if (sender.down) return Promise.reject(new QmtlError(ErrorCode.Unavailable, 'connection refused'));
      if (sender.fail !== null) {
        const error = sender.fail;
        sender.fail = null;
        return Promise.reject(error);
      }
      if (sender.refuse !== null && lines.includes(sender.refuse))
        return Promise.reject(new IlpRejectedError(400, `{"message":"cast error: ${sender.refuse}"}`));
      sender.batches.push(lines);
      return Promise.resolve();
    },
    close(): Promise<void> {
      sender.closed = true;
      return Promise.resolve();
    },
  };
  return sender;
}

function recorder(options: QuestDBRecorderOptions = {}): {
  recorder: QuestDBRecorder;
  sender: ReturnType<typeof fakeSender>;
} {
  const sender = fakeSender();
  return { recorder: new QuestDBRecorder({ table: 'bars', createTable: false, sender, ...options }), sender };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('QuestDBRecorder', () => {
  it('writes node_id as a tag, interval as an integer and the payload fields, timestamp in ns', async () => {
    const { recorder: rec, sender } = recorder();
    await rec.persist('btc', 60, 1_700_000_040, { close: 101.5, symbol: 'BTC', ts: 999, interval: 5 });
    expect(rec.pending).toBe(1);
    await rec.flush();
    expect(sender.batches).toEqual([
      'bars,node_id=btc interval=60i,close=101.5,symbol="BTC" 1700000040000000000\n',
    ]);
  });

  it('flushes when a batch is full', async () => {
    const { recorder: rec, sender } = recorder({ batchRows: 2 });
    await rec.persist('n', 60, 60, { v: 1 });
    expect(sender.batches).toEqual([]);
    await rec.persist('n', 60, 120, { v: 2 });
    expect(sender.batches).toHaveLength(1);
    expect(sender.batches[0]!.split('\n')).toHaveLength(3);
    expect(rec.pending).toBe(0);
  });

  it('sends full batches while a send is in flight, not a send per row', async () => {
    const { recorder: rec, sender } = recorder({ batchRows: 2, flushIntervalMs: 60_000 });
    const send = sender.send.bind(sender);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    sender.send = async (lines) => {
      await held;
      return send(lines);
    };
    // A live run hands bars over without waiting for the previous one to be stored.
    const persisted = [1, 2, 3, 4, 5, 6].map((v) => rec.persist('n', 60, v * 60, { v }));
    release();
    await Promise.all(persisted);
    await rec.close();
    expect(sender.batches.map((batch) => batch.split('\n').length - 1)).toEqual([2, 2, 2]);
  });

  it('flushes flushIntervalMs after the first buffered row', async () => {
    vi.useFakeTimers();
    const { recorder: rec, sender } = recorder({ flushIntervalMs: 500 });
    await rec.persist('n', 60, 60, { v: 1 });
    await vi.advanceTimersByTimeAsync(499);
    expect(sender.batches).toEqual([]);
    await rec.persist('n', 60, 120, { v: 2 });
    await vi.advanceTimersByTimeAsync(1);
    expect(sender.batches).toEqual([
      'bars,node_id=n interval=60i,v=1 60000000000\nbars,node_id=n interval=60i,v=2 120000000000\n',
    ]);
  });

  it('keeps its rows through an outage, retrying every flushIntervalMs, and sends them once', async () => {
    vi.useFakeTimers();
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const { recorder: rec, sender } = recorder({ flushIntervalMs: 10 });
    sender.down = true;
    await rec.persist('n', 60, 60, { v: 1 });
    await vi.advanceTimersByTimeAsync(35);
    expect(logged).toHaveBeenCalledTimes(3);
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({ table: 'bars', pending: 1 }),
      'questdb recorder flush failed',
    );
    await rec.persist('n', 60, 120, { v: 2 });
    await expect(rec.flush()).rejects.toThrow('connection refused (2 rows kept; sent again in 10 ms)');
    sender.down = false;
    await vi.advanceTimersByTimeAsync(10);
    expect(sender.batches).toEqual([
      'bars,node_id=n interval=60i,v=1 60000000000\nbars,node_id=n interval=60i,v=2 120000000000\n',
    ]);
    expect(rec.pending).toBe(0);
    await rec.flush();
  });

  it('accepts a row that fills the batch during an outage: persist resolves, flush reports', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const { recorder: rec, sender } = recorder({ batchRows: 2, flushIntervalMs: 60_000 });
    sender.down = true;
    await rec.persist('n', 60, 60, { v: 1 });
    await rec.persist('n', 60, 120, { v: 2 });
    expect(rec.pending).toBe(2);
    await expect(rec.flush()).rejects.toThrow('connection refused (2 rows kept');
    sender.down = false;
    await rec.close();
    expect(sender.batches).toHaveLength(1);
  });

  it('leaves out key columns in any case and refuses fields that differ only in case', async () => {
    const { recorder: rec, sender } = recorder();
    await rec.persist('n', 60, 60, { TS: 5, Node_Id: 'x', INTERVAL: 9, close: 1 });
    await rec.flush();
    expect(sender.batches).toEqual(['bars,node_id=n interval=60i,close=1 60000000000\n']);
    await expect(rec.persist('n', 60, 120, { Close: 1, close: 2 })).rejects.toThrow(
      'QuestDBRecorder.persist: payload fields "Close" and "close" are one column in QuestDB (names are case-insensitive); rename one',
    );
    expect(rec.pending).toBe(0);
  });

  it('drops a batch QuestDB rejects and reports it on the next flush; persist goes on', async () => {
    vi.useFakeTimers();
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const { recorder: rec, sender } = recorder({ flushIntervalMs: 10 });
    sender.fail = new QmtlError(ErrorCode.InvalidArgument, 'HTTP 400: bad line');
    await rec.persist('n', 60, 60, { v: 1 });
    await vi.advanceTimersByTimeAsync(10);
    await rec.persist('n', 60, 120, { v: 2 });
    await expect(rec.flush()).rejects.toThrow('HTTP 400: bad line (1 rows not written)');
    expect(sender.batches).toEqual(['bars,node_id=n interval=60i,v=2 120000000000\n']);
    await rec.flush();
  });

  it('drops only the rows QuestDB refuses on their own, logging and counting them', async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const { recorder: rec, sender } = recorder({ table: 'refusing', batchRows: 10 });
    sender.refuse = 'oops';
    for (let i = 1; i <= 9; i++) await rec.persist('n', 60, 60 * i, { v: i === 4 ? 'oops' : i });
    // The row that fills the batch sends it, and its persist reports what QuestDB refused.
    await expect(rec.persist('n', 60, 600, { v: 10 })).rejects.toThrow('QuestDB refused 1 of 10 rows');
    const written = sender.batches.join('').trim().split('\n');
    expect(written.map((line) => line.split(',v=')[1]!.split(' ')[0])).toEqual([
      '1',
      '2',
      '3',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
    ]);
    expect(logged).toHaveBeenCalledWith(
      {
        table: 'refusing',
        refused: 1,
        written: 9,
        rows: [{ ts: '1970-01-01T00:04:00Z', reason: 'cast error: oops' }],
      },
      'questdb refused rows: dropped',
    );
    const counted = (await sdkMetrics.recorderRowsDroppedTotal.get()).values;
    expect(counted.find((v) => v.labels.table === 'refusing')).toMatchObject({
      value: 1,
      labels: { reason: 'refused' },
    });
    await rec.persist('n', 60, 660, { v: 11 });
    await rec.flush();
    expect(rec.pending).toBe(0);
  });

  it('reports the refused rows on the next flush when a background flush met them', async () => {
    vi.useFakeTimers();
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const { recorder: rec, sender } = recorder({ flushIntervalMs: 10 });
    sender.refuse = 'oops';
    await rec.persist('n', 60, 60, { v: 1 });
    await rec.persist('n', 60, 120, { v: 'oops' });
    await vi.advanceTimersByTimeAsync(10);
    await expect(rec.flush()).rejects.toThrow(
      'QuestDB refused 1 of 2 rows of table "bars", which were dropped (the other 1 were written); the first, at 1970-01-01T00:02:00Z: cast error: oops',
    );
    expect(sender.batches).toEqual(['bars,node_id=n interval=60i,v=1 60000000000\n']);
    await rec.flush();
  });

  it('keeps a whole batch when QuestDB goes away while its refused rows are sought', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const { recorder: rec, sender } = recorder({ flushIntervalMs: 60_000 });
    sender.refuse = 'oops';
    for (let i = 1; i <= 4; i++) await rec.persist('n', 60, 60 * i, { v: i === 4 ? 'oops' : i });
    // The whole batch is refused, its first half written, then QuestDB is away.
    const send = sender.send.bind(sender);
    let requests = 0;
    sender.send = (lines) =>
      ++requests === 3 ? Promise.reject(new QmtlError(ErrorCode.Timeout, 'no answer')) : send(lines);
    await expect(rec.flush()).rejects.toThrow('no answer (4 rows kept');
    expect(rec.pending).toBe(4);
    await expect(rec.flush()).rejects.toThrow('QuestDB refused 1 of 4 rows');
    expect(rec.pending).toBe(0);
    // Rows 1 and 2 went out twice (the table de-duplicates them), row 3 once, row 4 never.
    expect(sender.batches.join('').match(/v=\d+/g)).toEqual(['v=1', 'v=2', 'v=1', 'v=2', 'v=3']);
  });

  it('keeps at most maxBufferedRows through an outage, dropping the oldest, and says so', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const { recorder: rec, sender } = recorder({
      table: 'overflowing',
      maxBufferedRows: 3,
      flushIntervalMs: 60_000,
    });
    sender.down = true;
    for (let i = 1; i <= 5; i++) await rec.persist('n', 60, 60 * i, { v: i });
    await expect(rec.flush()).rejects.toThrow(/connection refused \(3 rows kept/);
    expect(rec.pending).toBe(3);
    sender.down = false;
    await expect(rec.flush()).rejects.toThrow(
      'QuestDB recorder dropped its 2 oldest rows: more than maxBufferedRows (3) waited while QuestDB was unreachable',
    );
    expect(
      sender.batches[0]!.trim()
        .split('\n')
        .map((line) => line.split(',v=')[1]),
    ).toEqual(['3 180000000000', '4 240000000000', '5 300000000000']);
    const counted = (await sdkMetrics.recorderRowsDroppedTotal.get()).values;
    expect(counted.find((v) => v.labels.table === 'overflowing')).toMatchObject({
      value: 2,
      labels: { reason: 'overflow' },
    });
    await rec.close();
  });

  it('flushes and closes the sender on close', async () => {
    const { recorder: rec, sender } = recorder();
    await rec.persist('n', 60, 60, { v: 1 });
    await rec.close();
    expect(sender.batches).toHaveLength(1);
    expect(sender.closed).toBe(true);
  });

  it('rejects a payload that is not a record, and a bad interval', async () => {
    const { recorder: rec } = recorder();
    for (const payload of [1.5, null, [1, 2], 'x', new Date(0)]) {
      await expect(rec.persist('n', 60, 60, payload)).rejects.toMatchObject({
        code: ErrorCode.InvalidArgument,
      });
    }
    await expect(rec.persist('n', 60, 60, 1.5)).rejects.toThrow(
      'QuestDBRecorder.persist: payload must be a record of fields, got 1.5',
    );
    await expect(rec.persist('n', 1.5, 60, { v: 1 })).rejects.toThrow(/interval must be a positive integer/);
    await expect(rec.persist('n', 60, 60, { 'a-b': 1 })).rejects.toThrow(/column name "a-b"/);
    expect(rec.pending).toBe(0);
  });

  it('defaults its table to the node id of the StreamInput it records; an explicit table wins', () => {
    const sender = fakeSender();
    const bound = new QuestDBRecorder({ createTable: false, sender });
    expect(() => bound.table).toThrow(/QuestDBRecorder has no table/);
    const stream = new StreamInput({ tags: ['btc'], interval: 60, period: 1, eventRecorder: bound });
    expect(bound.table).toBe(stream.nodeId);
    const explicit = new QuestDBRecorder({ table: 'mine', createTable: false, sender });
    new StreamInput({ tags: ['eth'], interval: 60, period: 1, eventRecorder: explicit });
    expect(explicit.table).toBe('mine');
  });

  it('validates its options', () => {
    expect(() => new QuestDBRecorder({ table: 'a"b' })).toThrow(/QuestDB table name/);
    expect(() => new QuestDBRecorder({ batchRows: 0 })).toThrow(
      'batchRows must be a positive integer, got 0',
    );
    expect(() => new QuestDBRecorder({ ilp: 'ftp://x' })).toThrow(/must start with tcp/);
  });
});

describe('QuestDBRecorder over ILP/HTTP behind a proxy that asks to come back later', () => {
  it('keeps a batch answered 429, sends it again after Retry-After, and loses nothing', async () => {
    // A stand-in for a rate-limiting proxy in front of QuestDB: 429 + Retry-After: 1, then 204.
    const requests: { at: number; body: string }[] = [];
    let delivered!: () => void;
    const written = new Promise<void>((resolve) => (delivered = resolve));
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        requests.push({ at: Date.now(), body });
        if (requests.length === 1) response.writeHead(429, { 'retry-after': '1' }).end('slow down');
        else {
          response.writeHead(204).end();
          delivered();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const sender = new HttpIlpSender(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const rec = new QuestDBRecorder({ table: 'bars', createTable: false, sender, flushIntervalMs: 10 });
      await rec.persist('n', 60, 60, { v: 1 });
      await rec.persist('n', 60, 120, { v: 2 });
      await expect(rec.flush()).rejects.toMatchObject({
        code: ErrorCode.Unavailable,
        message:
          'QuestDB rejected an ILP batch (HTTP 429): slow down; Retry-After 1000 ms (2 rows kept; sent again in 1000 ms)',
      });
      expect(rec.pending).toBe(2);
      await written;
      const lines =
        'bars,node_id=n interval=60i,v=1 60000000000\nbars,node_id=n interval=60i,v=2 120000000000\n';
      expect(requests.map((r) => r.body)).toEqual([lines, lines]);
      // Retry-After, not flushIntervalMs (10 ms), set the second try.
      expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(900);
      await rec.close();
      expect(rec.pending).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
