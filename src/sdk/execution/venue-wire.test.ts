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

  it('reads an integer order_id as its decimal string, as venues commonly answer it', () => {
    expect(parseAck(200, { order_id: 12345, status: 'accepted' }, URL, 'c1')).toEqual({
      orderId: '12345',
      status: 'accepted',
    });
    expect(parseAck(200, { order_id: 0, status: 'rejected' }, URL, 'c1').orderId).toBe('0');
    expect(parseAck(409, { order_id: 77, detail: 'duplicate' }, URL, 'c1').orderId).toBe('77');
  });

  it('refuses an order_id of another type, naming the field and the value', () => {
    expect(thrownBy(() => parseAck(200, { order_id: 1.5, status: 'accepted' }, URL, 'c1'))).toMatchObject({
      code: ErrorCode.Unavailable,
      message:
        'POST "http://venue/orders" answered 200 with order_id 1.5, which is neither a non-empty string nor an integer: {"order_id":1.5,"status":"accepted"}',
    });
    for (const [id, shown] of [
      [{ id: 1 }, '{"id":1}'],
      [true, 'true'],
      [null, 'null'],
      ['', '""'],
    ] as const)
      expect(() => parseAck(200, { order_id: id, status: 'accepted' }, URL, 'c1')).toThrow(
        `answered 200 with order_id ${shown}, which is neither`,
      );
    // 2^53 + 1 reads back as 2^53: its digits are lost, so it is refused rather than misread.
    expect(() =>
      parseAck(200, JSON.parse('{"order_id": 9007199254740993, "status": "accepted"}'), URL, 'c1'),
    ).toThrow('with order_id 9007199254740992, an integer too large to read exactly');
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
