/**
 * Reliability plan, "malformed DAG": 10,000 generated hostile submissions to `POST /strategies`.
 * Every one is answered 400, 413 or 422 with an error code, nothing is stored, nothing reaches the
 * DAG Manager, and the Gateway keeps serving.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { crc32OfList } from '../common/crc32.js';
import { baseDag, hostileDag, type HostileDag } from '../dag/hostile-dag.test-kit.js';
import { STRATEGY_STATUSES } from './strategy-status.js';
import { submission, testGateway, type TestGateway } from './gateway.test-kit.js';

let current: TestGateway;
beforeAll(async () => {
  current = await testGateway();
});
afterAll(async () => {
  await current.gateway.close();
});

/** The CRC a client would send: of the node ids it can read from the text, else 0. */
function crcOf(text: string): number {
  try {
    const nodes = (JSON.parse(text) as { nodes?: unknown } | null)?.nodes;
    if (!Array.isArray(nodes)) return 0;
    return crc32OfList(nodes.map((n) => String((n as { node_id?: unknown } | null)?.node_id)));
  } catch {
    return 0;
  }
}

/** A hostile DAG in a well-formed envelope (base64 or raw text), or a good DAG in a broken one. */
const hostileBody: fc.Arbitrary<{ body: Record<string, unknown>; why: string }> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.tuple(hostileDag, fc.boolean()).map(([dag, raw]: [HostileDag, boolean]) => ({
      body: {
        dag_json: raw ? dag.text : Buffer.from(dag.text).toString('base64'),
        meta: null,
        run_type: 'live',
        node_ids_crc32: crcOf(dag.text),
      },
      why: dag.why,
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((crc) => ({ node_ids_crc32: crc })),
        fc.oneof(fc.string(), fc.integer()).map((runType) => ({ run_type: runType })),
        fc.oneof(fc.integer(), fc.string(), fc.array(fc.integer())).map((meta) => ({ meta })),
        fc
          .oneof(fc.integer(), fc.constant(null), fc.array(fc.string()))
          .map((dagJson) => ({ dag_json: dagJson })),
      )
      .filter((override) => {
        const good = submission(baseDag());
        const [key, value] = Object.entries(override)[0]!;
        return (
          JSON.stringify(good[key]) !== JSON.stringify(value) && value !== 'backtest' && value !== 'dry-run'
        );
      })
      .map((override) => ({
        body: submission(baseDag(), override),
        why: `envelope ${JSON.stringify(override)}`,
      })),
  },
);

describe('POST /strategies under 10,000 generated hostile submissions', () => {
  it('answers each with 400, 413 or 422 and an error code, stores nothing and keeps serving', async () => {
    const { gateway, store, dagManager } = current;
    const diff = vi.spyOn(dagManager, 'diff');
    await fc.assert(
      fc.asyncProperty(hostileBody, async ({ body, why }) => {
        const response = await gateway.app.inject({ method: 'POST', url: '/strategies', payload: body });
        expect([400, 413, 422], `${why}: ${response.body}`).toContain(response.statusCode);
        expect(response.json().code, why).toMatch(/^QMTL_[A-Z_]+$/);
      }),
      { numRuns: 10_000 },
    );
    expect(await store.listByStatus(STRATEGY_STATUSES)).toEqual([]);
    expect(diff).not.toHaveBeenCalled();
    const valid = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: submission(baseDag()),
    });
    expect(valid.statusCode).toBe(202);
  }, 120_000);
});
