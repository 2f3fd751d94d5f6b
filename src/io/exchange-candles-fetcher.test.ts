import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import type { StreamKey } from '../sdk/history/protocols.js';
import {
  ExchangeCandlesFetcher,
  parseKlines,
  type ExchangeCandlesFetcherOptions,
} from './exchange-candles-fetcher.js';

interface Fixture {
  readonly symbol: string;
  readonly interval: string;
  readonly klines: readonly (readonly (string | number)[])[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../tests/fixtures/candles/btcusdt-1m.json', import.meta.url), 'utf8'),
) as Fixture;
/** 2024-01-01T00:00:00Z, the first candle of the fixture. */
const T0 = 1_704_067_200;
const key: StreamKey = { nodeId: 'btc', interval: 60 };

type Responder = (response: ServerResponse) => void;

/** A local klines endpoint over the fixture; `failures` answer the next requests first. */
interface CandleServer {
  readonly baseUrl: string;
  readonly requests: { at: number; query: URLSearchParams }[];
  readonly failures: Responder[];
}

let server: Server;
let exchange: CandleServer;
/** The most candles the server returns per page, whatever `limit` asks for (exchanges cap it). */
let pageCap = Infinity;

function serveKlines(request: IncomingMessage, response: ServerResponse, state: CandleServer): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  state.requests.push({ at: performance.now(), query: url.searchParams });
  const failure = state.failures.shift();
  if (failure !== undefined) return failure(response);
  const query = url.searchParams;
  if (url.pathname !== '/api/v3/klines' || query.get('symbol') !== fixture.symbol) {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end('{"code":-1121,"msg":"Invalid symbol."}');
    return;
  }
  const start = Number(query.get('startTime'));
  const end = Number(query.get('endTime'));
  const limit = Number(query.get('limit') ?? 500);
  const page = fixture.klines
    .filter((k) => (k[0] as number) >= start && (k[0] as number) <= end)
    .slice(0, Math.min(limit, pageCap));
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(page));
}

beforeEach(async () => {
  const state = { baseUrl: '', requests: [], failures: [] } as {
    -readonly [K in keyof CandleServer]: CandleServer[K];
  };
  server = createServer((request, response) => serveKlines(request, response, state));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  exchange = state;
});

