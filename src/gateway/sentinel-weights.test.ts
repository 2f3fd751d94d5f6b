import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../common/logger.js';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import { submission, testGateway, type TestGateway } from './gateway.test-kit.js';
import { gatewayMetrics } from './metrics.js';
import { SentinelWeights } from './sentinel-weights.js';
import { StrategyStatus } from './strategy-status.js';

let current: TestGateway | null = null;
beforeEach(() => gatewayMetrics.sentinelTrafficRatio.reset());
afterEach(async () => {
  await current?.gateway.close();
  current = null;
});

async function start(options: Parameters<typeof testGateway>[0] = {}): Promise<TestGateway> {
  current = await testGateway(options);
  return current;
}

function postWeight(gw: TestGateway, sentinelId: unknown, weight: unknown = 0.5) {
  return gw.gateway.app.inject({
    method: 'POST',
    url: '/callbacks/dag-event',
    payload: {
      specversion: '1.0',
      id: 'e-weight',
      source: 'qmtl.dagmanager',
      type: 'sentinel_weight',
      data: { sentinel_id: sentinelId, weight },
    },
  });
}

/** Submits a DAG through the Gateway; returns its strategy and sentinel ids. */
async function submit(gw: TestGateway, prefix: string): Promise<{ strategyId: string; sentinelId: string }> {
  const response = await gw.gateway.app.inject({
    method: 'POST',
    url: '/strategies',
    payload: submission(chainDag(2, prefix)),
  });
  expect(response.statusCode).toBe(202);
  const body = response.json<{ strategy_id: string; sentinel_id: string }>();
  return { strategyId: body.strategy_id, sentinelId: body.sentinel_id };
}

async function gaugeLabels(): Promise<Map<string, number>> {
  const { values } = await gatewayMetrics.sentinelTrafficRatio.get();
  return new Map(values.map((v) => [String(v.labels.version), v.value]));
}

describe('sentinel_weight for sentinels of no strategy the Gateway knows', () => {
  it('keeps gauge labels and the table bounded under 20,000 distinct ids, and every known weight', async () => {
    const gw = await start();
    const mine = await submit(gw, 'a');
    // Submitted through another Gateway sharing the database: only the store knows it.
    const otherId = 'b0b0b0b0-0000-4000-8000-000000000000';
    await gw.store.insert({
      id: otherId,
      dagHash: 'other-dag',
      dagJson: JSON.stringify(chainDag(1, 'other')),
      meta: null,
      runType: 'live',
      createdAt: Date.now(),
    });
    expect((await postWeight(gw, mine.sentinelId, 0.25)).statusCode).toBe(202);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      if (i === 10_000) expect((await postWeight(gw, `${otherId}-sentinel`, 0.75)).statusCode).toBe(202);
      const { statusCode } = await postWeight(gw, `flood-${i}-sentinel`, (i % 100) / 100);
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
    }
    // Every weight is accepted (the DAG Manager is not made to retry), but only the newest 1,000
    // of sentinels no strategy has are kept (the default unknown_weight_limit).
    expect(statuses).toEqual(new Map([[202, 20_000]]));
    const labels = await gaugeLabels();
    expect(labels.size).toBe(1_002);
    expect(labels.get(mine.sentinelId)).toBe(0.25);
    expect(labels.get(`${otherId}-sentinel`)).toBe(0.75);
    expect(labels.has('flood-18999-sentinel')).toBe(false);
    expect(labels.get('flood-19999-sentinel')).toBe(0.99);
    expect(Object.keys(gw.gateway.weights.table())).toHaveLength(1_002);
    expect(gw.gateway.weights.get(mine.sentinelId)).toBe(0.25);
    expect((await gatewayMetrics.sentinelWeightEvictedTotal.get()).values[0]?.value).toBe(19_000);
  }, 60_000);

  it('keeps the unknown sentinels updated last when the limit is reached', async () => {
    const gw = await start({ unknownWeightLimit: 2 });
    for (const id of ['x', 'y']) await postWeight(gw, id, 0.1);
    await postWeight(gw, 'x', 0.2); // x is now the newer of the two
    await postWeight(gw, 'z', 0.3);
    expect(await gaugeLabels()).toEqual(
      new Map([
        ['x', 0.2],
        ['z', 0.3],
      ]),
    );
  });

  it('drops the weight and gauge label of a strategy once it stops', async () => {
    const gw = await start({ unknownWeightLimit: 0 });
    const { strategyId, sentinelId } = await submit(gw, 'c');
    await postWeight(gw, sentinelId, 0.4);
    expect((await gaugeLabels()).get(sentinelId)).toBe(0.4);
    const stop = await gw.gateway.app.inject({ method: 'DELETE', url: `/strategies/${strategyId}` });
    expect(stop.statusCode).toBe(200);
    expect((await gaugeLabels()).has(sentinelId)).toBe(false);
    expect(gw.gateway.weights.get(sentinelId)).toBeNull();
    // A late weight for the stopped strategy is one of no active strategy (none kept here).
    expect((await postWeight(gw, sentinelId, 0.6)).statusCode).toBe(202);
    expect((await gaugeLabels()).size).toBe(0);
  });

  it('answers 422 naming sentinel_id for a blank, overlong or control-character id', async () => {
    const gw = await start();
    const longest = `${'s'.repeat(256)}-sentinel`; // the sentinel of a 256-character strategy id
    expect((await postWeight(gw, longest)).statusCode).toBe(202);
    for (const id of ['   ', `${longest}x`, 'v\n2', 'v2\u0000', 'tab\there', 'lone\ud800', '', 7]) {
      const reply = await postWeight(gw, id);
      expect(reply.statusCode, JSON.stringify(id)).toBe(422);
      expect(reply.json()).toMatchObject({
        code: 'QMTL_INVALID_ARGUMENT',
        message: expect.stringMatching(
          /^invalid sentinel_weight: sentinel_id must be a non-blank string of at most 265 characters without control characters, got .+/,
        ),
      });
    }
    const both = await postWeight(gw, '', 2);
    expect(both.json().message).toMatch(
      /sentinel_id must be .*, got ""; weight must be a number in \[0, 1\], got 2/,
    );
    expect([...(await gaugeLabels()).keys()]).toEqual([longest]);
  });
});

