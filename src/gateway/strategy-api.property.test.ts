/**
 * The strategy API against a model, over generated sequences of submissions (of three DAGs),
 * stops and status reads on the embedded Gateway: one active strategy per DAG (a second
 * submission names it with 409), a stop frees the DAG for a new submission, a stopped strategy
 * cannot be stopped again, unknown ids are 404, and every accepted strategy completes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import { submission, testGateway, type TestGateway } from './gateway.test-kit.js';

type Step = { op: 'submit'; dag: number } | { op: 'stop' | 'status'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('submit' as const), dag: fc.integer({ min: 0, max: 2 }) }),
  },
  fc.record({ op: fc.constantFrom('stop' as const, 'status' as const), pick: fc.nat() }),
);

const DAGS = [0, 1, 2].map((k) => chainDag(2, `api-model-${k}-`));

/** Waits until the worker has finished with the strategy (its status is no longer queued or processing). */
async function settled(gw: TestGateway, id: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const reply = await gw.gateway.app.inject({ method: 'GET', url: `/strategies/${id}/status` });
    const { status } = reply.json<{ status: string }>();
    if (status !== 'queued' && status !== 'processing') return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`strategy ${id} never settled`);
}

describe('the strategy API against a model', () => {
  it('answers generated submissions, stops and status reads as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const gw = await testGateway();
        const strategies: { id: string; dag: number; stopped: boolean }[] = [];
        try {
          for (const s of steps) {
            const what = JSON.stringify(s);
            if (s.op === 'submit') {
              const holder = strategies.find((x) => x.dag === s.dag && !x.stopped);
              const reply = await gw.gateway.app.inject({
                method: 'POST',
                url: '/strategies',
                payload: submission(DAGS[s.dag]!),
              });
              if (holder !== undefined) {
                expect(reply.statusCode, what).toBe(409);
                expect(reply.json().strategy_id, what).toBe(holder.id);
              } else {
                expect(reply.statusCode, `${what}: ${reply.body}`).toBe(202);
                const id = reply.json().strategy_id as string;
                expect(
                  strategies.map((x) => x.id),
                  what,
                ).not.toContain(id);
                strategies.push({ id, dag: s.dag, stopped: false });
                expect(await settled(gw, id), what).toBe('completed');
              }
              continue;
            }
            // One pick in four is an id the Gateway never gave out.
            const target = s.pick % 4 === 3 ? undefined : strategies[s.pick % Math.max(1, strategies.length)];
            const id = target?.id ?? 'never-submitted';
            if (s.op === 'status') {
              const reply = await gw.gateway.app.inject({ method: 'GET', url: `/strategies/${id}/status` });
              if (target === undefined) expect(reply.statusCode, what).toBe(404);
              else expect(reply.json().status, what).toBe(target.stopped ? 'stopped' : 'completed');
              continue;
            }
            const reply = await gw.gateway.app.inject({ method: 'DELETE', url: `/strategies/${id}` });
            if (target === undefined) expect(reply.statusCode, what).toBe(404);
            else if (target.stopped) expect(reply.statusCode, what).toBe(409);
            else {
              expect(reply.statusCode, `${what}: ${reply.body}`).toBe(200);
              expect(reply.json(), what).toEqual({ strategy_id: id, status: 'stopped' });
              target.stopped = true;
            }
          }
          for (const x of strategies) {
            const reply = await gw.gateway.app.inject({ method: 'GET', url: `/strategies/${x.id}` });
            const events = (reply.json().events as { event: string }[]).map((e) => e.event);
            expect(events).toEqual(['INIT', 'PROCESS', 'COMPLETE', ...(x.stopped ? ['STOP'] : [])]);
          }
        } finally {
          await gw.gateway.close();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('keeps one active strategy per DAG under generated concurrent submissions and stops', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(step, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 3 }),
        async (rounds) => {
          const gw = await testGateway();
          const accepted: { id: string; dag: number }[] = [];
          const stopped = new Set<string>();
          try {
            for (const round of rounds) {
              const known = [...accepted];
              await Promise.all(
                round.map(async (s) => {
                  if (s.op === 'submit') {
                    const reply = await gw.gateway.app.inject({
                      method: 'POST',
                      url: '/strategies',
                      payload: submission(DAGS[s.dag]!),
                    });
                    expect([202, 409], reply.body).toContain(reply.statusCode);
                    if (reply.statusCode === 202) accepted.push({ id: reply.json().strategy_id, dag: s.dag });
                    return;
                  }
                  const target = known[s.pick % Math.max(1, known.length)];
                  if (s.op === 'status' || target === undefined) return;
                  const reply = await gw.gateway.app.inject({
                    method: 'DELETE',
                    url: `/strategies/${target.id}`,
                  });
                  expect([200, 409], reply.body).toContain(reply.statusCode);
                  if (reply.statusCode === 200) stopped.add(target.id);
                }),
              );
              const statuses = await Promise.all(
                accepted.map(async (x) => [x, await settled(gw, x.id)] as const),
              );
              for (const [x, status] of statuses)
                expect(status, x.id).toBe(stopped.has(x.id) ? 'stopped' : 'completed');
              for (const dag of [0, 1, 2]) {
                const active = statuses.filter(([x, status]) => x.dag === dag && status !== 'stopped');
                expect(active.length, `active strategies of DAG ${dag}`).toBeLessThanOrEqual(1);
              }
            }
          } finally {
            await gw.gateway.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
