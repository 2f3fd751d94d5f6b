import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../common/logger.js';
import { expectFillKeepsAskedRange, gridFetcher } from '../sdk/history/history.test-kit.js';
import { ErrorCode, QmtlError } from '../common/errors.js';
import type { DataFetcher, StreamKey } from '../sdk/history/protocols.js';
import { CsvHistoryProvider, writeCsv } from './csv-history-provider.js';

const key: StreamKey = { nodeId: 'btc', interval: 60 };
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qmtl-csv-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function csvFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, 'utf8');
  return path;
}

async function errorOf(promise: Promise<unknown>): Promise<QmtlError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QmtlError);
  return error as QmtlError;
}

describe('CsvHistoryProvider', () => {
  it('reads rows with numbers parsed and empty cells null', async () => {
    const path = await csvFile('bars.csv', 'ts,close,symbol,note\n0,1.5,BTC,\n60,2,BTC,"a, b"\n120,,BTC,x\n');
    const provider = new CsvHistoryProvider(path);
    expect(await provider.fetch(0, 180, key)).toEqual([
      { ts: 0, close: 1.5, symbol: 'BTC', note: null },
      { ts: 60, close: 2, symbol: 'BTC', note: 'a, b' },
      { ts: 120, close: null, symbol: 'BTC', note: 'x' },
    ]);
    expect(await provider.coverage(key)).toEqual([[0, 120]]);
  });

  it('fetches the half-open range and sorts the file by ts', async () => {
    const path = await csvFile('unsorted.csv', 'ts,v\n120,3\n0,1\n60,2\n');
    const rows = await new CsvHistoryProvider(path).fetch(60, 120, key);
    expect(rows).toEqual([{ ts: 60, v: 2 }]);
  });

  it('keeps the later of rows sharing a timestamp and warns how many there were', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const path = await csvFile('dup.csv', 'ts,v\n60,1\n60,2\n120,3\n120,4\n');
    expect(await new CsvHistoryProvider(path).fetch(0, 180, key)).toEqual([
      { ts: 60, v: 2 },
      { ts: 120, v: 4 },
    ]);
    expect(warn).toHaveBeenCalledWith(
      { file: path, duplicates: 2 },
      'CSV history rows share a timestamp; the later row of each wins',
    );
    warn.mockRestore();
  });

  it('warns that YYYYMMDD integers are read as epoch seconds, and not for real epoch seconds', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const path = await csvFile('dates.csv', 'date,close\n20240102,1\n20240103,2\n');
    const provider = new CsvHistoryProvider(path, { timeColumn: 'date' });
    expect((await provider.coverage(key))[0]).toEqual([20240102, 20240102]);
    expect(warn).toHaveBeenCalledWith(
      { file: path, column: 'date', first: 20240102, readAs: '1970-08-23T06:15:02Z' },
      'timestamps like 20240102 look like YYYYMMDD dates but are read as epoch seconds (1970-08-23T06:15:02Z); write dates as ISO-8601 (2024-01-02)',
    );
    warn.mockClear();
    // 20241301 has no month 13; 1704067200 is a real epoch second.
    for (const first of ['20241301', '1704067200']) {
      await new CsvHistoryProvider(await csvFile(`${first}.csv`, `ts,v\n${first},1\n`)).coverage(key);
    }
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('uses a timestamp column when there is no ts column', async () => {
    const path = await csvFile(
      'stamped.csv',
      'timestamp,close\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n',
    );
    const rows = await new CsvHistoryProvider(path).fetch(0, Infinity, key);
    expect(rows).toEqual([
      { ts: 1704067200, close: 1 },
      { ts: 1704067260, close: 2 },
    ]);
  });

  it('reads epoch milliseconds from a named time column with a custom delimiter', async () => {
    const path = await csvFile('ms.csv', 'open_time;close\n1704067200000;1\n1704067260000;2\n');
    const provider = new CsvHistoryProvider(path, { timeColumn: 'open_time', delimiter: ';' });
    expect(await provider.coverage(key)).toEqual([[1704067200, 1704067260]]);
  });

  it('rejects a file without the named time column', async () => {
    const path = await csvFile('named.csv', 'ts,close\n0,1\n');
    const error = await errorOf(new CsvHistoryProvider(path, { timeColumn: 'open_time' }).coverage(key));
    expect(error.message).toContain('the header has no time column "open_time" (columns: ts, close)');
  });

  it('defaults sourceId to csv: and the path as given', () => {
    expect(new CsvHistoryProvider('data/btc.csv').sourceId).toBe('csv:data/btc.csv');
    expect(new CsvHistoryProvider('data/btc.csv', { sourceId: 'binance:btc' }).sourceId).toBe('binance:btc');
  });

  it('reads the file once, on first use', async () => {
    const path = await csvFile('once.csv', 'ts,v\n0,1\n');
    const provider = new CsvHistoryProvider(path);
    await writeFile(path, 'ts,v\n0,2\n');
    expect(await provider.fetch(0, 60, key)).toEqual([{ ts: 0, v: 2 }]);
    await writeFile(path, 'ts,v\n0,3\n');
    expect(await provider.fetch(0, 60, key)).toEqual([{ ts: 0, v: 2 }]);
  });

  it('fails with HistoryUnavailable naming a missing file', async () => {
    const path = join(dir, 'missing.csv');
    const error = await errorOf(new CsvHistoryProvider(path).fetch(0, 60, key));
    expect(error.code).toBe(ErrorCode.HistoryUnavailable);
    expect(error.message).toBe(`CSV history file ${JSON.stringify(path)} does not exist`);
  });

  it('names the file, line and value of a bad timestamp', async () => {
    const path = await csvFile('bad.csv', 'ts,v\n0,1\nsoon,2\n');
    const error = await errorOf(new CsvHistoryProvider(path).coverage(key));
    expect(error.code).toBe(ErrorCode.HistoryUnavailable);
    expect(error.message).toContain(JSON.stringify(path));
    expect(error.message).toContain('line 3: "soon" in column "ts"');
  });

  it('names the line of a row with too many values', async () => {
    const path = await csvFile('wide.csv', 'ts,v\n0,1\n60,2,3\n');
    const error = await errorOf(new CsvHistoryProvider(path).coverage(key));
    expect(error.message).toContain('line 3: 3 values but the header has 2 columns');
  });

  it('rejects a header without a time column', async () => {
    const path = await csvFile('notime.csv', 'date,close\n1,2\n');
    const error = await errorOf(new CsvHistoryProvider(path).coverage(key));
    expect(error.message).toContain(
      'line 1: the header has no "ts" or "timestamp" column (columns: date, close)',
    );
  });

  it('reads the file again after a failed load', async () => {
    const path = join(dir, 'later.csv');
    const provider = new CsvHistoryProvider(path);
    await errorOf(provider.coverage(key));
    await writeFile(path, 'ts,v\n60,1\n');
    expect(await provider.coverage(key)).toEqual([[60, 60]]);
  });

  it('does nothing in fillMissing without a fetcher', async () => {
    const path = await csvFile('plain.csv', 'ts,v\n0,1\n');
    await new CsvHistoryProvider(path).fillMissing(0, 600, key);
    expect(await readFile(path, 'utf8')).toBe('ts,v\n0,1\n');
  });

  it('appends fetched rows the file lacks and keeps them after a reload', async () => {
    const path = await csvFile('cache.csv', 'ts,close\n60,1\n120,2');
    const fetcher = gridFetcher((ts) => ({ ts, close: ts / 60 }));
    const provider = new CsvHistoryProvider(path, { fetcher });
    await provider.fillMissing(0, 240, key);
    expect(fetcher.calls).toEqual([[0, 241]]);
    expect(await provider.coverage(key)).toEqual([[0, 240]]);
    expect(await readFile(path, 'utf8')).toBe('ts,close\n60,1\n120,2\n0,0\n180,3\n240,4\n');
    const reloaded = new CsvHistoryProvider(path);
    expect(await reloaded.coverage(key)).toEqual([[0, 240]]);
    expect(await reloaded.fetch(0, 60, key)).toEqual([{ ts: 0, close: 0 }]);
  });

  it('appends and rewrites times in ISO-8601 when the rows of the file use it', async () => {
    const path = await csvFile('iso.csv', 'ts,close\n2024-01-01T00:01:00Z,1\n');
    const start = Date.UTC(2024, 0, 1) / 1000;
    const fetcher = gridFetcher((ts) => ({ ts, close: (ts - start) / 60 }));
    await new CsvHistoryProvider(path, { fetcher }).fillMissing(start, start + 120, key);
    expect(await readFile(path, 'utf8')).toBe(
      'ts,close\n2024-01-01T00:01:00Z,1\n2024-01-01T00:00:00Z,0\n2024-01-01T00:02:00Z,2\n',
    );
    const grow: DataFetcher = { fetch: () => Promise.resolve([{ ts: start + 180, close: 3, volume: 5 }]) };
    await new CsvHistoryProvider(path, { fetcher: grow }).fillMissing(start + 180, start + 180, key);
    expect((await readFile(path, 'utf8')).split('\n').slice(0, 2)).toEqual([
      'ts,close,volume',
      '2024-01-01T00:00:00Z,0,',
    ]);
  });

  it('creates the file from fetched rows when it does not exist yet', async () => {
    const path = join(dir, 'new.csv');
    const provider = new CsvHistoryProvider(path, { fetcher: gridFetcher((ts) => ({ ts, close: ts / 60 })) });
    expect(await provider.coverage(key)).toEqual([]);
    await provider.fillMissing(0, 120, key);
    expect(await readFile(path, 'utf8')).toBe('ts,close\n0,0\n60,1\n120,2\n');
  });

  it('rewrites the file when fetched rows bring new columns', async () => {
    const path = await csvFile('grow.csv', 'timestamp,close\n60,1\n');
    const fetcher: DataFetcher = { fetch: () => Promise.resolve([{ ts: 0, close: 0, volume: 5 }]) };
    await new CsvHistoryProvider(path, { fetcher }).fillMissing(0, 60, key);
    expect(await readFile(path, 'utf8')).toBe('timestamp,close,volume\n0,0,5\n60,1,\n');
  });

  it('stores only fetched rows inside the asked range, warning once per stream of the rest', async () => {
    const path = join(dir, 'ranged.csv');
    await expectFillKeepsAskedRange(
      (fetcher) => ({
        filling: new CsvHistoryProvider(path, { fetcher }),
        reader: () => new CsvHistoryProvider(path),
      }),
      key,
    );
  });

  it('serialises concurrent fills so no row is lost', async () => {
    const path = await csvFile('concurrent.csv', 'ts,close\n');
    const provider = new CsvHistoryProvider(path, { fetcher: gridFetcher((ts) => ({ ts, close: ts / 60 })) });
    await Promise.all([provider.fillMissing(0, 120, key), provider.fillMissing(180, 300, key)]);
    const reloaded = new CsvHistoryProvider(path);
    expect(await reloaded.coverage(key)).toEqual([[0, 300]]);
  });
});

describe('writeCsv', () => {
  it('writes a header from the union of keys with ts first', async () => {
    const path = join(dir, 'out.csv');
    await writeCsv(path, [
      { close: 1, ts: 0 },
      { ts: 60, close: 2, note: 'a,b' },
    ]);
    expect(await readFile(path, 'utf8')).toBe('ts,close,note\n0,1,\n60,2,"a,b"\n');
  });

  it('writes what CsvHistoryProvider reads back', async () => {
    const path = join(dir, 'roundtrip.csv');
    const rows = [
      { ts: 0, open: 1, close: 1.5, symbol: 'BTC' },
      { ts: 60, open: 1.5, close: null, symbol: 'say "hi"' },
    ];
    await writeCsv(path, rows);
    expect(await new CsvHistoryProvider(path).fetch(0, 120, key)).toEqual(rows);
  });
});
