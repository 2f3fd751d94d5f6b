import { WebSocket, type RawData } from 'ws';
import { ErrorCode, QmtlError, quote } from '../../../common/errors.js';
import { backoffDelay } from '../../../common/retry.js';
import type { HistoryRow } from '../../history/protocols.js';
import type { LiveFeed, LiveFeedHandle, LiveFeedStart } from '../live-feed.js';
import { asError, FeedRun } from './feed-run.js';
import { aFunction, backoffCheck, positiveNumber, validateOptions } from './feed-options.js';
import { RowQueue } from './row-queue.js';

/** Turns one message (parsed JSON, or the text when it is not JSON) into rows; null ignores it. */
export type WebSocketMessageParser = (message: unknown) => HistoryRow | readonly HistoryRow[] | null;

/** Options of a {@link WebSocketFeed}. */
export interface WebSocketFeedOptions {
  /** The `ws://` or `wss://` address of the market-data stream. */
  readonly url: string;
  /** Turns a message into bars; return null for messages that are not (complete) bars. */
  readonly parse: WebSocketMessageParser;
  /** Sent as JSON after each (re)connect, e.g. the exchange's subscribe request. Default: nothing. */
  readonly subscribeMessage?: unknown;
  /**
   * Reconnect delays: `initialMs` doubling up to `maxMs` (default 500 → 30,000). With
   * `maxAttempts`, the feed gives up after that many reconnects in a row fail: a connection fails
   * when it does not open, or closes before the server sent a message. Default: never.
   */
  readonly reconnect?: { readonly initialMs: number; readonly maxMs: number; readonly maxAttempts?: number };
  /**
   * Reconnects when the server has sent no message for this long, in ms (while the feed is not
   * paused by a slow consumer): a connection that stays open but falls silent (a dropped
   * subscription, a half-open TCP connection) is otherwise never noticed. Pick it above the
   * longest quiet spell of the stream, heartbeats included. Default: never.
   */
  readonly idleMs?: number;
}

const CHECKS = {
  url: (name: string, value: unknown) =>
    typeof value === 'string' && /^wss?:\/\/./.test(value) && URL.canParse(value)
      ? null
      : {
          code: ErrorCode.InvalidArgument,
          message: `${name} must be a ws:// or wss:// URL, got ${quote(value)}`,
        },
  parse: aFunction,
  subscribeMessage: (name: string, value: unknown) =>
    jsonText(value) === null ? notJson(name, value) : null,
  reconnect: backoffCheck('initialMs', 'maxMs', {
    maxAttempts: (name: string, value: unknown) =>
      Number.isSafeInteger(value) && (value as number) >= 0
        ? null
        : {
            code: ErrorCode.InvalidArgument,
            message: `${name} must be a non-negative integer, got ${quote(value)}`,
          },
  }),
  idleMs: positiveNumber,
};

/**
 * A feed that follows a market-data websocket (the `ws` package). Each message is parsed as JSON
 * (or passed as text) to `parse`; the rows it returns are delivered in arrival order, one `onRow`
 * at a time, dropping rows older than `from` or not newer than the last delivered — so bars
 * replayed after a reconnect are not delivered twice. While the consumer is behind, messages
 * queue and the socket is paused at 1024 queued rows. After a drop or a failed connect the feed
 * reconnects with exponential backoff and re-sends `subscribeMessage`; with
 * `reconnect.maxAttempts` it gives up through `onError` (`QMTL_UNAVAILABLE`). Only a connection on
 * which the server sent a message resets the attempts and the delay, so a server that accepts and
 * closes at once (a refused subscription, a rate limit) is not hammered forever. It runs until stopped.
 *
 * A `parse` that throws is logged and its message skipped.
 *
 * @example
 * const feed = new WebSocketFeed({
 *   url: 'wss://stream.example.com/ws',
 *   subscribeMessage: { op: 'subscribe', channel: 'candles', symbol: 'BTC-USD', interval: '1m' },
 *   parse: (message) => isClosedCandle(message) ? { ts: message.start, close: message.close } : null,
 * });
 * const price = new StreamInput({ tags: ['BTC'], interval: '1m', period: 20, historyProvider, liveFeed: feed });
 */
