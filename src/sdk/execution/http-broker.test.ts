import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../../common/errors.js';
import type { SleepFn } from '../../common/retry.js';
import { testBrokerContract } from './broker-contract.test-kit.js';
import { HttpBroker } from './http-broker.js';

/** A request the fake venue received. */
interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly url: string;
  readonly body: unknown;
}

/** How the venue answers the n-th request (0-based): a status and JSON body, or `'hang'`. */
type Answer = { status: number; body?: unknown } | 'hang';

interface Venue {
  readonly url: string;
  readonly received: Received[];
  readonly close: () => Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A real HTTP venue on 127.0.0.1 with an ephemeral port. */
async function venue(answer: (index: number, body: unknown) => Answer | Promise<Answer>): Promise<Venue> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      received.push({ headers: request.headers, url: request.url ?? '', body });
      void Promise.resolve(answer(received.length - 1, body)).then((reply) => {
        if (reply === 'hang') return;
        response.writeHead(reply.status, { 'content-type': 'application/json' });
        response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => closeServer(server) };
}

const accepting = (index: number): Answer => ({
  status: 200,
  body: { order_id: `v-${index + 1}`, status: 'accepted' },
});

/** Records the backoff delays instead of waiting them. */
function noWait(delays: number[] = []): SleepFn {
  return (ms) => {
    delays.push(ms);
    return Promise.resolve();
  };
}

const NODE = 'f'.repeat(64);
const ORDER = { symbol: 'BTC', side: 'buy', quantity: 1.5 } as const;

testBrokerContract('HttpBroker', async () => {
  const server = await venue(accepting);
  return { broker: new HttpBroker({ url: server.url, sleep: noWait() }), cleanup: server.close };
});

describe('HttpBroker', () => {
  it('POSTs the order, bucket, node and a client order id, and returns the venue ack', async () => {
    const server = await venue(accepting);
    const broker = new HttpBroker({ url: `${server.url}/`, token: 's3cret' });
    const ack = await broker.submit(ORDER, { bucket: 120, nodeId: NODE });
    expect(ack).toEqual({ orderId: 'v-1', status: 'accepted' });
    const [request] = server.received;
    expect(request?.url).toBe('/orders');
    expect(request?.body).toEqual({
      order: { symbol: 'BTC', side: 'buy', quantity: 1.5, type: 'market' },
      bucket: 120,
      nodeId: NODE,
      clientOrderId: 'ffffffffffffffff-120-1',
    });
    expect(request?.headers['authorization']).toBe('Bearer s3cret');
    expect(request?.headers['idempotency-key']).toBe('ffffffffffffffff-120-1');
    expect(broker.report().orders[0]).toMatchObject({ orderId: 'v-1', status: 'accepted' });
    expect(broker.report().fills).toEqual([]);
  });

  it('takes a numeric order_id as its decimal string: the order is accepted, with its fills, not unknown', async () => {
    const server = await venue(() => ({
      status: 200,
      body: { order_id: 4_200_001, status: 'accepted', fills: [{ price: 100, quantity: 1.5 }] },
    }));
    const broker = new HttpBroker({ url: server.url, sleep: noWait() });
    await expect(broker.submit(ORDER, { bucket: 120, nodeId: NODE })).resolves.toEqual({
      orderId: '4200001',
      status: 'accepted',
    });
    expect(broker.report().orders[0]).toMatchObject({ orderId: '4200001', status: 'filled' });
    expect(broker.report().fills).toMatchObject([{ orderId: '4200001', price: 100, quantity: 1.5 }]);
  });

  it('numbers the orders of one node and bucket, so a replay sends the same keys', async () => {
    const server = await venue(accepting);
    const broker = new HttpBroker({ url: server.url });
    await broker.submit(ORDER, { bucket: 60, nodeId: NODE });
    await broker.submit(ORDER, { bucket: 60, nodeId: NODE });
    await broker.submit(ORDER, { bucket: 120, nodeId: NODE });
    expect(server.received.map((r) => r.headers['idempotency-key'])).toEqual([
      'ffffffffffffffff-60-1',
      'ffffffffffffffff-60-2',
      'ffffffffffffffff-120-1',
    ]);
  });

  it('maps a 4xx to a rejection with the server reason, without retrying', async () => {
    const server = await venue(() => ({ status: 422, body: { reason: 'insufficient margin' } }));
    const broker = new HttpBroker({ url: server.url, sleep: noWait() });
    const ack = await broker.submit(ORDER, { bucket: 60, nodeId: NODE });
    expect(ack).toEqual({
      orderId: 'ffffffffffffffff-60-1',
      status: 'rejected',
      reason: 'HTTP 422: insufficient margin',
    });
    expect(server.received).toHaveLength(1);
    expect(broker.report().orders[0]).toMatchObject({
      status: 'rejected',
      reason: 'HTTP 422: insufficient margin',
    });
  });

  it('retries a 5xx with backoff and the same idempotency key until it succeeds', async () => {
    const server = await venue((index) =>
      index < 2 ? { status: 503, body: { message: 'busy' } } : accepting(index),
    );
    const delays: number[] = [];
    const broker = new HttpBroker({ url: server.url, sleep: noWait(delays) });
    const ack = await broker.submit(ORDER, { bucket: 60, nodeId: NODE });
    expect(ack).toEqual({ orderId: 'v-3', status: 'accepted' });
    expect(delays).toEqual([200, 400]);
    expect(new Set(server.received.map((r) => r.headers['idempotency-key']))).toEqual(
      new Set(['ffffffffffffffff-60-1']),
    );
  });

  it('gives up after the retries and reports the order as unknown', async () => {
    const server = await venue(() => ({ status: 500, body: { message: 'down' } }));
    const broker = new HttpBroker({ url: server.url, retries: 1, sleep: noWait() });
    const error = await broker.submit(ORDER, { bucket: 60, nodeId: NODE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe(ErrorCode.Unavailable);
    expect((error as QmtlError).message).toBe(
      `POST "${server.url}/orders" failed after 2 tries: HTTP 500: {"message":"down"}`,
    );
    expect(server.received).toHaveLength(2);
    expect(broker.report().orders[0]).toMatchObject({ status: 'unknown', orderId: 'ffffffffffffffff-60-1' });
  });

  it('times out a venue that does not answer, retrying once', async () => {
    const server = await venue(() => 'hang');
    const broker = new HttpBroker({ url: server.url, timeoutMs: 50, retries: 1, sleep: noWait() });
    const error = await broker.submit(ORDER, { bucket: 60, nodeId: NODE }).catch((e: unknown) => e);
    expect((error as QmtlError).code).toBe(ErrorCode.Timeout);
    expect((error as QmtlError).message).toContain('failed after 2 tries: timed out after 50 ms');
    expect(server.received).toHaveLength(2);
  });

  it('succeeds when the venue answers after a timed-out try', async () => {
    const server = await venue((index) => (index === 0 ? 'hang' : accepting(index)));
    const broker = new HttpBroker({ url: server.url, timeoutMs: 50, sleep: noWait() });
    expect(await broker.submit(ORDER, { bucket: 60, nodeId: NODE })).toEqual({
      orderId: 'v-2',
      status: 'accepted',
    });
  });

  it('calls a closed port unavailable', async () => {
    const server = await venue(accepting);
    await server.close();
    const broker = new HttpBroker({ url: server.url, retries: 0 });
    const error = await broker.submit(ORDER, { bucket: 60, nodeId: NODE }).catch((e: unknown) => e);
    expect((error as QmtlError).code).toBe(ErrorCode.Unavailable);
    // The network's own reason, not only fetch's "fetch failed".
    expect((error as QmtlError).message).toMatch(
      /failed after 1 try: fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/,
    );
  });

  it('does not retry a 2xx it cannot read (the order may be placed) and reports it unknown', async () => {
    const server = await venue(() => ({ status: 200, body: { ok: true } }));
    const broker = new HttpBroker({ url: server.url, sleep: noWait() });
    await expect(broker.submit(ORDER, { bucket: 60, nodeId: NODE })).rejects.toThrow(
      'without {order_id, status: "accepted" | "rejected"}: {"ok":true}',
    );
    expect(server.received).toHaveLength(1);
    expect(broker.report().orders[0]?.status).toBe('unknown');
  });

  it('books the fills the venue returns into positions and PnL', async () => {
    const server = await venue((index) => ({
      status: 200,
      body: {
        order_id: `v-${index + 1}`,
        status: 'accepted',
        fills: [
          { price: index === 0 ? 100 : 110, quantity: 1.5, fee: 0.25, ts: 61 + index },
          { price: 'bad' },
        ],
      },
    }));
    const broker = new HttpBroker({ url: server.url, initialCash: 1000 });
    await broker.submit(ORDER, { bucket: 60, nodeId: NODE });
    await broker.submit({ ...ORDER, side: 'sell' }, { bucket: 120, nodeId: NODE });
    const report = broker.report();
    expect(report.fills.map((f) => [f.orderId, f.ts, f.price, f.fee, f.realizedPnl])).toEqual([
      ['v-1', 61, 100, 0.25, 0],
      ['v-2', 62, 110, 0.25, 15],
    ]);
    expect(report.orders.map((o) => o.status)).toEqual(['filled', 'filled']);
    expect(report).toMatchObject({ cash: 1014.5, realizedPnl: 15, fees: 0.5 });
  });

  it('marks the right order filled when answers come back out of order', async () => {
    let secondArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (secondArrived = resolve));
    const server = await venue(async (index) => {
      if (index === 1) secondArrived();
      else await arrived;
      const fills = index === 0 ? [{ price: 10, quantity: 1.5 }] : [];
      return { status: 200, body: { order_id: `v-${index + 1}`, status: 'accepted', fills } };
    });
    const broker = new HttpBroker({ url: server.url });
    await Promise.all([
      broker.submit(ORDER, { bucket: 60, nodeId: NODE }),
      broker.submit({ ...ORDER, symbol: 'ETH' }, { bucket: 60, nodeId: NODE }),
    ]);
    const report = broker.report();
    expect(report.orders.map((o) => [o.orderId, o.symbol, o.status])).toEqual([
      ['v-2', 'ETH', 'accepted'],
      ['v-1', 'BTC', 'filled'],
    ]);
    // The venue gave no time for the fill: the order's bucket stands in, so the report stays JSON.
    expect(report.fills[0]).toMatchObject({ orderId: 'v-1', ts: 60, symbol: 'BTC' });
  });

  it('rejects bad options with every problem', () => {
    const options = { url: 'ftp://x', token: '', timeoutMs: 0, retries: 1.5 };
    expect(() => new HttpBroker(options)).toThrow(
      [
        'invalid HttpBroker options:',
        '  - url must be an http(s) URL, got "ftp://x"',
        '  - token must be a non-empty string, got ""',
        '  - timeoutMs must be a number > 0, got 0',
        '  - retries must be an integer >= 0, got 1.5',
      ].join('\n'),
    );
  });

  it('rejects a misspelt option rather than running with its default', () => {
    const options = { url: 'http://127.0.0.1:1', timeout: 100, retries: 1 };
    expect(() => new HttpBroker(options as never)).toThrow(
      'unknown option "timeout" (known: url, token, timeoutMs, retries, backoff, sleep, initialCash)',
    );
  });
});
