import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.js';

describe('Ledger', () => {
  it('averages the entry price when adding to a position', () => {
    const ledger = new Ledger(1000);
    ledger.fill('BTC', 'buy', 1, 100, 0);
    ledger.fill('BTC', 'buy', 3, 104, 0);
    expect(ledger.snapshot().positions['BTC']).toMatchObject({ quantity: 4, averagePrice: 103 });
    expect(ledger.snapshot().cash).toBe(1000 - 100 - 312);
  });

  it('realises PnL on the closed part and keeps the average on the rest', () => {
    const ledger = new Ledger(0);
    ledger.fill('BTC', 'buy', 4, 100, 0);
    expect(ledger.fill('BTC', 'sell', 1, 110, 0)).toBe(10);
    expect(ledger.snapshot().positions['BTC']).toMatchObject({
      quantity: 3,
      averagePrice: 100,
      realizedPnl: 10,
    });
  });

  it('realises a short at a profit when the price falls', () => {
    const ledger = new Ledger(0);
    ledger.fill('BTC', 'sell', 2, 100, 0);
    expect(ledger.fill('BTC', 'buy', 2, 90, 0)).toBe(20);
    expect(ledger.snapshot()).toMatchObject({
      cash: 20,
      realizedPnl: 20,
      positions: { BTC: { quantity: 0, averagePrice: 0 } },
    });
  });

  it('flips through zero: closes the old side, opens the rest at the fill price', () => {
    const ledger = new Ledger(0);
    ledger.fill('BTC', 'buy', 1, 100, 0);
    expect(ledger.fill('BTC', 'sell', 3, 105, 0)).toBe(5);
    expect(ledger.snapshot().positions['BTC']).toMatchObject({ quantity: -2, averagePrice: 105 });
  });

  it('marks unrealised PnL at the last close, not at the fill price', () => {
    const ledger = new Ledger(1000);
    ledger.mark('BTC', 99);
    ledger.fill('BTC', 'buy', 2, 100, 1);
    expect(ledger.snapshot()).toMatchObject({ unrealizedPnl: -2, equity: 1000 - 200 - 1 + 198, fees: 1 });
    ledger.mark('BTC', 110);
    expect(ledger.snapshot()).toMatchObject({ unrealizedPnl: 20, equity: 1019 });
  });

  it('marks at the last fill price until the symbol has a bar', () => {
    const ledger = new Ledger(0);
    ledger.fill('ETH', 'buy', 1, 50, 0);
    expect(ledger.snapshot().positions['ETH']).toMatchObject({ lastPrice: 50, unrealizedPnl: 0 });
  });

  it('does not leave a dust position after float residue', () => {
    const ledger = new Ledger(0);
    ledger.fill('BTC', 'buy', 0.1, 1, 0);
    ledger.fill('BTC', 'buy', 0.2, 1, 0);
    ledger.fill('BTC', 'sell', 0.3, 1, 0);
    expect(ledger.snapshot().positions['BTC']?.quantity).toBe(0);
  });

  it('keeps one equity point per time, the latest', () => {
    const ledger = new Ledger(100);
    ledger.recordEquity(60);
    ledger.fill('BTC', 'buy', 1, 10, 1);
    ledger.recordEquity(60);
    ledger.recordEquity(120);
    expect(ledger.snapshot().equityCurve).toEqual([
      [60, 99],
      [120, 99],
    ]);
  });

  it('lists positions sorted by symbol whatever the trading order', () => {
    const ledger = new Ledger(0);
    ledger.fill('ETH', 'buy', 1, 1, 0);
    ledger.fill('BTC', 'buy', 1, 1, 0);
    expect(Object.keys(ledger.snapshot().positions)).toEqual(['BTC', 'ETH']);
  });

  it('never reports -0, which JSON would turn into 0', () => {
    const ledger = new Ledger(0);
    ledger.fill('BTC', 'sell', 1, 10, 0);
    ledger.mark('BTC', 10);
    expect(Object.is(ledger.snapshot().unrealizedPnl, 0)).toBe(true);
    expect(Object.is(ledger.fill('BTC', 'buy', 1, 10, 0), 0)).toBe(true);
  });
});
