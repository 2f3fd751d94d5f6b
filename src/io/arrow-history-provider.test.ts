import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DateDay,
  DateMillisecond,
  Dictionary,
  Float32,
  Float64,
  Int32,
  Int64,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  Utf8,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../common/logger.js';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { expectFillKeepsAskedRange, gridFetcher } from '../sdk/history/history.test-kit.js';
import type { DataFetcher, StreamKey } from '../sdk/history/protocols.js';
import { ArrowHistoryProvider, writeArrow } from './arrow-history-provider.js';

const key: StreamKey = { nodeId: 'btc', interval: 60 };
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qmtl-arrow-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a table of the given columns as an Arrow IPC file. */
async function arrowFile(
  name: string,
  columns: Record<string, Vector>,
  format: 'file' | 'stream' = 'file',
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, tableToIPC(new Table(columns), format));
  return path;
}

const f64 = (values: (number | null)[]): Vector => vectorFromArray(values, new Float64());
const utf8 = (values: (string | null)[]): Vector => vectorFromArray(values, new Utf8());

async function errorOf(promise: Promise<unknown>): Promise<QmtlError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QmtlError);
  return error as QmtlError;
}

describe('ArrowHistoryProvider', () => {
  it('reads rows with their values and nulls', async () => {
    const path = await arrowFile('bars.arrow', {
      ts: f64([0, 60, 120]),
      close: f64([1.5, 2, null]),
      symbol: utf8(['BTC', 'BTC', 'BTC']),
      note: utf8([null, 'a, b', 'x']),
    });
    const provider = new ArrowHistoryProvider(path);
    expect(await provider.fetch(0, 180, key)).toEqual([
      { ts: 0, close: 1.5, symbol: 'BTC', note: null },
      { ts: 60, close: 2, symbol: 'BTC', note: 'a, b' },
      { ts: 120, close: null, symbol: 'BTC', note: 'x' },
    ]);
    expect(await provider.coverage(key)).toEqual([[0, 120]]);
  });

  it('fetches the half-open range and sorts the file by ts, the later of equal ts winning', async () => {
    const path = await arrowFile('unsorted.arrow', { ts: f64([120, 0, 60, 0]), v: f64([3, 1, 2, 4]) });
    const provider = new ArrowHistoryProvider(path);
    expect(await provider.fetch(60, 120, key)).toEqual([{ ts: 60, v: 2 }]);
    expect(await provider.fetch(0, 60, key)).toEqual([{ ts: 0, v: 4 }]);
    expect(await provider.fetch(120, 60, key)).toEqual([]);
  });

  it('reads an Arrow timestamp column named timestamp when there is no ts column', async () => {
    const path = await arrowFile('stamped.arrow', {
      timestamp: vectorFromArray([1_704_067_200_000, 1_704_067_260_000], new TimestampMillisecond()),
      close: f64([1, 2]),
    });
    const rows = await new ArrowHistoryProvider(path).fetch(0, Infinity, key);
    expect(rows).toEqual([
      { ts: 1704067200, close: 1 },
      { ts: 1704067260, close: 2 },
    ]);
  });

  it('reads epoch milliseconds (Int64) from a named time column, and an IPC stream', async () => {
    const path = await arrowFile(
      'ms.arrows',
      {
        open_time: vectorFromArray([1_704_067_200_000n, 1_704_067_260_000n], new Int64()),
        close: f64([1, 2]),
      },
      'stream',
    );
    const provider = new ArrowHistoryProvider(path, { timeColumn: 'open_time' });
    expect(await provider.coverage(key)).toEqual([[1704067200, 1704067260]]);
  });

  it('warns that a YYYYMMDD integer time column is read as epoch seconds', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const path = await arrowFile('dates.arrow', {
      ts: vectorFromArray([20240102, 20240103], new Int32()),
      close: f64([1, 2]),
    });
    expect((await new ArrowHistoryProvider(path).coverage(key))[0]).toEqual([20240102, 20240102]);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ file: path, column: 'ts', first: 20240102 }),
      expect.stringContaining('look like YYYYMMDD dates but are read as epoch seconds'),
    );
    warn.mockRestore();
  });

  it('reads ISO-8601 strings in the time column and gives dates and int64 fields as plain values', async () => {
    const path = await arrowFile('iso.arrow', {
      ts: utf8(['2024-01-01T00:00:00Z']),
      trades: vectorFromArray([12n], new Int64()),
      listed: vectorFromArray([new Date(0)], new DateMillisecond()),
    });
    expect(await new ArrowHistoryProvider(path).fetch(0, Infinity, key)).toEqual([
      { ts: 1704067200, trades: 12, listed: new Date(0) },
    ]);
  });

  it('rejects a file without the named time column', async () => {
    const path = await arrowFile('named.arrow', { ts: f64([0]), close: f64([1]) });
    const error = await errorOf(new ArrowHistoryProvider(path, { timeColumn: 'open_time' }).coverage(key));
    expect(error.message).toContain('has no time column "open_time" (columns: ts, close)');
  });

  it('defaults sourceId to arrow: and the path as given', () => {
    expect(new ArrowHistoryProvider('data/btc.arrow').sourceId).toBe('arrow:data/btc.arrow');
    expect(new ArrowHistoryProvider('data/btc.arrow', { sourceId: 'binance:btc' }).sourceId).toBe(
      'binance:btc',
    );
  });

  it('reads the file once, on first use', async () => {
    const path = await arrowFile('once.arrow', { ts: f64([0]), v: f64([1]) });
    const provider = new ArrowHistoryProvider(path);
    await writeArrow(path, [{ ts: 0, v: 2 }]);
    expect(await provider.fetch(0, 60, key)).toEqual([{ ts: 0, v: 2 }]);
    await writeArrow(path, [{ ts: 0, v: 3 }]);
    expect(await provider.fetch(0, 60, key)).toEqual([{ ts: 0, v: 2 }]);
  });

  it('fails with HistoryUnavailable naming a missing file', async () => {
    const path = join(dir, 'missing.arrow');
    const error = await errorOf(new ArrowHistoryProvider(path).fetch(0, 60, key));
    expect(error.code).toBe(ErrorCode.HistoryUnavailable);
    expect(error.message).toBe(`Arrow history file ${JSON.stringify(path)} does not exist`);
  });

  it('names the file of something that is not Arrow', async () => {
    const path = join(dir, 'text.arrow');
    await writeFile(path, 'ts,close\n0,1\n');
    const error = await errorOf(new ArrowHistoryProvider(path).coverage(key));
    expect(error.code).toBe(ErrorCode.HistoryUnavailable);
    expect(error.message).toContain(`Arrow history file ${JSON.stringify(path)} is not an Arrow IPC file`);
  });

  it('names the file, row and value of a bad timestamp', async () => {
    const path = await arrowFile('bad.arrow', { ts: utf8(['0', 'soon']), v: f64([1, 2]) });
    const error = await errorOf(new ArrowHistoryProvider(path).coverage(key));
    expect(error.code).toBe(ErrorCode.HistoryUnavailable);
    expect(error.message).toContain(JSON.stringify(path));
    expect(error.message).toContain('row 1: "soon" in column "ts"');
  });

  it('names a null timestamp', async () => {
    const path = await arrowFile('null.arrow', { ts: f64([0, null]) });
    expect((await errorOf(new ArrowHistoryProvider(path).coverage(key))).message).toContain(
      'row 1: null in column "ts"',
    );
  });

  it('rejects a file without a time column', async () => {
    const path = await arrowFile('notime.arrow', { date: f64([1]), close: f64([2]) });
    const error = await errorOf(new ArrowHistoryProvider(path).coverage(key));
    expect(error.message).toContain('has no "ts" or "timestamp" column (columns: date, close)');
  });

  it('reads the file again after a failed load', async () => {
    const path = join(dir, 'later.arrow');
    const provider = new ArrowHistoryProvider(path);
    await errorOf(provider.coverage(key));
    await writeArrow(path, [{ ts: 60, v: 1 }]);
    expect(await provider.coverage(key)).toEqual([[60, 60]]);
  });

  it('does nothing in fillMissing without a fetcher', async () => {
    const path = await arrowFile('plain.arrow', { ts: f64([0]), v: f64([1]) });
    const before = await readFile(path);
    await new ArrowHistoryProvider(path).fillMissing(0, 600, key);
    expect(await readFile(path)).toEqual(before);
  });

  it('writes fetched rows the file lacks and keeps them after a reload', async () => {
    const path = await arrowFile('cache.arrow', { ts: f64([60, 120]), close: f64([1, 2]) });
    const fetcher = gridFetcher((ts) => ({ ts, close: ts / 60 + 100 }));
    const provider = new ArrowHistoryProvider(path, { fetcher });
    await provider.fillMissing(0, 240, key);
    expect(fetcher.calls).toEqual([[0, 241]]);
    expect(await provider.coverage(key)).toEqual([[0, 240]]);
    const reloaded = new ArrowHistoryProvider(path);
    expect((await reloaded.fetch(0, 300, key)).map((row) => row['close'])).toEqual([100, 1, 2, 103, 104]);
  });

  it('creates the file from fetched rows when it does not exist yet', async () => {
    const path = join(dir, 'new.arrow');
    const provider = new ArrowHistoryProvider(path, {
      fetcher: gridFetcher((ts) => ({ ts, close: ts / 60 })),
    });
    expect(await provider.coverage(key)).toEqual([]);
    await provider.fillMissing(0, 120, key);
    expect((await stat(path)).isFile()).toBe(true);
    expect(tableFromIPC(await readFile(path)).schema.fields.map(String)).toEqual([
      'ts: Float64',
      'close: Float64',
    ]);
    expect(await new ArrowHistoryProvider(path).fetch(0, 180, key)).toEqual([
      { ts: 0, close: 0 },
      { ts: 60, close: 1 },
      { ts: 120, close: 2 },
    ]);
  });

  it('keeps the file time column name and adds columns that fetched rows bring', async () => {
    const path = await arrowFile('grow.arrow', { timestamp: f64([60]), close: f64([1]) });
    const fetcher: DataFetcher = { fetch: () => Promise.resolve([{ ts: 0, close: 0, volume: 5 }]) };
    await new ArrowHistoryProvider(path, { fetcher }).fillMissing(0, 60, key);
    const table = tableFromIPC(await readFile(path));
    expect(table.schema.fields.map((field) => field.name)).toEqual(['timestamp', 'close', 'volume']);
    expect(await new ArrowHistoryProvider(path).fetch(0, 120, key)).toEqual([
      { ts: 0, close: 0, volume: 5 },
      { ts: 60, close: 1, volume: null },
    ]);
  });

  it("keeps the file's column types when a fill writes rows: time, integers, floats, dates, dictionaries", async () => {
    const T = 1_704_067_200;
    const path = await arrowFile('typed.arrow', {
      timestamp: vectorFromArray([T * 1000, (T + 60) * 1000], new TimestampMicrosecond()),
      close: vectorFromArray([1.5, 2.5], new Float32()),
      volume: vectorFromArray([10, 20], new Int32()),
      trades: vectorFromArray([7n, 8n], new Int64()),
      day: vectorFromArray([new Date(T * 1000), new Date(T * 1000)], new DateDay()),
      symbol: vectorFromArray(['BTC', 'BTC'], new Dictionary(new Utf8(), new Int32())),
    });
    const types = async (): Promise<string[]> => tableFromIPC(await readFile(path)).schema.fields.map(String);
    const before = await types();
    const fetcher: DataFetcher = {
      fetch: () =>
        Promise.resolve([
          { ts: T + 120, close: 3.5, volume: 30, trades: 9, day: new Date(T * 1000), symbol: 'ETH' },
          { ts: T + 180, close: 4.5, volume: null, trades: 11, day: null, symbol: 'BTC' },
        ]),
    };
    await new ArrowHistoryProvider(path, { fetcher }).fillMissing(T + 120, T + 180, key);
    expect(await types()).toEqual(before);
    const rows = await new ArrowHistoryProvider(path).fetch(T, T + 240, key);
    expect(rows.map((row) => [row.ts, row['close'], row['volume'], row['trades'], row['symbol']])).toEqual([
      [T, 1.5, 10, 7, 'BTC'],
      [T + 60, 2.5, 20, 8, 'BTC'],
      [T + 120, 3.5, 30, 9, 'ETH'],
      [T + 180, 4.5, null, 11, 'BTC'],
    ]);
    expect(rows[2]?.['day']).toEqual(new Date(T * 1000));
    // The file's own cells stay as they were; the new ones are in its unit (µs).
    const micros = (tableFromIPC(await readFile(path)).getChild('timestamp') as Vector).data.flatMap(
      (data) => [...(data.values as BigInt64Array).subarray(0, data.length)],
    );
    expect(micros).toEqual([0, 60, 120, 180].map((s) => BigInt(T + s) * 1_000_000n));
  });

  it('takes a null or missing value in a column that had none, which becomes nullable', async () => {
    const path = join(dir, 'written.arrow');
    await writeArrow(path, [{ ts: 0, close: 1 }]);
    const fetcher: DataFetcher = { fetch: () => Promise.resolve([{ ts: 60 }, { ts: 120, close: null }]) };
    await new ArrowHistoryProvider(path, { fetcher }).fillMissing(60, 120, key);
    expect((await new ArrowHistoryProvider(path).fetch(0, 180, key)).map((row) => row['close'])).toEqual([
      1,
      null,
      null,
    ]);
  });

  it('writes filled times in the scale of a numeric time column (epoch milliseconds here)', async () => {
    const T = 1_704_067_200;
    const path = await arrowFile('ms.arrow', {
      ts: vectorFromArray([BigInt(T * 1000)], new Int64()),
      close: f64([1]),
    });
    const fetcher = gridFetcher((ts) => ({ ts, close: 2 }));
    await new ArrowHistoryProvider(path, { fetcher }).fillMissing(T + 60, T + 60, key);
    const table = tableFromIPC(await readFile(path));
    expect(table.schema.fields.map(String)).toEqual(['ts: Int64', 'close: Float64']);
    expect([...(table.getChild('ts') as Vector)]).toEqual([BigInt(T * 1000), BigInt((T + 60) * 1000)]);
  });

  it.each<[string, unknown, string]>([
    [
      'volume',
      1.5,
      'column "volume" (Int32) cannot hold 1.5; it takes integers from -2147483648 to 2147483647',
    ],
    [
      'volume',
      2 ** 40,
      'column "volume" (Int32) cannot hold 1099511627776; it takes integers from -2147483648 to 2147483647',
    ],
    ['close', '3.5', 'column "close" (Float32) cannot hold "3.5"; it takes numbers within ±3.4e38'],
    ['close', 1e40, 'column "close" (Float32) cannot hold 1e+40; it takes numbers within ±3.4e38'],
  ])(
    'refuses a fetched %s of %s that its column type cannot hold, leaving the file as it was',
    async (column, value, message) => {
      const path = await arrowFile('strict.arrow', {
        ts: f64([0]),
        close: vectorFromArray([1], new Float32()),
        volume: vectorFromArray([1], new Int32()),
      });
      const before = await readFile(path);
      const fetcher: DataFetcher = {
        fetch: () => Promise.resolve([{ ts: 60, close: 1, volume: 1, [column]: value }]),
      };
      const error = await errorOf(new ArrowHistoryProvider(path, { fetcher }).fillMissing(60, 60, key));
      expect(error.code).toBe(ErrorCode.HistoryUnavailable);
      expect(error.message).toBe(
        `Arrow history file "${path}" cannot store a fetched row at ts 60 (1970-01-01T00:01:00Z): ${message}`,
      );
      expect(await readFile(path)).toEqual(before);
    },
  );

  it('stores only fetched rows inside the asked range, warning once per stream of the rest', async () => {
    const path = join(dir, 'ranged.arrow');
    await expectFillKeepsAskedRange(
      (fetcher) => ({
        filling: new ArrowHistoryProvider(path, { fetcher }),
        reader: () => new ArrowHistoryProvider(path),
      }),
      key,
    );
  });

  it('serialises concurrent fills so no row is lost', async () => {
    const path = join(dir, 'concurrent.arrow');
    const provider = new ArrowHistoryProvider(path, {
      fetcher: gridFetcher((ts) => ({ ts, close: ts / 60 })),
    });
    await Promise.all([provider.fillMissing(0, 120, key), provider.fillMissing(180, 300, key)]);
    expect(await new ArrowHistoryProvider(path).coverage(key)).toEqual([[0, 300]]);
  });

  it('rejects fetched rows without a numeric ts', async () => {
    const fetcher: DataFetcher = { fetch: () => Promise.resolve([{ ts: 'soon' as unknown as number }]) };
    const provider = new ArrowHistoryProvider(join(dir, 'x.arrow'), { fetcher });
    expect((await errorOf(provider.fillMissing(0, 60, key))).message).toBe(
      'fetcher row 0 has ts "soon"; ts must be finite epoch seconds',
    );
  });
});

