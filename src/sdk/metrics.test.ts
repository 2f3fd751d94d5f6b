import { register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { collectMetrics, resetMetrics, sdkMetrics, sdkRegistry, startMetricsServer } from './metrics.js';

const metricNames = [
  'cache_read_total',
  'cache_last_read_timestamp',
  'backfill_last_timestamp',
  'backfill_jobs_in_progress',
  'backfill_failure_total',
  'backfill_retry_total',
  'nodecache_resident_bytes',
  'node_compute_total',
  'node_skip_total',
  'recorder_rows_dropped_total',
];

afterEach(() => resetMetrics());

describe('sdk metrics', () => {
  it('registers every SDK metric on the SDK registry, not the global one', async () => {
    const registered = (await sdkRegistry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(registered).toEqual([...metricNames].sort());
    expect(globalRegistry.getSingleMetric('backfill_retry_total')).toBeUndefined();
  });

  it('exposes label values as strings in the text format', async () => {
    sdkMetrics.backfillRetryTotal.inc({ node_id: 'abc', interval: String(60) });
    sdkMetrics.nodeComputeTotal.inc({ node_id: 'abc' }, 3);
    const text = await collectMetrics();
    expect(text).toContain('backfill_retry_total{node_id="abc",interval="60"} 1');
    expect(text).toContain('node_compute_total{node_id="abc"} 3');
  });

  it('resets every metric', async () => {
    sdkMetrics.backfillJobsInProgress.inc(2);
    resetMetrics();
    const { values } = await sdkMetrics.backfillJobsInProgress.get();
    expect(values.map((v) => v.value)).toEqual([0]);
  });
});

describe('startMetricsServer', () => {
  it('serves the metrics on an ephemeral port and closes cleanly', async () => {
    sdkMetrics.nodeSkipTotal.inc({ node_id: 'n1' });
    const server = await startMetricsServer();
    try {
      expect(server.port).toBeGreaterThan(0);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
      const response = await fetch(server.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(sdkRegistry.contentType);
      const body = await response.text();
      for (const name of metricNames) expect(body).toContain(`# TYPE ${name} `);
      expect(body).toContain('node_skip_total{node_id="n1"} 1');
    } finally {
      await server.close();
    }
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it('answers 404 on any other path', async () => {
    const server = await startMetricsServer(0);
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/other`);
      expect(response.status).toBe(404);
      await response.body?.cancel();
    } finally {
      await server.close();
    }
  });

  it('rejects when the port is taken', async () => {
    const first = await startMetricsServer();
    try {
      await expect(startMetricsServer(first.port)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
