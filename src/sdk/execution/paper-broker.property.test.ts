/**
 * The paper broker against a model over generated timelines of orders (market and limit, buys
 * and sells, some invalid) and bars, for both fill modes, with fees and slippage: every order
 * fills on the first bar its rule allows, at the documented price, in the order it was given.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bar } from './broker.js';
import { FillAt, PaperBroker } from './paper-broker.js';

type Step =
  | { kind: 'order'; side: 'buy' | 'sell'; quantity: number; limit: number | null; lag: number }
  | { kind: 'bar'; open: number; up: number; down: number; close: number };

const priceLevel = fc.integer({ min: 90, max: 110 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('order' as const),
    side: fc.constantFrom('buy' as const, 'sell' as const),
    quantity: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(0), fc.constant(-1)),
    limit: fc.option(priceLevel, { nil: null }),
    /** How many bars back the order's bucket is (0: the newest bar's bucket). */
    lag: fc.integer({ min: 0, max: 1 }),
  }),
  fc.record({
    kind: fc.constant('bar' as const),
    open: priceLevel,
    up: fc.integer({ min: 0, max: 5 }),
    down: fc.integer({ min: 0, max: 5 }),
    close: priceLevel,
  }),
);

interface ModelOrder {
  readonly id: string;
  readonly side: 'buy' | 'sell';
  readonly quantity: number;
  readonly limit: number | null;
  readonly bucket: number;
}

describe('the paper broker against a model', () => {
  it('fills every order on the first bar its rule allows, at its price, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 30 }),
        fc.constantFrom(FillAt.NextOpen, FillAt.Close),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 30 }),
        async (steps, fillAt, feeBps, slippageBps) => {
          const broker = new PaperBroker({ fillAt, feeBps, slippageBps });
          const working: ModelOrder[] = [];
          const fills: { orderId: string; ts: number; price: number; quantity: number; fee: number }[] = [];
          let last: Bar | null = null;
          let ts = 60;
          let count = 0;
          const priceOn = (order: ModelOrder, bar: Bar): number | null => {
            if (order.limit !== null) {
              if (bar.ts <= order.bucket) return null;
              if (order.side === 'buy')
                return bar.low <= order.limit ? Math.min(bar.open, order.limit) : null;
              return bar.high >= order.limit ? Math.max(bar.open, order.limit) : null;
            }
            if (fillAt === FillAt.Close ? bar.ts < order.bucket : bar.ts <= order.bucket) return null;
            const base = fillAt === FillAt.Close ? bar.close : bar.open;
            const slip = (base * slippageBps) / 10_000;
            return order.side === 'buy' ? base + slip : base - slip;
          };
          const fill = (order: ModelOrder, bar: Bar): boolean => {
            const price = priceOn(order, bar);
            if (price === null) return false;
            const fee = (order.quantity * price * feeBps) / 10_000;
            fills.push({ orderId: order.id, ts: bar.ts, price, quantity: order.quantity, fee });
            return true;
          };
          for (const s of steps) {
            if (s.kind === 'bar') {
              const bar: Bar = {
                ts: (ts += 60),
                open: s.open,
                high: Math.max(s.open, s.close) + s.up,
                low: Math.min(s.open, s.close) - s.down,
                close: s.close,
              };
              broker.onBar('X', bar);
              working.splice(0, working.length, ...working.filter((order) => !fill(order, bar)));
              last = bar;
              continue;
            }
            const bucket = ts - s.lag * 60;
            const ack = await broker.submit(
              {
                symbol: 'X',
                side: s.side,
                quantity: s.quantity,
                ...(s.limit !== null && { type: 'limit' as const, limitPrice: s.limit }),
              },
              { bucket, nodeId: 'n' },
            );
            const id = `paper-${(count += 1)}`;
            expect(ack.orderId).toBe(id);
            if (s.quantity <= 0) {
              expect(ack.status).toBe('rejected');
              continue;
            }
            expect(ack.status).toBe('accepted');
            const order = { id, side: s.side, quantity: s.quantity, limit: s.limit, bucket };
            const now = fillAt === FillAt.Close && s.limit === null && last !== null && last.ts >= bucket;
            if (!(now && fill(order, last!))) working.push(order);
          }
          const report = broker.report();
          expect(
            report.fills.map(({ orderId, ts, price, quantity, fee }) => ({
              orderId,
              ts,
              price,
              quantity,
              fee,
            })),
          ).toEqual(fills);
          const filled = new Set(fills.map((f) => f.orderId));
          for (const order of report.orders)
            if (order.status !== 'rejected')
              expect(order.status).toBe(filled.has(order.orderId) ? 'filled' : 'accepted');
          const position = fills.reduce(
            (sum, f) =>
              sum +
              (report.fills.find((r) => r.orderId === f.orderId)!.side === 'buy' ? f.quantity : -f.quantity),
            0,
          );
          expect(report.positions['X']?.quantity ?? 0).toBe(position);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
