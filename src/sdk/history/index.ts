/**
 * History for StreamInputs (SPEC §3.7): the provider, fetcher and recorder protocols, coverage
 * arithmetic, in-memory implementations and the BackfillEngine that loads history into caches.
 * @module
 */
export type * from './protocols.js';
export { mergeRanges, missingRanges } from './coverage.js';
export { HistorySeries, type DuplicatePolicy } from './history-series.js';
export { MemoryHistoryProvider, type MemoryHistoryProviderOptions } from './memory-history-provider.js';
export { MemoryEventRecorder, type RecordedEvent } from './memory-event-recorder.js';
export {
  BackfillEngine,
  type BackfillEngineOptions,
  type BackfillJobResult,
  type BackfillTarget,
} from './backfill-engine.js';
