import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { backoffDelay, sleep as realSleep, retryAfterMs, type SleepFn } from '../common/retry.js';
import type { DataFetcher, HistoryRow, StreamKey } from '../sdk/history/protocols.js';
import { rejectUnknownKeys } from '../sdk/node-options.js';
import { TokenBucket } from './token-bucket.js';

/** One candle: open time `ts` in epoch seconds and its OHLCV numbers. */
export interface Candle extends HistoryRow {
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** Bar intervals in seconds → the exchange's interval codes (Binance's set). */
export const KLINE_INTERVALS: Readonly<Record<number, string>> = Object.freeze({
  1: '1s',
  60: '1m',
  180: '3m',
  300: '5m',
  900: '15m',
  1800: '30m',
  3600: '1h',
  7200: '2h',
  14400: '4h',
  21600: '6h',
  28800: '8h',
  43200: '12h',
  86400: '1d',
  259200: '3d',
  604800: '1w',
});

/** Options of {@link ExchangeCandlesFetcher}. */
export interface ExchangeCandlesFetcherOptions {
  /** Exchange REST root, e.g. a local mirror in tests; `/api/v3/klines` is appended. */
  readonly baseUrl: string;
  /** The exchange symbol (`BTCUSDT`), or how to derive it from the stream being filled. */
  readonly symbol: string | ((key: StreamKey) => string);
  /** Extra or replacement interval codes, merged over {@link KLINE_INTERVALS}. */
  readonly intervals?: Readonly<Record<number, string>>;
  /** Candles per request (the exchange's page size). Default 1000. */
  readonly limit?: number;
  /** Retries of a request that failed with 5xx, 429 or a network error. Default 4. */
  readonly maxRetries?: number;
  /** First backoff delay in ms, doubled per retry (jittered). Default 500. */
  readonly baseDelayMs?: number;
  /** Longest backoff delay, and longest `Retry-After` honoured, in ms. Default 30 000. */
  readonly maxDelayMs?: number;
  /** Sustained requests per second (token bucket). Default 5. */
  readonly requestsPerSecond?: number;
  /** Largest burst of requests. Default 1. */
  readonly burst?: number;
  /** Per-request timeout in ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** How to wait between retries and for rate-limit tokens (tests inject a fake). */
  readonly sleep?: SleepFn;
  /** Clock in ms for the rate limiter. Default `Date.now`. */
  readonly now?: () => number;
}

const FETCHER_OPTION_KEYS = [
  'baseUrl',
  'symbol',
  'intervals',
  'limit',
  'maxRetries',
  'baseDelayMs',
  'maxDelayMs',
  'requestsPerSecond',
  'burst',
  'timeoutMs',
  'sleep',
  'now',
] as const satisfies readonly (keyof ExchangeCandlesFetcherOptions)[];

/** A failed request, and whether trying again may help. */
class RequestFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/**
 * A {@link DataFetcher} of exchange candles in Binance's kline format
 * (`GET {baseUrl}/api/v3/klines?symbol=&interval=&startTime=&endTime=&limit=`): pages through the
 * range `limit` candles at a time, spaces requests with a token bucket, and retries 5xx, 429 and
 * network failures with exponential backoff (honouring `Retry-After`) a bounded number of times.
 * Rows are `{ ts, open, high, low, close, volume }`. An example of a fetcher to give a
 * HistoryProvider; nothing here contacts a default host.
 *
 * @example
 * const fetcher = new ExchangeCandlesFetcher({ baseUrl: 'http://127.0.0.1:8080', symbol: 'BTCUSDT' });
 * const loader = new QuestDBLoader({ fetcher });
 */
export class ExchangeCandlesFetcher implements DataFetcher {
  private readonly endpoint: string;
  private readonly intervals: Readonly<Record<number, string>>;
  private readonly limit: number;
  private readonly maxRetries: number;
  private readonly backoff: { baseDelayMs: number; maxDelayMs: number };
  private readonly timeoutMs: number;
  private readonly sleep: SleepFn;
  private readonly limiter: TokenBucket;

