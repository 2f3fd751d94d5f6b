import { describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { ArrowHistoryProvider } from './arrow-history-provider.js';
import { CsvHistoryProvider } from './csv-history-provider.js';
import { ExchangeCandlesFetcher } from './exchange-candles-fetcher.js';
import { QuestDBLoader } from './questdb-loader.js';
import { QuestDBRecorder } from './questdb-recorder.js';

/** The error a constructor throws, or null. */
function thrown(construct: () => unknown): QmtlError | null {
  try {
    construct();
    return null;
  } catch (error) {
    return error as QmtlError;
  }
}

// `qmtl run` loads TypeScript through tsx, which does not type-check: a misspelt option must fail
// at run time, not leave a fetcher or a timeout silently unset.
describe('io constructors refuse misspelt options, naming them and the known ones', () => {
  it.each([
    ['QuestDBLoader', () => new QuestDBLoader({ table: 't', fetch: {} } as never), 'fetch', 'fetcher'],
    [
      'QuestDBRecorder',
      () => new QuestDBRecorder({ table: 't', batchrows: 5 } as never),
      'batchrows',
      'batchRows',
    ],
    [
      'ExchangeCandlesFetcher',
      () => new ExchangeCandlesFetcher({ baseUrl: 'http://127.0.0.1:1', symbol: 'X', maxRetry: 1 } as never),
      'maxRetry',
      'maxRetries',
    ],
    [
      'CsvHistoryProvider',
      () => new CsvHistoryProvider('x.csv', { timecolumn: 'x' } as never),
      'timecolumn',
      'timeColumn',
    ],
    [
      'ArrowHistoryProvider',
      () => new ArrowHistoryProvider('x.arrow', { timecolumn: 'x' } as never),
      'timecolumn',
      'timeColumn',
    ],
  ])('%s', (what, construct, typo, known) => {
    const error = thrown(construct);
    expect(error).toBeInstanceOf(QmtlError);
    expect(error?.code).toBe(ErrorCode.InvalidArgument);
    expect(error?.message).toMatch(
      new RegExp(`^${what}: unknown option "${typo}" \\(known: .*\\b${known}\\b`),
    );
  });

  it('accepts every documented option', () => {
    const fetcher = { fetch: () => Promise.resolve([]) };
    expect(
      thrown(
        () =>
          new QuestDBLoader({
            dsn: 'postgresql://admin:quest@127.0.0.1:1/qdb',
            table: 't',
            fetcher,
            poolSize: 2,
            sourceId: 's',
            visibilityTimeoutMs: 1,
            connectTimeoutMs: 1,
            queryTimeoutMs: 1,
          }),
      ),
    ).toBeNull();
    expect(
      thrown(
        () =>
          new QuestDBRecorder({
            dsn: 'postgresql://admin:quest@127.0.0.1:1/qdb',
            ilp: 'http://127.0.0.1:1',
            table: 't',
            batchRows: 1,
            flushIntervalMs: 1,
            maxBufferedRows: 1,
            createTable: false,
            connectTimeoutMs: 1,
            sendTimeoutMs: 1,
          }),
      ),
    ).toBeNull();
    expect(
      thrown(
        () => new CsvHistoryProvider('x.csv', { timeColumn: 't', sourceId: 's', fetcher, delimiter: ';' }),
      ),
    ).toBeNull();
    expect(
      thrown(() => new ArrowHistoryProvider('x.arrow', { timeColumn: 't', sourceId: 's', fetcher })),
    ).toBeNull();
  });
});
