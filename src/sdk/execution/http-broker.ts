import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { describeFetchFailure } from '../../common/fetch-failure.js';
import { isRecord } from '../../common/is-record.js';
import { logger } from '../../common/logger.js';
import { retry, type BackoffOptions, type SleepFn } from '../../common/retry.js';
import {
  orderRecord,
  type Bar,
  type Broker,
  type ExecutionReport,
  type Fill,
  type OrderAck,
  type OrderContext,
  type OrderRecord,
  type OrderStatus,
} from './broker.js';
import { executionMetrics } from './execution-metrics.js';
import { Ledger } from './ledger.js';
import { OrderType, orderProblems, type OrderRequest } from './order.js';
import { isFiniteNumber, parseAck, parseBody, parseFills } from './venue-wire.js';

/** Options of {@link HttpBroker}. */
export interface HttpBrokerOptions {
  /** Base URL of the venue adapter; orders go to `${url}/orders`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Per-try timeout in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Retries after the first try, for network errors, timeouts and 5xx. Default 2. */
  readonly retries?: number;
  /** Delay between tries. Default: 200 ms doubling, no jitter. */
  readonly backoff?: BackoffOptions;
  /** How to wait between tries; injectable so tests never really wait. */
  readonly sleep?: SleepFn;
  /** Cash the account starts with, for the report. Default 0 (cash is then the net flow). */
  readonly initialCash?: number;
}

const OPTION_KEYS = ['url', 'token', 'timeoutMs', 'retries', 'backoff', 'sleep', 'initialCash'];

/** What a try ended with: an HTTP answer that is final (2xx or 4xx). */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** A failure worth another try: a network error, a timeout or a 5xx. */
class RetryableFailure extends Error {}

/**
 * A live broker adapter over HTTP: POSTs `{order, bucket, nodeId, clientOrderId}` as JSON to
 * `${url}/orders` and expects `{order_id, status: 'accepted' | 'rejected', reason?, fills?}`.
 *
 * Network errors, timeouts and 5xx are retried with backoff; each try carries the same
 * `Idempotency-Key` (the `clientOrderId`, derived from node, bucket and sequence) so the venue
 * can drop duplicates. A 4xx is never retried: it is a rejection with the server's reason. When
 * every try fails the outcome is unknown: the order is reported `unknown` and `submit` rejects.
 * Fills are the venue's business: the report lists only fills the server returned.
 *
 * @example
 * const broker = new HttpBroker({ url: 'https://broker.internal', token: process.env.BROKER_TOKEN });
 * const ack = await broker.submit({ symbol: 'BTC', side: 'buy', quantity: 1 }, { bucket, nodeId });
 */
export class HttpBroker implements Broker {
  readonly #endpoint: string;
  readonly #options: HttpBrokerOptions;
  readonly #ledger: Ledger;
  readonly #orders: OrderRecord[] = [];
  readonly #fills: Fill[] = [];
  readonly #sequence = new Map<string, number>();
  #closed = false;

