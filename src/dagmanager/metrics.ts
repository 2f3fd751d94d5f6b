import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RollingP95 } from '../common/rolling-p95.js';

/** The DAG Manager's Prometheus registry (SPEC §5, §8), served at its `/metrics`. */
export const dagManagerRegistry = new Registry();

const registers = [dagManagerRegistry];

/**
 * The DAG Manager's metrics. `diff_duration_ms_p95` is kept from the last 100 diffs (as the
 * original), next to a full `diff_duration_ms` histogram.
 * @example dagManagerMetrics.queueCreateErrorTotal.inc();
 */
export const dagManagerMetrics = {
  diffDurationMs: new Histogram({
    name: 'diff_duration_ms',
    help: 'Duration of diffs in milliseconds',
    buckets: [1, 2, 5, 10, 20, 50, 80, 100, 200, 500, 1000, 5000],
    registers,
  }),
  diffDurationMsP95: new Gauge({
    name: 'diff_duration_ms_p95',
    help: '95th percentile of the last 100 diff durations in milliseconds',
    registers,
  }),
  queueCreateErrorTotal: new Counter({
    name: 'queue_create_error_total',
    help: 'Topics that could not be created after all retries',
    registers,
  }),
  sentinelGapCount: new Counter({
    name: 'sentinel_gap_count',
    help: 'Diffs that produced no version sentinel (no new node)',
    registers,
  }),
  orphanQueueTotal: new Gauge({
    name: 'orphan_queue_total',
    help: 'Queues no active strategy references, left after the last GC run',
    registers,
  }),
  kafkaBreakerOpenTotal: new Counter({
    name: 'kafka_breaker_open_total',
    help: 'Times the broker-admin circuit breaker opened',
    registers,
  }),
  gcLastRunTimestamp: new Gauge({
    name: 'gc_last_run_timestamp',
    help: 'Epoch seconds of the last GC run',
    registers,
  }),
  activeVersionWeight: new Gauge({
    name: 'dagmgr_active_version_weight',
    help: 'Canary traffic weight per version sentinel',
    labelNames: ['version'] as const,
    registers,
  }),
  pendingWeightRefusedTotal: new Counter({
    name: 'dagmgr_pending_weight_refused_total',
    help: 'Sentinel weights refused because pending_weight_limit weights already wait for their sentinel',
    registers,
  }),
  pendingWeightExpiredTotal: new Counter({
    name: 'dagmgr_pending_weight_expired_total',
    help: 'Sentinel weights dropped because no diff wrote their sentinel within pending_weight_ttl',
    registers,
  }),
  diffChunkAckTimeoutTotal: new Counter({
    name: 'diff_chunk_ack_timeout_total',
    help: 'Diff streams cancelled because the client stopped acknowledging chunks',
    registers,
  }),
} as const;

const recentDiffs = new RollingP95();

/** Records one diff's duration in the histogram and the rolling p95 gauge. */
export function observeDiffDuration(ms: number): void {
  dagManagerMetrics.diffDurationMs.observe(ms);
  dagManagerMetrics.diffDurationMsP95.set(recentDiffs.add(ms));
}

/** Resets every DAG Manager metric (tests). */
export function resetDagManagerMetrics(): void {
  dagManagerRegistry.resetMetrics();
  recentDiffs.clear();
}
