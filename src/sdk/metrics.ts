import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { logger } from '../common/logger.js';

/**
 * The Prometheus registry of the SDK (reference §1.15). Separate from prom-client's global
 * default registry so an application embedding qmtl keeps its own metrics apart.
 */
export const sdkRegistry = new Registry();

const registers = [sdkRegistry];

/**
 * The SDK's metrics, by role. Label values are strings: interval 60 is `"60"`.
 * @example sdkMetrics.nodeComputeTotal.inc({ node_id: nodeId });
 */
export const sdkMetrics = {
  /** Tracked CacheView reads, per upstream and interval. */
  cacheReadTotal: new Counter({
    name: 'cache_read_total',
    help: 'Number of tracked cache reads per upstream and interval',
    labelNames: ['upstream_id', 'interval'] as const,
    registers,
  }),
  /** Epoch seconds of the last tracked CacheView read. */
  cacheLastReadTimestamp: new Gauge({
    name: 'cache_last_read_timestamp',
    help: 'Epoch seconds of the last tracked cache read per upstream and interval',
    labelNames: ['upstream_id', 'interval'] as const,
    registers,
  }),
  /** The `end` of the last completed backfill job per node and interval. */
  backfillLastTimestamp: new Gauge({
    name: 'backfill_last_timestamp',
    help: 'End timestamp of the last completed backfill per node and interval',
    labelNames: ['node_id', 'interval'] as const,
    registers,
  }),
  /** Backfill jobs running now. */
  backfillJobsInProgress: new Gauge({
    name: 'backfill_jobs_in_progress',
    help: 'Number of backfill jobs running',
    registers,
  }),
  /** Backfill jobs that failed after every retry. */
  backfillFailureTotal: new Counter({
    name: 'backfill_failure_total',
    help: 'Number of backfill jobs that failed after all retries',
    labelNames: ['node_id', 'interval'] as const,
    registers,
  }),
  /** Failed backfill fetch tries, including the last one of a failed job. */
  backfillRetryTotal: new Counter({
    name: 'backfill_retry_total',
    help: 'Number of failed backfill fetch attempts',
    labelNames: ['node_id', 'interval'] as const,
    registers,
  }),
  /** Approximate bytes a node's cache holds. */
  nodecacheResidentBytes: new Gauge({
    name: 'nodecache_resident_bytes',
    help: 'Approximate bytes held by a node cache',
    labelNames: ['node_id'] as const,
    registers,
  }),
  /** Compute function calls per node. */
  nodeComputeTotal: new Counter({
    name: 'node_compute_total',
    help: 'Number of compute function calls per node',
    labelNames: ['node_id'] as const,
    registers,
  }),
  /** Events a node skipped (not warm, duplicate or late). */
  nodeSkipTotal: new Counter({
    name: 'node_skip_total',
    help: 'Number of events a node did not compute',
    labelNames: ['node_id'] as const,
    registers,
  }),
  /**
   * Rows an event recorder dropped, per table and reason: `refused` (the database refused the
   * row, or the batch it was in), `overflow` (more rows waited through an outage than it keeps).
   */
  recorderRowsDroppedTotal: new Counter({
    name: 'recorder_rows_dropped_total',
    help: 'Number of rows an event recorder dropped, per table and reason (refused, overflow)',
    labelNames: ['table', 'reason'] as const,
    registers,
  }),
} as const;

/** The SDK metrics in the Prometheus text exposition format. */
export function collectMetrics(): Promise<string> {
  return sdkRegistry.metrics();
}

/** Resets every SDK metric to its initial value (tests, or between runs in one process). */
export function resetMetrics(): void {
  sdkRegistry.resetMetrics();
}

/** A running metrics endpoint, from {@link startMetricsServer}. */
export interface MetricsServer {
  /** The port it listens on (the ephemeral one chosen when asked for 0). */
  readonly port: number;
  /** The full URL of the metrics endpoint, `http://host:port/metrics`. */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves the SDK metrics at `GET /metrics` over node:http; every other path answers 404.
 * Port 0 picks a free port.
 * @example
 * const server = await startMetricsServer(9100);
 * console.log(`metrics at ${server.url}`);
 * await server.close();
 */
export function startMetricsServer(port = 0, host = '127.0.0.1'): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found\n');
      return;
    }
    sdkRegistry.metrics().then(
      (text) =>
        response
          .writeHead(200, { 'content-type': sdkRegistry.contentType })
          .end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        logger.error({ err: error }, 'metrics.collect_failed');
        response
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end('Internal Server Error\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = (server.address() as AddressInfo).port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        port: bound,
        url: `http://${urlHost}:${bound}/metrics`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
