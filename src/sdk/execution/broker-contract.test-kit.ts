import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from './broker.js';

/** A broker under test and how to release what it uses. */
export interface BrokerFixture {
  readonly broker: Broker;
  readonly cleanup?: () => Promise<void>;
}

const NODE_ID = 'a'.repeat(64);

/**
 * The behaviour every {@link Broker} adapter shares: what the {@link OrderRouter} and the report
 * readers rely on. Run it once per adapter.
 */
export function testBrokerContract(name: string, makeBroker: () => Promise<BrokerFixture>): void {
  describe(`${name} (Broker contract)`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
    });

    async function broker(): Promise<Broker> {
      const fixture = await makeBroker();
      if (fixture.cleanup) cleanups.push(fixture.cleanup);
      return fixture.broker;
    }

    it('accepts a valid order and lists it with where it came from', async () => {
      const subject = await broker();
      const ack = await subject.submit(
        { symbol: 'BTC', side: 'buy', quantity: 2, tag: 'entry' },
        { bucket: 60, nodeId: NODE_ID },
      );
      expect(ack.status).toBe('accepted');
      expect(ack.orderId).not.toBe('');
      expect(subject.report().orders).toEqual([
        {
          orderId: ack.orderId,
          bucket: 60,
          nodeId: NODE_ID,
          symbol: 'BTC',
          side: 'buy',
          quantity: 2,
          type: 'market',
          tag: 'entry',
          status: 'accepted',
        },
      ]);
    });

    it('rejects an invalid order with a reason naming the field and value, and lists it', async () => {
      const subject = await broker();
      const bad = { symbol: 'BTC', side: 'buy', quantity: -1 } as const;
      const ack = await subject.submit(bad, { bucket: 60, nodeId: NODE_ID });
      expect(ack.status).toBe('rejected');
      expect(ack.reason).toContain('quantity must be a finite number > 0, got -1');
      expect(subject.report().orders[0]).toMatchObject({ status: 'rejected', reason: ack.reason });
    });

    it('reports plain JSON, a fresh copy each call', async () => {
      const subject = await broker();
      await subject.submit({ symbol: 'BTC', side: 'sell', quantity: 1 }, { bucket: 0, nodeId: NODE_ID });
      subject.onBar?.('BTC', { ts: 60, open: 10, high: 10, low: 10, close: 10 });
      const report = subject.report();
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
      report.orders.pop();
      report.equityCurve.push([1, 1]);
      expect(subject.report().orders).toHaveLength(1);
      expect(subject.report().equityCurve.some(([ts]) => ts === 1)).toBe(false);
    });

    it('takes no orders once closed, rejecting rather than throwing', async () => {
      const subject = await broker();
      await subject.close();
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = subject.submit({ symbol: 'BTC', side: 'buy', quantity: 1 }, { bucket: 0, nodeId: NODE_ID });
      }).not.toThrow();
      await expect(pending).rejects.toThrow(/closed/);
    });
  });
}