export class WebSocketFeed implements LiveFeed {
  readonly #url: string;
  readonly #parse: WebSocketMessageParser;
  readonly #subscribeText: string | null;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #maxAttempts: number | null;
  readonly #idleMs: number | null;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: WebSocketFeedOptions) {
    validateOptions('WebSocketFeed', options, CHECKS, ['url', 'parse']);
    this.#url = options.url;
    this.#parse = options.parse;
    this.#subscribeText = options.subscribeMessage === undefined ? null : jsonText(options.subscribeMessage);
    this.#initialMs = options.reconnect?.initialMs ?? 500;
    this.#maxMs = options.reconnect?.maxMs ?? 30_000;
    this.#maxAttempts = options.reconnect?.maxAttempts ?? null;
    this.#idleMs = options.idleMs ?? null;
  }

  /** Connects and delivers bars in the background until `stop()` (or until it gives up). */
  // eslint-disable-next-line @typescript-eslint/require-await -- async, so bad start options reject rather than throw
  async start(options: LiveFeedStart): Promise<LiveFeedHandle> {
    const run = new FeedRun('WebSocketFeed', options);
    let socket: WebSocket | null = null;
    const queue = new RowQueue(run, {
      onPressure: (paused) => (paused ? socket?.pause() : socket?.resume()),
    });
    void (async () => {
      // Reconnects since the last connection on which the server sent a message.
      let attempts = 0;
      while (!run.ended) {
        socket = new WebSocket(this.#url);
        if (await this.#connectOnce(run, queue, socket)) attempts = 0;
        if (run.ended) return;
        if (this.#maxAttempts !== null && attempts >= this.#maxAttempts)
          return run.fail(this.#giveUp(attempts));
        attempts += 1;
        const delayMs = backoffDelay(attempts, {
          baseDelayMs: this.#initialMs,
          maxDelayMs: this.#maxMs,
          jitter: false,
        });
        run.log(
          'info',
          { url: this.#url, attempt: attempts, delayMs },
          'WebSocketFeed reconnecting after backoff',
        );
        if (!(await run.pause(delayMs))) return;
      }
    })().catch((error: unknown) => run.fail(asError(error)));
    return run.handle();
  }

  /** One connection; resolves when it closed, with whether the server sent a message on it. */
  #connectOnce(run: FeedRun, queue: RowQueue, socket: WebSocket): Promise<boolean> {
    const cut = (): void => socket.terminate();
    run.signal.addEventListener('abort', cut, { once: true });
    let opened = false;
    let heard = false;
    const watchdog = this.#idleWatchdog(run, queue, socket);
    return new Promise((resolve) => {
      socket.on('open', () => {
        opened = true;
        watchdog.arm();
        if (queue.paused) socket.pause();
        run.log('info', { url: this.#url }, 'WebSocketFeed connected');
        if (this.#subscribeText !== null) socket.send(this.#subscribeText);
      });
      socket.on('message', (data: RawData) => {
        heard = true;
        watchdog.arm();
        queue.push(this.#rows(run, data));
      });
      socket.on('error', (error) =>
        run.log('debug', { err: error, url: this.#url }, 'WebSocketFeed connection error'),
      );
      socket.on('close', (code, reason) => {
        watchdog.disarm();
        run.signal.removeEventListener('abort', cut);
        if (opened && !run.ended)
          run.log(
            'warn',
            { url: this.#url, code, reason: reason.toString('utf8') },
            'WebSocketFeed connection closed',
          );
        resolve(heard);
      });
    });
  }

  /**
   * With `idleMs`, cuts a connection on which no message arrived for that long, so the loop
   * reconnects; while a slow consumer has the socket paused, silence is expected and only re-arms it.
   */
  #idleWatchdog(run: FeedRun, queue: RowQueue, socket: WebSocket): { arm(): void; disarm(): void } {
    const idleMs = this.#idleMs;
    let timer: NodeJS.Timeout | undefined;
    const disarm = (): void => clearTimeout(timer);
    const arm = (): void => {
      if (idleMs === null) return;
      disarm();
      timer = setTimeout(() => {
        if (queue.paused) return arm();
        run.log('warn', { url: this.#url, idleMs }, 'WebSocketFeed heard nothing for idleMs; reconnecting');
        socket.terminate();
      }, idleMs);
    };
    return { arm, disarm };
  }

  /** The rows of one message, ascending; none when `parse` returns null or throws. */
  #rows(run: FeedRun, data: RawData): readonly HistoryRow[] {
    const text = rawText(data);
    let message: unknown = text;
    try {
      message = JSON.parse(text);
    } catch {
      // Not JSON: `parse` gets the text itself.
    }
    let parsed: HistoryRow | readonly HistoryRow[] | null;
    try {
      parsed = this.#parse(message);
    } catch (error) {
      run.log('warn', { err: error, url: this.#url }, 'WebSocketFeed parse threw; message skipped');
      return [];
    }
    if (parsed === null || parsed === undefined) return [];
    return isRowList(parsed) ? [...parsed].sort((a, b) => a.ts - b.ts) : [parsed];
  }

  #giveUp(attempts: number): QmtlError {
    return new QmtlError(
      ErrorCode.Unavailable,
      `WebSocketFeed gave up on ${quote(this.#url)} after ${attempts} failed reconnect attempts`,
    );
  }
}

function isRowList(parsed: HistoryRow | readonly HistoryRow[]): parsed is readonly HistoryRow[] {
  return Array.isArray(parsed);
}

function jsonText(value: unknown): string | null {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
}

function notJson(name: string, value: unknown): { code: ErrorCode; message: string } {
  return {
    code: ErrorCode.InvalidArgument,
    message: `${name} must be JSON-serialisable, got ${quote(value)}`,
  };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}