  constructor(private readonly options: ExchangeCandlesFetcherOptions) {
    rejectUnknownKeys(options, FETCHER_OPTION_KEYS, 'ExchangeCandlesFetcher', {
      code: ErrorCode.InvalidArgument,
    });
    if (!URL.canParse(options.baseUrl)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `baseUrl must be an absolute URL, got ${quote(options.baseUrl)}`,
      );
    }
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/api/v3/klines`;
    this.intervals = { ...KLINE_INTERVALS, ...options.intervals };
    this.limit = options.limit ?? 1000;
    this.maxRetries = options.maxRetries ?? 4;
    this.backoff = { baseDelayMs: options.baseDelayMs ?? 500, maxDelayMs: options.maxDelayMs ?? 30_000 };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.sleep = options.sleep ?? realSleep;
    const limiter = { ratePerSecond: options.requestsPerSecond ?? 5, capacity: options.burst ?? 1 };
    this.limiter = new TokenBucket({
      ...limiter,
      sleep: this.sleep,
      ...(options.now ? { now: options.now } : {}),
    });
    const { baseDelayMs, maxDelayMs } = this.backoff;
    const checks: [name: string, value: number, ok: boolean, wanted: string][] = [
      ['limit', this.limit, Number.isSafeInteger(this.limit) && this.limit >= 1, 'a positive integer'],
      [
        'maxRetries',
        this.maxRetries,
        Number.isSafeInteger(this.maxRetries) && this.maxRetries >= 0,
        'an integer ≥ 0',
      ],
      ['baseDelayMs', baseDelayMs, Number.isFinite(baseDelayMs) && baseDelayMs >= 0, 'a number of ms ≥ 0'],
      ['maxDelayMs', maxDelayMs, Number.isFinite(maxDelayMs) && maxDelayMs >= 0, 'a number of ms ≥ 0'],
      [
        'timeoutMs',
        this.timeoutMs,
        Number.isFinite(this.timeoutMs) && this.timeoutMs > 0,
        'a positive number of ms',
      ],
    ];
    for (const [name, value, ok, wanted] of checks) {
      if (!ok)
        throw new QmtlError(ErrorCode.InvalidArgument, `${name} must be ${wanted}, got ${quote(value)}`);
    }
  }

  /**
   * Candles with `start <= ts < end`, ascending, fetched page by page from the candle after each
   * page's last one, until the range is covered or a page comes back empty.
   */
  async fetch(start: number, end: number, key: StreamKey): Promise<readonly Candle[]> {
    const interval = this.intervals[key.interval];
    if (interval === undefined) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `no exchange interval for ${key.interval} s (known: ${Object.keys(this.intervals).join(', ')})`,
      );
    }
    const symbol = typeof this.options.symbol === 'function' ? this.options.symbol(key) : this.options.symbol;
    const candles: Candle[] = [];
    const endMs = Math.ceil(end * 1000) - 1;
    let fromMs = Math.ceil(start * 1000);
    while (fromMs <= endMs) {
      const url = `${this.endpoint}?${new URLSearchParams({
        symbol,
        interval,
        startTime: String(fromMs),
        endTime: String(endMs),
        limit: String(this.limit),
      }).toString()}`;
      const page = parseKlines(await this.request(url), url);
      for (const candle of page) if (candle.ts >= start && candle.ts < end) candles.push(candle);
      const last = page.at(-1);
      // Only an empty page ends the range early: an exchange may cap pages below `limit` (a
      // short page then does not mean the data ends), so the next page is asked for anyway.
      if (last === undefined) break;
      const next = last.ts * 1000 + key.interval * 1000;
      // A page that does not move forward would loop forever.
      if (next <= fromMs) {
        throw new QmtlError(
          ErrorCode.HistoryUnavailable,
          `${url} returned a page that does not advance past ${fromMs}`,
        );
      }
      fromMs = next;
    }
    return candles;
  }

  /** One GET with rate limiting and bounded retries; the parsed JSON body. */
  private async request(url: string): Promise<unknown> {
    for (let attempt = 1; ; attempt += 1) {
      await this.limiter.take();
      try {
        return await this.get(url);
      } catch (error) {
        if (!(error instanceof RequestFailure)) throw error;
        if (!error.retryable || attempt > this.maxRetries) {
          const tries = attempt > 1 ? ` after ${attempt} tries` : '';
          throw new QmtlError(ErrorCode.HistoryUnavailable, `GET ${url} failed${tries}: ${error.message}`, {
            cause: error,
          });
        }
        if (error.retryAfterMs !== null && error.retryAfterMs > this.backoff.maxDelayMs) {
          throw new QmtlError(
            ErrorCode.HistoryUnavailable,
            `GET ${url} failed: ${error.message}; the server asks to retry after ${error.retryAfterMs} ms, more than maxDelayMs (${this.backoff.maxDelayMs})`,
            { cause: error },
          );
        }
        await this.sleep(error.retryAfterMs ?? backoffDelay(attempt, this.backoff));
      }
    }
  }

  private async get(url: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new RequestFailure(errorText(error), true);
    }
    const text = await response.text().catch((error: unknown) => {
      throw new RequestFailure(`reading the body: ${errorText(error)}`, true);
    });
    if (!response.ok) {
      const retryable = response.status === 429 || response.status >= 500;
      const reason = exchangeMessage(text) ?? (text.slice(0, 200) || response.statusText);
      throw new RequestFailure(
        `HTTP ${response.status}: ${reason}`,
        retryable,
        retryAfterMs(response.headers.get('retry-after')),
      );
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new RequestFailure(`the response is not JSON: ${quote(text.slice(0, 80))}`, false);
    }
  }
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}

/** Binance's error body `{ "code": -1121, "msg": "Invalid symbol." }`. */
function exchangeMessage(text: string): string | null {
  try {
    const body = JSON.parse(text) as { code?: unknown; msg?: unknown };
    return typeof body.msg === 'string' ? `${body.msg} (code ${String(body.code)})` : null;
  } catch {
    return null;
  }
}

/**
 * Checks and converts a klines body: an array of `[openTimeMs, open, high, low, close, volume, …]`
 * with prices as decimal strings (or numbers). Throws HistoryUnavailable naming the URL and row.
 */
export function parseKlines(body: unknown, url: string): Candle[] {
  if (!Array.isArray(body)) {
    throw new QmtlError(
      ErrorCode.HistoryUnavailable,
      `${url}: expected an array of klines, got ${quote(body)}`,
    );
  }
  return body.map((entry: unknown, index) => {
    const problem = (what: string): QmtlError =>
      new QmtlError(ErrorCode.HistoryUnavailable, `${url}: kline ${index} ${what}, got ${quote(entry)}`);
    if (!Array.isArray(entry) || entry.length < 6) throw problem('must be an array of at least 6 values');
    const values = (entry as unknown[])
      .slice(0, 6)
      .map((value) => (typeof value === 'string' ? (value.trim() === '' ? NaN : Number(value)) : value));
    if (!values.every((value) => typeof value === 'number' && Number.isFinite(value))) {
      throw problem('must hold an open time and five numbers');
    }
    const [openTime, open, high, low, close, volume] = values as number[];
    return { ts: openTime! / 1000, open: open!, high: high!, low: low!, close: close!, volume: volume! };
  });
}