describe('sentinel_weight from the in-process DAG Manager', () => {
  it('is applied by gateway.dagEvent, and an invalid one is logged, not thrown', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const gw = await start();
    const { sentinelId } = await submit(gw, 'd');
    gw.gateway.dagEvent('sentinel_weight', { sentinel_id: sentinelId, weight: 0.3 });
    gw.gateway.dagEvent('sentinel_weight', { sentinel_id: 'bad\nid', weight: 0.3 });
    await vi.waitFor(() => expect(gw.gateway.weights.get(sentinelId)).toBe(0.3));
    await vi.waitFor(() =>
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ type: 'sentinel_weight' }),
        'invalid DAG Manager event ignored',
      ),
    );
    expect(gw.gateway.weights.table()).toEqual({ [sentinelId]: 0.3 });
    warn.mockRestore();
  });
});

describe('SentinelWeights', () => {
  /** A table whose strategy lookups wait until the test answers them, in any order. */
  function pausedLookups(unknownLimit = 1) {
    const lookups: { strategyId: string; answer: (status: StrategyStatus | null | Error) => void }[] = [];
    const published: unknown[] = [];
    const weights = new SentinelWeights({
      events: { publish: (_type, data) => void published.push(data) },
      strategyStatus: (strategyId) =>
        new Promise((resolve, reject) =>
          lookups.push({
            strategyId,
            answer: (status) => (status instanceof Error ? reject(status) : resolve(status)),
          }),
        ),
      unknownLimit,
    });
    return { weights, lookups, published };
  }

  it('applies the weights of one sentinel in the order they came, whatever their lookups take', async () => {
    const { weights, lookups, published } = pausedLookups();
    const first = weights.update('s1-sentinel', 0.1);
    const second = weights.update('s1-sentinel', 0.2);
    await vi.waitFor(() => expect(lookups).toHaveLength(1));
    expect(lookups[0]!.strategyId).toBe('s1');
    lookups[0]!.answer(StrategyStatus.Completed);
    expect(await Promise.all([first, second])).toEqual([true, true]);
    // The second found s1 known: no second lookup.
    expect(lookups).toHaveLength(1);
    expect(weights.get('s1-sentinel')).toBe(0.2);
    expect(published).toEqual([
      { sentinel_id: 's1-sentinel', weight: 0.1 },
      { sentinel_id: 's1-sentinel', weight: 0.2 },
    ]);
  });

  it('drops a weight whose update was looking up its strategy when the strategy stopped', async () => {
    const { weights, lookups } = pausedLookups();
    const update = weights.update('s2-sentinel', 0.3);
    await vi.waitFor(() => expect(lookups).toHaveLength(1));
    const forget = weights.forget('s2-sentinel');
    lookups[0]!.answer(StrategyStatus.Completed); // read before the stop committed
    await Promise.all([update, forget]);
    expect(weights.get('s2-sentinel')).toBeNull();
    expect((await gaugeLabels()).has('s2-sentinel')).toBe(false);
  });

  it('keeps a weight whose lookup failed as unknown, warns once, and looks again on its next update', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const { weights, lookups } = pausedLookups(1);
    for (const [id, weight] of [
      ['s3-sentinel', 0.4],
      ['s4-sentinel', 0.5],
    ] as const) {
      const update = weights.update(id, weight);
      await vi.waitFor(() => expect(lookups.at(-1)?.strategyId).toBe(id.slice(0, 2)));
      lookups.at(-1)!.answer(new Error('database down'));
      await update;
    }
    expect(warn.mock.calls).toEqual([
      [
        { component: 'sentinel weights', error: 'database down' },
        'could not look up the strategy of a sentinel weight',
      ],
    ]);
    // One unknown weight may be kept: s4 pushed s3 out.
    expect(weights.table()).toEqual({ 's4-sentinel': 0.5 });
    const again = weights.update('s4-sentinel', 0.6);
    await vi.waitFor(() => expect(lookups).toHaveLength(3));
    lookups[2]!.answer(StrategyStatus.Queued);
    await again;
    const flood = weights.update('flood', 0.7); // no -sentinel suffix: no lookup
    await flood;
    expect(lookups).toHaveLength(3);
    expect(weights.table()).toEqual({ 's4-sentinel': 0.6, flood: 0.7 });
    warn.mockRestore();
  });
});
