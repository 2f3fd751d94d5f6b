import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { thrownBy } from '../../common/errors.test-kit.js';
import { parseAck, parseBody, parseFills } from './venue-wire.js';

const URL = 'http://venue/orders';

describe('parseAck', () => {
  it('reads an accepted or rejected 2xx', () => {
    expect(parseAck(200, { order_id: 'v1', status: 'accepted' }, URL, 'c1')).toEqual({
      orderId: 'v1',
      status: 'accepted',
    });
    expect(parseAck(201, { order_id: 'v2', status: 'rejected', reason: 'halted' }, URL, 'c1')).toEqual({
      orderId: 'v2',
      status: 'rejected',
      reason: 'halted',
    });
  });

  it("turns a 4xx into a rejection with the server's reason, under our id when it gives none", () => {
    expect(parseAck(400, { message: 'bad symbol' }, URL, 'c1')).toEqual({
      orderId: 'c1',
      status: 'rejected',
      reason: 'HTTP 400: bad symbol',
    });
    expect(parseAck(403, 'forbidden', URL, 'c1').reason).toBe('HTTP 403: no reason given');
    expect(parseAck(409, { order_id: 'v9', detail: 'duplicate' }, URL, 'c1').orderId).toBe('v9');
  });

  it('refuses a 2xx it cannot read, quoting the body', () => {
    expect(() => parseAck(200, { status: 'ok' }, URL, 'c1')).toThrow(
      'POST "http://venue/orders" answered 200 without {order_id, status: "accepted" | "rejected"}: {"status":"ok"}',
    );
    expect(thrownBy(() => parseAck(200, '', URL, 'c1')).code).toBe(ErrorCode.Unavailable);
  });
});

describe('parseFills', () => {
  it('keeps readable fills, defaulting fee to 0 and ts to null', () => {
    expect(
      parseFills({
        fills: [
          { price: 10, quantity: 2 },
          { price: 11, quantity: 1, fee: 0.1, ts: 60 },
        ],
      }),
    ).toEqual({
      fills: [
        { price: 10, quantity: 2, fee: 0, ts: null },
        { price: 11, quantity: 1, fee: 0.1, ts: 60 },
      ],
      invalid: [],
    });
  });

  it('sets aside fills without a price or a positive quantity', () => {
    const bad = [{ price: '1', quantity: 1 }, { price: 1, quantity: 0 }, 7];
    expect(parseFills({ fills: bad })).toEqual({ fills: [], invalid: bad });
    expect(parseFills({ order_id: 'x' })).toEqual({ fills: [], invalid: [] });
  });
});

describe('parseBody', () => {
  it('parses JSON and keeps other text as it is', () => {
    expect(parseBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseBody('Bad Gateway')).toBe('Bad Gateway');
  });
});
