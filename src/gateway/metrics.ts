import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RollingP95 } from '../common/rolling-p95.js';

/** The Gateway's Prometheus registry (SPEC §4, §8), served at its `/metrics`. */
export const gatewayRegistry = new Registry();

const registers = [gatewayRegistry];

/**
 * The Gateway's metrics. `gateway_e2e_latency_p95` is kept over the last 100 accepted submissions
 * (as the original), next to a full histogram.
 * @example gatewayMetrics.lostRequestsTotal.inc();
 */
export const gatewayMetrics = {
  e2eLatencyMs: new Histogram({
    name: 'gateway_e2e_latency_ms',
    help: 'Time from receiving POST /strategies to sending its 202, in milliseconds',
    buckets: [1, 2, 5, 10, 15, 20, 50, 100, 150, 300, 1000, 5000],
    registers,
  }),
  e2eLatencyP95: new Gauge({
    name: 'gateway_e2e_latency_p95',
    help: '95th percentile of the last 100 POST /strategies latencies in milliseconds',
    registers,
  }),
  lostRequestsTotal: new Counter({
    name: 'lost_requests_total',
    help: 'Submissions that could not be stored (answered 5xx, nothing accepted)',
    registers,
  }),
  dagClientBreakerState: new Gauge({
    name: 'dagclient_breaker_state',
    help: 'DAG Manager client circuit breaker: 0 closed, 1 open, 2 half-open',
    registers,
  }),
  dagClientBreakerFailures: new Gauge({
    name: 'dagclient_breaker_failures',
    help: 'Consecutive failed DAG Manager calls',
    registers,
  }),
  dagClientBreakerOpenTotal: new Counter({
    name: 'dagclient_breaker_open_total',
    help: 'Times the DAG Manager client circuit breaker opened',
    registers,
  }),
  sentinelTrafficRatio: new Gauge({
    name: 'gateway_sentinel_traffic_ratio',
    help: 'Canary traffic weight per version sentinel',
    labelNames: ['version'] as const,
    registers,
  }),
  sentinelWeightEvictedTotal: new Counter({
    name: 'gateway_sentinel_weight_evicted_total',
    help: 'Weights of sentinels of no active strategy dropped, least recently updated first, to stay within unknown_weight_limit',
    registers,
  }),
  degradeLevel: new Gauge({
    name: 'degrade_level',
    help: 'Degradation level: 0 NORMAL, 1 PARTIAL, 2 MINIMAL, 3 STATIC',
    labelNames: ['service'] as const,
    registers,
  }),
  httpRequestMs: new Histogram({
    name: 'gateway_http_request_ms',
    help: 'HTTP request duration by route and status, in milliseconds',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers,
  }),
  wsClients: new Gauge({
    name: 'gateway_ws_clients',
    help: 'Connected WebSocket clients',
    registers,
  }),
  wsDroppedClientsTotal: new Counter({
    name: 'gateway_ws_dropped_clients_total',
    help: 'WebSocket clients disconnected because they could not keep up',
    registers,
  }),
  workerProcessedTotal: new Counter({
    name: 'gateway_worker_processed_total',
    help: 'Strategies processed by the worker, by outcome',
    labelNames: ['outcome'] as const,
    registers,
  }),
  leaseExpirationsTotal: new Counter({
    name: 'gateway_lease_expirations_total',
    help: 'Expired producer leases handled by the lease monitor, by outcome (stopped, already_stopped, failed)',
    labelNames: ['outcome'] as const,
    registers,
  }),
} as const;

const recentSubmissions = new RollingP95();

/** Records one accepted submission's latency in the histogram and the rolling p95 gauge. */
export function observeSubmissionLatency(ms: number): void {
  gatewayMetrics.e2eLatencyMs.observe(ms);
  gatewayMetrics.e2eLatencyP95.set(recentSubmissions.add(ms));
}

/** Resets every Gateway metric (tests). */
export function resetGatewayMetrics(): void {
  gatewayRegistry.resetMetrics();
  recentSubmissions.clear();
}