afterEach(async () => {
  pageCap = Infinity;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A fetcher on the local server whose waits are recorded instead of slept. */
function fetcherWith(options: Partial<ExchangeCandlesFetcherOptions> = {}): {
  fetcher: ExchangeCandlesFetcher;
  waits: number[];
} {
  const waits: number[] = [];
  const fetcher = new ExchangeCandlesFetcher({
    baseUrl: exchange.baseUrl,
    symbol: 'BTCUSDT',
    requestsPerSecond: 1000,
    burst: 100,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    ...options,
  });
  return { fetcher, waits };
}

const status =
  (code: number, headers: Record<string, string> = {}, body = ''): Responder =>
  (response) => {
    response.writeHead(code, headers);
    response.end(body);
  };

describe('ExchangeCandlesFetcher', () => {
  it('turns klines of [start, end) into numeric OHLCV rows', async () => {
    const { fetcher } = fetcherWith();
    const rows = await fetcher.fetch(T0, T0 + 180, key);
    const first = fixture.klines[0]!;
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({
      ts: T0,
      open: Number(first[1]),
      high: Number(first[2]),
      low: Number(first[3]),
      close: Number(first[4]),
      volume: Number(first[5]),
    });
    expect(rows.map((row) => row.ts)).toEqual([T0, T0 + 60, T0 + 120]);
    const query = exchange.requests[0]!.query;
    expect(Object.fromEntries(query)).toEqual({
      symbol: 'BTCUSDT',
      interval: '1m',
      startTime: String(T0 * 1000),
      endTime: String((T0 + 180) * 1000 - 1),
      limit: '1000',
    });
  });

  it('pages through the range limit candles at a time', async () => {
    const { fetcher } = fetcherWith({ limit: 25 });
    const rows = await fetcher.fetch(T0, T0 + 3600, key);
    expect(rows).toHaveLength(60);
    expect(rows.every((row, i) => row.ts === T0 + 60 * i)).toBe(true);
    expect(exchange.requests.map((r) => (Number(r.query.get('startTime')) / 1000 - T0) / 60)).toEqual([
      0, 25, 50,
    ]);
  });

  it('goes on after a page the exchange cut below limit, until the range is covered', async () => {
    pageCap = 20;
    const { fetcher } = fetcherWith({ limit: 1000 });
    const rows = await fetcher.fetch(T0, T0 + 3600, key);
    expect(rows.map((row) => row.ts)).toEqual(Array.from({ length: 60 }, (_, i) => T0 + 60 * i));
    expect(exchange.requests.map((r) => (Number(r.query.get('startTime')) / 1000 - T0) / 60)).toEqual([
      0, 20, 40,
    ]);
  });

  it('stops at the first empty page when the exchange has no more candles in the range', async () => {
    const { fetcher } = fetcherWith({ limit: 1000 });
    expect(await fetcher.fetch(T0, T0 + 7200, key)).toHaveLength(60);
    expect(exchange.requests.map((r) => (Number(r.query.get('startTime')) / 1000 - T0) / 60)).toEqual([
      0, 60,
    ]);
  });

  it('asks for no further page once a full page reaches the end of the range', async () => {
    const { fetcher } = fetcherWith({ limit: 30 });
    expect(await fetcher.fetch(T0, T0 + 3600, key)).toHaveLength(60);
    expect(exchange.requests).toHaveLength(2);
  });

  it('retries a 500 with backoff and a 429 after its Retry-After, then succeeds', async () => {
    const { fetcher, waits } = fetcherWith({ baseDelayMs: 100 });
    exchange.failures.push(
      status(500, {}, 'boom'),
      status(429, { 'retry-after': '2' }, '{"code":-1003,"msg":"Too many requests."}'),
    );
    const rows = await fetcher.fetch(T0, T0 + 120, key);
    expect(rows).toHaveLength(2);
    expect(exchange.requests).toHaveLength(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeLessThan(100);
    expect(waits[1]).toBe(2000);
  });

  it('gives up after maxRetries on a persistent 503, naming the status and tries', async () => {
    const { fetcher, waits } = fetcherWith({ maxRetries: 2, baseDelayMs: 100, maxDelayMs: 150 });
    exchange.failures.push(...Array.from({ length: 5 }, () => status(503, {}, 'maintenance')));
    const error = await fetcher.fetch(T0, T0 + 60, key).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.HistoryUnavailable });
    expect((error as Error).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/api\/v3\/klines\?.* failed after 3 tries: HTTP 503: maintenance$/,
    );
    expect(exchange.requests).toHaveLength(3);
    expect(waits.every((ms) => ms <= 150)).toBe(true);
  });

  it('does not retry a 400 and quotes the exchange message', async () => {
    const { fetcher } = fetcherWith({ symbol: (k) => k.nodeId.toUpperCase() });
    const error = await fetcher.fetch(T0, T0 + 60, key).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/failed: HTTP 400: Invalid symbol\. \(code -1121\)$/);
    expect(exchange.requests.map((r) => r.query.get('symbol'))).toEqual(['BTC']);
  });

  it('fails at once when Retry-After asks for longer than maxDelayMs', async () => {
    const { fetcher, waits } = fetcherWith({ maxDelayMs: 1000 });
    exchange.failures.push(status(429, { 'retry-after': '120' }));
    const error = await fetcher.fetch(T0, T0 + 60, key).catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      'the server asks to retry after 120000 ms, more than maxDelayMs (1000)',
    );
    expect(waits).toEqual([]);
  });

  it('retries network failures and names the last one', async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    const { fetcher } = fetcherWith({ maxRetries: 1 });
    const error = await fetcher.fetch(T0, T0 + 60, key).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/failed after 2 tries: ECONNREFUSED$/);
    server = createServer();
  });

  it('times out a request that never answers', async () => {
    exchange.failures.push(() => undefined);
    const { fetcher } = fetcherWith({ maxRetries: 0, timeoutMs: 50 });
    const error = await fetcher.fetch(T0, T0 + 60, key).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/failed: .*timeout/i);
  });

  it('gives clear errors for responses that are not klines', async () => {
    const { fetcher } = fetcherWith({ maxRetries: 0 });
    exchange.failures.push(status(200, {}, '<html>maintenance</html>'));
    await expect(fetcher.fetch(T0, T0 + 60, key)).rejects.toThrow(
      /the response is not JSON: "<html>maintenance<\/html>"/,
    );
    exchange.failures.push(status(200, {}, '{"rows":[]}'));
    await expect(fetcher.fetch(T0, T0 + 60, key)).rejects.toThrow(
      /expected an array of klines, got \{"rows":\[\]\}/,
    );
    exchange.failures.push(status(200, {}, '[[1704067200000,"1","2","x","1.5","3"]]'));
    await expect(fetcher.fetch(T0, T0 + 60, key)).rejects.toThrow(
      /kline 0 must hold an open time and five numbers/,
    );
  });

  it('maps intervals to exchange codes and rejects unknown ones', async () => {
    const { fetcher } = fetcherWith({ intervals: { 45: '45s' } });
    await fetcher.fetch(T0, T0 + 300, { nodeId: 'btc', interval: 300 }).catch(() => undefined);
    await fetcher.fetch(T0, T0 + 90, { nodeId: 'btc', interval: 45 }).catch(() => undefined);
    expect(exchange.requests.map((r) => r.query.get('interval'))).toEqual(['5m', '45s']);
    await expect(fetcher.fetch(T0, T0 + 60, { nodeId: 'btc', interval: 7 })).rejects.toThrow(
      /no exchange interval for 7 s \(known: 1, 45, 60, 180/,
    );
  });

  it('spaces requests by its rate limit', async () => {
    const fetcher = new ExchangeCandlesFetcher({
      baseUrl: exchange.baseUrl,
      symbol: 'BTCUSDT',
      limit: 10,
      requestsPerSecond: 20,
      burst: 1,
    });
    await fetcher.fetch(T0, T0 + 3600, key);
    const times = exchange.requests.map((r) => r.at);
    expect(times).toHaveLength(6);
    // One token every 50 ms: no two requests closer than that (a little slack for timer rounding).
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(45);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(5 * 50 - 10);
  });

  it('rejects a baseUrl that is not an absolute URL, and bad numeric options naming them', () => {
    expect(() => new ExchangeCandlesFetcher({ baseUrl: 'api.example', symbol: 'X' })).toThrow(
      'baseUrl must be an absolute URL, got "api.example"',
    );
    const make = (options: Partial<ExchangeCandlesFetcherOptions>) => () =>
      new ExchangeCandlesFetcher({ baseUrl: 'http://127.0.0.1:1', symbol: 'X', ...options });
    expect(make({ maxRetries: -1 })).toThrow('maxRetries must be an integer ≥ 0, got -1');
    expect(make({ baseDelayMs: Number.NaN })).toThrow('baseDelayMs must be a number of ms ≥ 0, got NaN');
    expect(make({ timeoutMs: 0 })).toThrow('timeoutMs must be a positive number of ms, got 0');
    expect(make({ limit: 0 })).toThrow('limit must be a positive integer, got 0');
  });
});

describe('parseKlines', () => {
  it('accepts numbers or decimal strings and names the bad kline', () => {
    expect(parseKlines([[60_000, 1, '2', 0.5, '1.5', 10]], 'u')).toEqual([
      { ts: 60, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 },
    ]);
    expect(() => parseKlines([[60_000, '1', '2']], 'u')).toThrow(
      'u: kline 0 must be an array of at least 6 values, got [60000,"1","2"]',
    );
    expect(() => parseKlines([[60_000, '', '2', '1', '1', '1']], 'u')).toThrow(/kline 0 must hold/);
  });
});
