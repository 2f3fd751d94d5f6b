/**
 * History in and out of qmtl (`qmtl/io`, SPEC §3.7 and §6): file-backed providers (CSV and
 * Arrow IPC) with writers for sample data, QuestDB as a history store (a loader reading over the
 * PostgreSQL wire and a recorder writing over InfluxDB line protocol, in one table layout), an
 * exchange-candles fetcher example with retries and rate limiting, and the history protocols for
 * convenience. The QuestDB classes load the `pg` driver only when they first connect.
 * @module
 */
export {
  CsvHistoryProvider,
  writeCsv,
  type CsvHistoryProviderOptions,
  type WriteCsvOptions,
} from './csv-history-provider.js';
export {
  ArrowHistoryProvider,
  writeArrow,
  type ArrowHistoryProviderOptions,
} from './arrow-history-provider.js';
export { QuestDBLoader, type QuestDBLoaderOptions } from './questdb-loader.js';
export { QuestDBRecorder, type QuestDBRecorderOptions } from './questdb-recorder.js';
export { DEFAULT_QUESTDB_DSN } from './questdb-client.js';
export {
  HttpIlpSender,
  IlpRejectedError,
  IlpUnavailableError,
  TcpIlpSender,
  createIlpSender,
  type IlpSender,
} from './ilp-sender.js';
export { formatIlpLine } from './ilp.js';
export {
  ExchangeCandlesFetcher,
  KLINE_INTERVALS,
  parseKlines,
  type Candle,
  type ExchangeCandlesFetcherOptions,
} from './exchange-candles-fetcher.js';
export { TokenBucket, type TokenBucketOptions } from './token-bucket.js';
export type {
  CoverageRange,
  DataFetcher,
  EventRecorder,
  HistoryProvider,
  HistoryRow,
  StreamKey,
} from '../sdk/history/protocols.js';
