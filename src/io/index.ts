/**
 * File-backed history (`qmtl/io`): the CSV provider and a CSV writer for sample data, plus the
 * history protocols for convenience (reference §5.4).
 * @module
 */
export {
  CsvHistoryProvider,
  writeCsv,
  type CsvHistoryProviderOptions,
  type WriteCsvOptions,
} from './csv-history-provider.js';
export type {
  CoverageRange,
  DataFetcher,
  EventRecorder,
  HistoryProvider,
  HistoryRow,
  StreamKey,
} from '../sdk/history/protocols.js';
