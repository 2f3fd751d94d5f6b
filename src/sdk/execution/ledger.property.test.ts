/**
 * The ledger over generated fills and marks on a few symbols (buys, sells, going through zero,
 * fees): positions are the sums of the fills, cash moves by exactly each fill's notional and fee,
 * and the accounting identity equity = initial cash + realised + unrealised PnL − fees holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.js';

type Event =
  | { kind: 'fill'; symbol: string; side: 'buy' | 'sell'; quantity: number; price: number; fee: number }
  | { kind: 'mark'; symbol: string; price: number };

const symbol = fc.constantFrom('BTC', 'ETH', 'SOL');
const price = fc.double({ min: 0.01, max: 100_000, noNaN: true });
const event: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('fill' as const),
      symbol,
      side: fc.constantFrom('buy' as const, 'sell' as const),
      quantity: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.001, max: 10, noNaN: true })),
      price,
      fee: fc.double({ min: 0, max: 50, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mark' as const), symbol, price }) },
);

const close = (actual: number, expected: number, scale: number, what: string): void => {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-9 * scale + 1e-9,
  );
};

describe('the ledger over generated fills and marks', () => {
  it('keeps positions, cash and the accounting identity', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 40 }), (events) => {
        const initial = 100_000;
        const ledger = new Ledger(initial);
        const held = new Map<string, number>();
        let cash = initial;
        let fees = 0;
        let scale = initial;
        for (const e of events) {
          if (e.kind === 'mark') {
            ledger.mark(e.symbol, e.price);
            continue;
          }
          ledger.fill(e.symbol, e.side, e.quantity, e.price, e.fee);
          const signed = e.side === 'buy' ? e.quantity : -e.quantity;
          held.set(e.symbol, (held.get(e.symbol) ?? 0) + signed);
          cash += -signed * e.price - e.fee;
          fees += e.fee;
          scale += e.quantity * e.price;
        }
        const snapshot = ledger.snapshot();
        close(snapshot.cash, cash, scale, 'cash');
        close(snapshot.fees, fees, scale, 'fees');
        for (const [s, quantity] of held)
          close(snapshot.positions[s]?.quantity ?? 0, quantity, 1e3, `${s} quantity`);
        close(
          snapshot.equity,
          initial + snapshot.realizedPnl + snapshot.unrealizedPnl - snapshot.fees,
          scale,
          'identity',
        );
        const perSymbol = Object.values(snapshot.positions);
        close(
          snapshot.realizedPnl,
          perSymbol.reduce((sum, p) => sum + p.realizedPnl, 0),
          scale,
          'realised total',
        );
        close(
          snapshot.unrealizedPnl,
          perSymbol.reduce((sum, p) => sum + p.unrealizedPnl, 0),
          scale,
          'unrealised total',
        );
        for (const p of perSymbol) if (p.quantity === 0) expect(p.unrealizedPnl).toBe(0);
      }),
      { numRuns: 5_000 },
    );
  });
});