describe('writeArrow', () => {
  it('writes ts first, then the union of keys typed by their values', async () => {
    const path = join(dir, 'out.arrow');
    await writeArrow(path, [
      { close: 1, ts: 0, ok: true },
      { ts: 60, close: 2, note: 'a,b', trades: 7n, at: new Date(0) },
    ]);
    const table = tableFromIPC(await readFile(path));
    expect(table.schema.fields.map(String)).toEqual([
      'ts: Float64',
      'close: Float64',
      'ok: Bool',
      'note: Utf8',
      'trades: Int64',
      'at: Timestamp<MILLISECOND>',
    ]);
  });

  it('writes what ArrowHistoryProvider reads back', async () => {
    const path = join(dir, 'roundtrip.arrow');
    const rows = [
      { ts: 0, open: 1, close: 1.5, symbol: 'BTC' },
      { ts: 60, open: 1.5, close: null, symbol: 'say "hi"' },
    ];
    await writeArrow(path, rows);
    expect(await new ArrowHistoryProvider(path).fetch(0, 120, key)).toEqual(rows);
  });

  it('rejects a column that mixes kinds of values, naming it', async () => {
    const error = await errorOf(
      writeArrow(join(dir, 'mixed.arrow'), [
        { ts: 0, v: 1 },
        { ts: 60, v: 'x' },
      ]),
    );
    expect(error.message).toBe('row 1: column "v" mixes number and string values');
  });
});

