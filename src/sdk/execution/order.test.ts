import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { thrownBy } from '../../common/errors.test-kit.js';
import { isTargetPosition, orderProblems, validateIntent, validateOrder } from './order.js';

describe('validateOrder', () => {
  it('fills in type "market" and keeps only the known fields', () => {
    expect(validateOrder({ symbol: 'BTC', side: 'buy', quantity: 2 }, 'order')).toEqual({
      symbol: 'BTC',
      side: 'buy',
      quantity: 2,
      type: 'market',
    });
  });

  it('keeps a limit price and a tag', () => {
    const order = {
      symbol: 'ETH',
      side: 'sell',
      quantity: 0.5,
      type: 'limit',
      limitPrice: 3000,
      tag: 'exit',
    };
    expect(validateOrder(order, 'order')).toEqual(order);
  });

  it('lists every problem at once, each naming the field and the value', () => {
    const error = thrownBy(() =>
      validateOrder({ symbol: '', side: 'long', quantity: -3, type: 'stop', qty: 1 }, 'node "x": order[2]'),
    );
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(error.problems.map((p) => p.message)).toEqual([
      'node "x": order[2]: unknown field "qty" (known: symbol, side, quantity, type, limitPrice, tag)',
      'node "x": order[2]: symbol must be a non-empty string, got ""',
      'node "x": order[2]: side must be "buy" or "sell", got "long"',
      'node "x": order[2]: quantity must be a finite number > 0, got -3',
      'node "x": order[2]: type must be "market" or "limit", got "stop"',
    ]);
    expect(error.message.startsWith('node "x": order[2] is not a valid order:\n  - ')).toBe(true);
  });

  it.each([0, NaN, Infinity, '1'])('rejects quantity %s', (quantity) => {
    expect(orderProblems({ symbol: 'BTC', side: 'buy', quantity }, 'o')).toHaveLength(1);
  });

  it('needs a positive limitPrice on a limit order', () => {
    expect(orderProblems({ symbol: 'BTC', side: 'buy', quantity: 1, type: 'limit' }, 'o')).toEqual([
      {
        code: ErrorCode.InvalidArgument,
        message: 'o: a limit order needs limitPrice, a finite number > 0, got undefined',
      },
    ]);
    expect(
      orderProblems({ symbol: 'BTC', side: 'buy', quantity: 1, type: 'limit', limitPrice: 0 }, 'o'),
    ).toHaveLength(1);
  });

  it('refuses a limitPrice on a market order, which is almost always a mistake', () => {
    expect(orderProblems({ symbol: 'BTC', side: 'buy', quantity: 1, limitPrice: 10 }, 'o')[0]?.message).toBe(
      'o: limitPrice 10 is only allowed on a limit order (type is "market")',
    );
  });

  it('says what an order looks like when given something else', () => {
    expect(thrownBy(() => validateOrder(1, 'o')).problems[0]?.message).toBe(
      'o must be an object like {symbol, side, quantity}, got 1',
    );
    expect(orderProblems([], 'o')).toHaveLength(1);
  });
});

describe('validateIntent', () => {
  it('reads an item with a target as a target position', () => {
    const intent = validateIntent({ symbol: 'BTC', target: -2 }, 'o');
    expect(intent).toEqual({ symbol: 'BTC', target: -2 });
    expect(isTargetPosition(intent)).toBe(true);
  });

  it('accepts a flat target of 0', () => {
    expect(validateIntent({ symbol: 'BTC', target: 0, tag: 'flat' }, 'o')).toEqual({
      symbol: 'BTC',
      target: 0,
      tag: 'flat',
    });
  });

  it('lists the problems of a bad target position', () => {
    const error = thrownBy(() => validateIntent({ symbol: 'BTC', target: 'max', side: 'buy' }, 'o'));
    expect(error.message).toBe(
      [
        'o is not a valid target position:',
        '  - o: unknown field "side" (known: symbol, target, tag)',
        '  - o: target must be a finite number (> 0 long, < 0 short, 0 flat), got "max"',
      ].join('\n'),
    );
  });

  it('reads anything else as an order', () => {
    const intent = validateIntent({ symbol: 'BTC', side: 'sell', quantity: 1 }, 'o');
    expect(isTargetPosition(intent)).toBe(false);
    expect(() => validateIntent(null, 'o')).toThrow(
      'o must be an object like {symbol, side, quantity}, got null',
    );
  });
});
