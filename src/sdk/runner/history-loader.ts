import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { formatTime } from '../../common/time.js';
import { BackfillEngine } from '../history/backfill-engine.js';
import { missingRanges } from '../history/coverage.js';
import type { CoverageRange, HistoryProvider, HistoryRow, StreamKey } from '../history/protocols.js';
import { inTimestampOrder } from '../history/row-order.js';
import type { StreamInput } from '../stream-input.js';
import type { NodeRuntime } from './node-runtime.js';

/** A stream input of the run together with where its history comes from. */
export interface HistorySource {
  readonly runtime: NodeRuntime;
  readonly provider: HistoryProvider;
  readonly key: StreamKey;
  readonly engine: BackfillEngine;
}

/** Ranges a provider could not fill, reported with the run's result. */
export interface HistoryGap {
  readonly nodeId: string;
  readonly name: string;
  readonly ranges: readonly CoverageRange[];
}

/** How history provider calls are retried and bounded (RunOptions `maxRetries`, `historyTimeoutMs`). */
export interface HistoryCallOptions {
  /** Retries of a failing fetch or fillMissing. */
  readonly maxRetries: number;
  /** How long one provider call (fetch, coverage, fillMissing) may take, in ms. */
  readonly timeoutMs: number;
}

/** The stream inputs of the run that have a history provider; a warning for each that has none. */
export function historySources(
  sources: readonly NodeRuntime[],
  { maxRetries, timeoutMs }: HistoryCallOptions,
): HistorySource[] {
  const result: HistorySource[] = [];
  for (const runtime of sources) {
    const provider = (runtime.node as StreamInput).historyProvider;
    if (provider === null) {
      logger.warn(
        { node_id: runtime.id, name: runtime.node.name },
        'stream input has no history provider; it emits nothing in a replay',
      );
      continue;
    }
    const engine = new BackfillEngine(provider, { maxRetries, timeoutMs });
    result.push({ runtime, provider, key: { nodeId: runtime.id, interval: runtime.interval }, engine });
  }
  return result;
}

/**
 * Makes each provider cover `[start, end]` (SPEC §3.5): coverage → gaps → `fillMissing` for each
 * gap (retried with backoff when it throws) → coverage again. It asks once and never loops: gaps
 * that remain are returned (the replay then sees them as missing buckets, handled by
 * `onMissing`); a `fillMissing` that throws on every try fails with QMTL_HISTORY_UNAVAILABLE.
 */
export async function ensureHistory(
  sources: readonly HistorySource[],
  start: number,
  end: number,
): Promise<HistoryGap[]> {
  const results = await Promise.all(sources.map((source) => ensureOne(source, start, end)));
  return results.filter((gap): gap is HistoryGap => gap !== null);
}

async function ensureOne(source: HistorySource, start: number, end: number): Promise<HistoryGap | null> {
  const { key, runtime } = source;
  const gaps = missingRanges(await coverage(source), start, end, key.interval);
  if (gaps.length === 0) return null;
  // Retried like a fetch; still failing after the retries fails the run (QMTL_HISTORY_UNAVAILABLE).
  for (const [gapStart, gapEnd] of gaps)
    await source.engine.fillMissing(key, gapStart, gapEnd, { label: runtime.node.label });
  const remaining = missingRanges(await coverage(source), start, end, key.interval);
  if (remaining.length === 0) return null;
  logger.warn(
    {
      node_id: runtime.id,
      name: runtime.node.name,
      gaps: remaining.map(([s, e]) => `${formatTime(s)}..${formatTime(e)}`),
    },
    'history still has gaps after fillMissing',
  );
  return { nodeId: runtime.id, name: runtime.node.name, ranges: remaining };
}

/** The span `[start, end]` covered by any provider, or null when none holds anything. */
export async function coveredSpan(sources: readonly HistorySource[]): Promise<CoverageRange | null> {
  let start = Infinity;
  let end = -Infinity;
  for (const source of sources) {
    for (const [s, e] of await coverage(source)) {
      start = Math.min(start, s);
      end = Math.max(end, e);
    }
  }
  return start <= end ? [start, end] : null;
}

/**
 * Fetches `[start, end)` of one source with retries, checked: finite `ts`, ascending (sorted if
 * not, stable for equal timestamps). Aborting `signal` abandons it (see {@link BackfillEngine.fetchRows}).
 */
export async function fetchWindow(
  source: HistorySource,
  start: number,
  end: number,
  signal?: AbortSignal,
): Promise<readonly HistoryRow[]> {
  const rows = await source.engine.fetchRows(source.key, start, end, {
    label: source.runtime.node.label,
    ...(signal && { signal }),
  });
  for (let i = 0; i < rows.length; i++) {
    const ts = rows[i]?.ts;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      throw new QmtlError(
        ErrorCode.HistoryUnavailable,
        `history of ${source.runtime.node.label}: row ${i} of [${start}, ${end}) has no numeric ts (got ${quote(ts)})`,
      );
    }
  }
  return inTimestampOrder(rows);
}

/** The provider's coverage of the source's stream, within the engine's timeout. */
function coverage(source: HistorySource): Promise<readonly CoverageRange[]> {
  const { engine, provider, key, runtime } = source;
  return call(
    () =>
      engine.deadline(provider.coverage(key), undefined, () =>
        engine.timeout(runtime.node.label, 'coverage', ''),
      ),
    runtime,
    'coverage',
  );
}

async function call<T>(fn: () => Promise<T>, runtime: NodeRuntime, what: string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof QmtlError) throw error;
    throw new QmtlError(
      ErrorCode.HistoryUnavailable,
      `history provider of ${runtime.node.label} failed in ${what}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
