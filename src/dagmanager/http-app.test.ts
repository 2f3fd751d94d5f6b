import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DagManager } from './dag-manager.js';
import type { EventPublisher } from './event-publisher.js';
import { GarbageCollector } from './gc.js';
import { buildHttpApp } from './http-app.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';
import { chainDag } from './dag.test-kit.js';
import { dagManagerMetrics, resetDagManagerMetrics } from './metrics.js';
import { testRecord } from './node-repository.contract.test-kit.js';

const DAY = 24 * 3600 * 1000;

describe('DAG Manager HTTP app', () => {
  let events: { type: string; data: unknown }[];
  let app: ReturnType<typeof buildHttpApp>;
  let repo: MemoryNodeRepository;
  let admin: MemoryQueueAdmin;
  /** The DAG Manager's clock (epoch ms). */
  let now: number;
  let dagManager: DagManager;

  beforeEach(async () => {
    now = 100 * DAY;
    resetDagManagerMetrics();
    repo = MemoryNodeRepository.open();
    admin = new MemoryQueueAdmin();
    events = [];
    const publisher: EventPublisher = {
      publish: (type, data) => void events.push({ type, data }),
      flush: () => Promise.resolve(),
    };
    dagManager = new DagManager({
      repo,
      admin,
      topics: { ensure: (s) => admin.createTopic(s) },
      now: () => now,
    });
    const gc = new GarbageCollector({ repo, admin, now: () => 100 * DAY });
    app = buildHttpApp({ manager: dagManager, gc, events: publisher });
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

  describe('sentinel-traffic for versions no diff stored', () => {
    const postWeight = (version: unknown, weight: unknown = 0.5) =>
      app.inject({ method: 'POST', url: '/callbacks/sentinel-traffic', payload: { version, weight } });
    const gaugeVersions = async (): Promise<string[]> =>
      (await dagManagerMetrics.activeVersionWeight.get()).values.map((v) => String(v.labels.version));
    const storedCount = async (versions: readonly string[]): Promise<number> =>
      (await Promise.all(versions.map((v) => repo.getSentinel(v)))).filter((s) => s !== null).length;

    it('keeps weight-only sentinels and gauge labels bounded under 20,000 distinct versions', async () => {
      const versions = Array.from({ length: 20_000 }, (_, i) => `flood-${i}`);
      const statuses = new Map<number, number>();
      for (const version of versions) {
        const { statusCode } = await postWeight(version);
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      }
      // 1,000 pending weights are held (the default pending_weight_limit); the rest are refused.
      expect(statuses).toEqual(
        new Map([
          [202, 1_000],
          [429, 19_000],
        ]),
      );
      expect(await storedCount(versions)).toBe(1_000);
      expect((await gaugeVersions()).length).toBe(1_000);
      const refused = await postWeight('flood-late');
      expect(refused.json()).toMatchObject({
        code: 'QMTL_RATE_LIMITED',
        error: expect.stringContaining('"flood-late"'),
      });
      expect((await dagManagerMetrics.pendingWeightRefusedTotal.get()).values[0]?.value).toBe(19_001);
      // A weight for a sentinel a diff stored is never refused.
      await dagManager.diff('s1', chainDag(1, 's1'));
      expect((await postWeight('s1-sentinel', 0.7)).statusCode).toBe(202);
      expect((await repo.getSentinel('s1-sentinel'))?.weight).toBe(0.7);
      expect(events.filter((e) => e.type === 'sentinel_weight').length).toBe(1_001);
    }, 120_000);

    it('keeps a weight that arrives before its sentinel for the diff that writes it', async () => {
      expect((await postWeight('s2-sentinel', 0.4)).statusCode).toBe(202);
      now += 30 * 60 * 1000;
      await dagManager.diff('s2', chainDag(2, 's2'));
      const sentinel = await repo.getSentinel('s2-sentinel');
      expect(sentinel).toMatchObject({ strategyId: 's2', weight: 0.4 });
      expect(sentinel?.nodeIds.length).toBe(2);
      expect(await gaugeVersions()).toEqual(['s2-sentinel']);
    });

    it('drops pending weights and their gauge labels once expired, when room is needed', async () => {
      const first = Array.from({ length: 1_000 }, (_, i) => `old-${i}`);
      for (const version of first) expect((await postWeight(version)).statusCode).toBe(202);
      await dagManager.diff('s3', chainDag(1, 's3'));
      expect((await postWeight('s3-sentinel', 0.2)).statusCode).toBe(202);
      expect((await postWeight('too-soon')).statusCode).toBe(429);
      now += 3_600_001; // past the default pending_weight_ttl
      expect((await postWeight('fresh')).statusCode).toBe(202);
      expect(await storedCount(first)).toBe(0);
      expect((await gaugeVersions()).sort()).toEqual(['fresh', 's3-sentinel']);
      expect((await dagManagerMetrics.pendingWeightExpiredTotal.get()).values[0]?.value).toBe(1_000);
      // A sentinel written by a diff never expires.
      expect((await repo.getSentinel('s3-sentinel'))?.weight).toBe(0.2);
    });

    it('refuses a blank, overlong or control-character version with 422 naming it', async () => {
      const longest = `${'s'.repeat(256)}-sentinel`; // a 256-character strategy id's sentinel
      expect((await postWeight(longest)).statusCode).toBe(202);
      for (const version of ['', '   ', `${longest}x`, 'v\n2', 'v2\u0000', 'tab\there', 'lone\ud800']) {
        const reply = await postWeight(version);
        expect(reply.statusCode, JSON.stringify(version)).toBe(422);
        expect(reply.json()).toMatchObject({
          code: 'QMTL_INVALID_ARGUMENT',
          error: expect.stringMatching(/^version must be .*, got ".*/),
        });
        expect(await repo.getSentinel(version)).toBeNull();
      }
      const both = await postWeight('', 2);
      expect(both.json().error).toMatch(/version must be .*; weight must be a number in \[0, 1\], got 2/);
      expect(await gaugeVersions()).toEqual([longest]);
    });
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
