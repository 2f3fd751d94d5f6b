import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DagManager } from './dag-manager.js';
import type { EventPublisher } from './event-publisher.js';
import { GarbageCollector } from './gc.js';
import { buildHttpApp } from './http-app.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';
import { resetDagManagerMetrics } from './metrics.js';
import { testRecord } from './node-repository.contract.test-kit.js';

const DAY = 24 * 3600 * 1000;

describe('DAG Manager HTTP app', () => {
  let events: { type: string; data: unknown }[];
  let app: ReturnType<typeof buildHttpApp>;
  let repo: MemoryNodeRepository;
  let admin: MemoryQueueAdmin;

  beforeEach(async () => {
    resetDagManagerMetrics();
    repo = MemoryNodeRepository.open();
    admin = new MemoryQueueAdmin();
    events = [];
    const publisher: EventPublisher = {
      publish: (type, data) => void events.push({ type, data }),
      flush: () => Promise.resolve(),
    };
    const manager = new DagManager({ repo, admin, topics: { ensure: (s) => admin.createTopic(s) } });
    const gc = new GarbageCollector({ repo, admin, now: () => 100 * DAY });
    app = buildHttpApp({ manager, gc, events: publisher });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
  });

  it('reports status and serves metrics', async () => {
    expect((await app.inject({ method: 'GET', url: '/status' })).json()).toEqual({
      status: 'ok',
      neo4j: 'ok',
      queue: 'ok',
      dag_manager: 'running',
    });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('diff_duration_ms_p95');
    expect(metrics.body).toContain('kafka_breaker_open_total');
  });

  it('answers an unknown route with 404 in its {error, code} shape', async () => {
    const reply = await app.inject({ method: 'POST', url: '/admin/gc?now=1' });
    expect(reply.statusCode).toBe(404);
    expect(reply.json()).toEqual({ error: 'no route POST /admin/gc', code: 'QMTL_NOT_FOUND' });
  });

  it('runs GC on /admin/gc-trigger and posts a gc event', async () => {
    await repo.createNodes([testRecord('old', { topic: 't_old', kind: 'raw', createdAt: 0 })]);
    await admin.createTopic({ name: 't_old', partitions: 1, replicationFactor: 1, retentionMs: 1 });
    const response = await app.inject({ method: 'POST', url: '/admin/gc-trigger', payload: { id: 'run-1' } });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ processed: ['t_old'] });
    expect(events).toEqual([{ type: 'gc', data: { id: 'run-1', queues: ['t_old'] } }]);
    expect(await admin.listTopics()).toEqual([]);
  });

  it('stores sentinel weights, sets the gauge and posts sentinel_weight; 422 out of range', async () => {
    const ok = await app.inject({
      method: 'POST',
      url: '/callbacks/sentinel-traffic',
      payload: { version: 'v2', weight: 0.3 },
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toEqual({ version: 'v2', weight: 0.3 });
    expect((await repo.getSentinel('v2'))?.weight).toBe(0.3);
    expect(events).toEqual([{ type: 'sentinel_weight', data: { sentinel_id: 'v2', weight: 0.3 } }]);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'dagmgr_active_version_weight{version="v2"} 0.3',
    );
    for (const weight of [1.5, -0.1]) {
      const bad = await app.inject({
        method: 'POST',
        url: '/callbacks/sentinel-traffic',
        payload: { version: 'v2', weight },
      });
      expect(bad.statusCode).toBe(422);
      expect(bad.json()).toMatchObject({ error: expect.stringContaining('[0, 1]') });
    }
    // Types are not coerced: a string or a boolean weight, a numeric version are client bugs.
    for (const payload of [
      { version: 'v2', weight: '0.5' },
      { version: 'v2', weight: true },
      { version: 123, weight: 0.5 },
    ]) {
      const bad = await app.inject({ method: 'POST', url: '/callbacks/sentinel-traffic', payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(422);
    }
    expect((await repo.getSentinel('v2'))?.weight).toBe(0.3);
  });

  it('never answers a generated body with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/callbacks/sentinel-traffic', '/admin/gc-trigger'),
        fc.oneof(
          fc.record(
            { version: fc.jsonValue(), weight: fc.jsonValue(), id: fc.jsonValue() },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        async (url, payload) => {
          const response = await app.inject({
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify(payload),
          });
          expect(response.statusCode, `${url} ${JSON.stringify(payload)}: ${response.body}`).toBeLessThan(
            500,
          );
          if (response.statusCode >= 400) expect(response.json().code).toMatch(/^QMTL_/);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('answers malformed bodies with 422 naming the field, without stack traces, storing nothing', async () => {
    const cases = [
      { url: '/callbacks/sentinel-traffic', payload: { version: 'v', weight: 'heavy' } },
      { url: '/callbacks/sentinel-traffic', payload: { weight: 0.5 } },
      { url: '/admin/gc-trigger', payload: {} },
    ];
    for (const { url, payload } of cases) {
      const response = await app.inject({ method: 'POST', url, payload });
      expect(response.statusCode, url).toBe(422);
      expect(response.body).not.toMatch(/at .*\.ts:\d+/);
    }
    const notJson = await app.inject({
      method: 'POST',
      url: '/admin/gc-trigger',
      payload: '{oops',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(422);
    const huge = await app.inject({
      method: 'POST',
      url: '/admin/gc-trigger',
      payload: { id: 'x'.repeat(100_000) },
    });
    expect(huge.statusCode).toBe(413);
    expect(events).toEqual([]);
  });
});