  constructor(options: HttpBrokerOptions) {
    checkOptions(options);
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/orders`;
    this.#options = options;
    this.#ledger = new Ledger(options.initialCash ?? 0);
  }

  /**
   * Sends the order and resolves with the venue's ack; an invalid order is rejected without a
   * request. @throws QmtlError `QMTL_TIMEOUT` / `QMTL_UNAVAILABLE` when the outcome is unknown.
   */
  async submit(order: OrderRequest, context: OrderContext): Promise<OrderAck> {
    if (this.#closed)
      throw new QmtlError(ErrorCode.InvalidArgument, `HttpBroker ${quote(this.#endpoint)} is closed`);
    const clientOrderId = this.#clientOrderId(context);
    const problems = orderProblems(order, 'order');
    if (problems.length > 0) {
      const reason = problems.map((p) => p.message).join('; ');
      this.#record(clientOrderId, order, context, 'rejected', reason);
      return { orderId: clientOrderId, status: 'rejected', reason };
    }
    const payload = {
      order: { ...order, type: order.type ?? OrderType.Market },
      bucket: context.bucket,
      nodeId: context.nodeId,
      clientOrderId,
    };
    let answer: Answer;
    let ack: OrderAck;
    try {
      answer = await this.#post(JSON.stringify(payload), clientOrderId);
      ack = parseAck(answer.status, answer.body, this.#endpoint, clientOrderId);
    } catch (error) {
      this.#record(clientOrderId, order, context, 'unknown', (error as Error).message);
      throw error;
    }
    const index = this.#record(ack.orderId, order, context, ack.status, ack.reason);
    if (ack.status === 'accepted') this.#takeFills(index, answer.body);
    return ack;
  }

  /** Marks the symbol at the close, for unrealised PnL and the equity curve. */
  onBar(symbol: string, bar: Bar): void {
    this.#ledger.markBar(symbol, bar);
  }

  /** Orders with their acks, the fills the venue returned, and the account they imply. */
  report(): ExecutionReport {
    return this.#ledger.report(this.#orders, this.#fills);
  }

  /** Stops taking orders. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  async #post(body: string, clientOrderId: string): Promise<Answer> {
    const { token, timeoutMs = 5_000, retries = 2, backoff, sleep } = this.#options;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': clientOrderId,
    };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const tryOnce = async (): Promise<Answer> => {
      let response: Response;
      try {
        response = await fetch(this.#endpoint, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        throw new RetryableFailure(
          timedOut ? `timed out after ${timeoutMs} ms` : describeFetchFailure(error as Error),
        );
      }
      const text = await response.text().catch(() => '');
      if (response.status >= 500)
        throw new RetryableFailure(`HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
      return { status: response.status, body: parseBody(text) };
    };
    try {
      return await retry(tryOnce, {
        maxRetries: retries,
        baseDelayMs: 200,
        jitter: false,
        ...backoff,
        ...(sleep !== undefined && { sleep }),
        onRetry: (error, attempt, delayMs) =>
          logger.warn(
            { url: this.#endpoint, clientOrderId, attempt, delayMs, reason: (error as Error).message },
            'execution.order_retry',
          ),
      });
    } catch (error) {
      const tries = retries === 0 ? '1 try' : `${retries + 1} tries`;
      const message = `POST ${quote(this.#endpoint)} failed after ${tries}: ${(error as Error).message}`;
      const timedOut = (error as Error).message.startsWith('timed out');
      throw new QmtlError(timedOut ? ErrorCode.Timeout : ErrorCode.Unavailable, message, { cause: error });
    }
  }

  /** Books the fills a 2xx answer carries; unreadable ones are logged, metered and skipped. */
  #takeFills(index: number, body: unknown): void {
    const order = this.#orders[index]!;
    const { fills, invalid } = parseFills(body);
    for (const raw of invalid) {
      executionMetrics.invalidFillsTotal.inc();
      logger.warn({ url: this.#endpoint, orderId: order.orderId, fill: raw }, 'execution.invalid_fill');
    }
    for (const { price, quantity, fee, ts } of fills) {
      const { orderId, symbol, side, bucket } = order;
      const realizedPnl = this.#ledger.fill(symbol, side, quantity, price, fee);
      // Without the venue's time, the order's bucket keeps the report plain JSON (NaN is not).
      this.#fills.push({ orderId, ts: ts ?? bucket, symbol, side, quantity, price, fee, realizedPnl });
    }
    if (fills.length > 0) this.#orders[index] = { ...order, status: 'filled' };
  }

  #clientOrderId(context: OrderContext): string {
    const key = `${context.nodeId}:${context.bucket}`;
    const sequence = (this.#sequence.get(key) ?? 0) + 1;
    this.#sequence.set(key, sequence);
    return `${context.nodeId.slice(0, 16)}-${context.bucket}-${sequence}`;
  }

  /** Adds the order to the report and returns its index there. */
  #record(
    orderId: string,
    order: OrderRequest,
    context: OrderContext,
    status: OrderStatus,
    reason = '',
  ): number {
    return this.#orders.push(orderRecord(orderId, order, context, status, reason)) - 1;
  }
}

function checkOptions(options: HttpBrokerOptions): void {
  if (!isRecord(options))
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `HttpBroker options must be an object, got ${quote(options)}`,
    );
  const problems = Object.keys(options)
    .filter((key) => !OPTION_KEYS.includes(key))
    .map((key) => `unknown option ${quote(key)} (known: ${OPTION_KEYS.join(', ')})`);
  if (typeof options.url !== 'string' || !/^https?:\/\/[^/]/.test(options.url))
    problems.push(`url must be an http(s) URL, got ${quote(options.url)}`);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === ''))
    problems.push(`token must be a non-empty string, got ${quote(options.token)}`);
  const { timeoutMs, retries, initialCash } = options;
  if (timeoutMs !== undefined && !(isFiniteNumber(timeoutMs) && timeoutMs > 0))
    problems.push(`timeoutMs must be a number > 0, got ${quote(timeoutMs)}`);
  if (retries !== undefined && !(Number.isSafeInteger(retries) && retries >= 0))
    problems.push(`retries must be an integer >= 0, got ${quote(retries)}`);
  if (initialCash !== undefined && !isFiniteNumber(initialCash))
    problems.push(`initialCash must be a finite number, got ${quote(initialCash)}`);
  if (problems.length > 0)
    throw QmtlError.fromProblems(
      'invalid HttpBroker options',
      problems.map((message) => ({ code: ErrorCode.InvalidArgument, message })),
    );
}