describe('ArrowHistoryProvider on compressed files', () => {
  const fixture = (name: string): string =>
    fileURLToPath(new URL(`../../tests/fixtures/arrow/${name}`, import.meta.url));
  const START = Date.UTC(2024, 0, 1) / 1000;

  it.each(['pandas-lz4.feather', 'pandas-zstd.feather'])(
    'reads %s as pandas wrote it (LZ4 is what to_feather() uses by default)',
    async (name) => {
      const provider = new ArrowHistoryProvider(fixture(name));
      expect(await provider.coverage(key)).toEqual([[START, START + 119 * 60]]);
      const rows = await provider.fetch(START, START + 120 * 60, key);
      expect(rows).toHaveLength(120);
      expect(rows[0]).toEqual({ ts: START, close: 100, volume: 10 });
      expect(rows[119]).toEqual({ ts: START + 119 * 60, close: 129.75, volume: 129 });
    },
  );

  it('fills a copy of a pandas file keeping timestamp[us, UTC], int64 and the pandas metadata', async () => {
    const path = join(dir, 'pandas.feather');
    await writeFile(path, await readFile(fixture('pandas-lz4.feather')));
    const before = tableFromIPC(await readFile(path)).schema;
    const fetcher = gridFetcher((ts) => ({ ts, close: 99.5, volume: 7 }));
    const provider = new ArrowHistoryProvider(path, { fetcher });
    await provider.fillMissing(START + 120 * 60, START + 121 * 60, key);
    const after = tableFromIPC(await readFile(path)).schema;
    expect(after.fields.map(String)).toEqual([
      'ts: Timestamp<MICROSECOND, UTC>',
      'close: Float64',
      'volume: Int64',
    ]);
    expect(after.metadata).toEqual(before.metadata);
    expect(await new ArrowHistoryProvider(path).coverage(key)).toEqual([[START, START + 121 * 60]]);
    expect((await provider.fetch(START + 119 * 60, START + 122 * 60, key)).at(-1)).toEqual({
      ts: START + 121 * 60,
      close: 99.5,
      volume: 7,
    });
  });

  it('names a Parquet file as such and says how to convert it', async () => {
    const path = join(dir, 'bars.parquet');
    await writeFile(path, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(16), Buffer.from('PAR1')]));
    await expect(new ArrowHistoryProvider(path).coverage(key)).rejects.toThrow(
      /is a Parquet file; this provider reads Arrow IPC \(Feather v2\): convert it once/,
    );
  });
});
