import { WebSocket, type RawData } from 'ws';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { backoffDelay, sleep as realSleep, type SleepFn } from '../../common/retry.js';
import { isRecord } from '../../common/is-record.js';

/** Receives one Gateway event: its type, its `data` and the whole message. May be async. */
export type EventHandler = (type: string, data: unknown, event: Readonly<Record<string, unknown>>) => unknown;

/** What the client asks the Gateway's `/ws` to send (SPEC §2.5); an absent field does not filter. */
export interface EventSubscription {
  readonly types?: readonly string[];
  readonly strategy_ids?: readonly string[];
  readonly tags?: readonly string[];
}

/** Options of a {@link WebSocketClient}. */
export interface WebSocketClientOptions {
  readonly onEvent: EventHandler;
  /** Called on every successful (re)connect, once the Gateway answered the subscription (if any). */
  readonly onOpen?: () => unknown;
  /**
   * Called when an event's `seq` skips numbers on one connection. Only without `subscribe`: the
   * Gateway numbers events hub-wide, so a filtered stream skips numbers by design.
   */
  readonly onGap?: (expected: number, got: number) => void;
  /** Bearer token sent as `Authorization` on the upgrade request. */
  readonly token?: string;
  /** Reconnect delays: `baseMs` (default 500) doubling up to `maxMs` (default 30,000), jittered. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Sent as `{"subscribe": …}` on every (re)connect. */
  readonly subscribe?: EventSubscription;
  /** Epoch ms; decides whether a connection lived long enough to reset the backoff. */
  readonly now?: () => number;
  /** How to wait between attempts; injectable so tests observe the delays. */
  readonly sleep?: SleepFn;
  /** Randomness of the jitter, in `[0, 1)`. Default `Math.random`. */
  readonly random?: () => number;
}

/** Where the client is in its connect loop. */
export const WsClientState = {
  Idle: 'idle',
  Connecting: 'connecting',
  Open: 'open',
  Waiting: 'waiting',
  Closed: 'closed',
} as const;
/** One of {@link WsClientState}. */
export type WsClientState = (typeof WsClientState)[keyof typeof WsClientState];

/**
 * Turns a Gateway URL into its `/ws` URL: `http(s)` becomes `ws(s)`, and `/ws` is appended unless
 * the path already ends with it (the original built `http://…/ws` and failed).
 * @example toWebSocketUrl('http://127.0.0.1:8000') // 'ws://127.0.0.1:8000/ws'
 */
export function toWebSocketUrl(gatewayUrl: string): string {
  let url: URL;
  try {
    url = new URL(gatewayUrl);
  } catch {
    throw new QmtlError(ErrorCode.InvalidArgument, `Gateway URL ${quote(gatewayUrl)} is not a URL`);
  }
  const schemes: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  const scheme = schemes[url.protocol];
  if (scheme === undefined) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `Gateway URL ${quote(gatewayUrl)} must use http, https, ws or wss`,
    );
  }
  url.protocol = scheme;
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/ws') ? path : `${path}/ws`;
  return url.toString();
}

/**
 * Follows the Gateway's `/ws` event stream (SPEC §2.6, §3.6). It parses CloudEvents (and bare
 * `{type|event, data}` objects), hands each to `onEvent`, re-sends the subscription on every
 * connect, reports `seq` gaps, and reconnects after a drop or a failed connect, forever until
 * {@link close}, with exponential backoff: attempt n waits `min(maxMs, baseMs·2^(n-1))` scaled by a
 * random factor in [0.5, 1) so clients do not reconnect in lockstep. The attempt counter resets
 * once a connection has stayed open for `maxMs`. It also keeps the `sentinel_weight` values and the
 * `queue_map` topics it sees.
 *
 * @example
 * const client = new WebSocketClient('http://127.0.0.1:8000', {
 *   onEvent: (type, data) => console.log(type, data),
 * });
 * client.start();
 * await client.close();
 */
export class WebSocketClient {
  /** The `/ws` URL connected to. */
  readonly url: string;
  /** `sentinel_id → weight` from `sentinel_weight` events. */
  readonly sentinelWeights = new Map<string, number>();
  /** `node_id → topic` from `queue_map` events (single-topic entries). */
  readonly queueTopics = new Map<string, string>();
  #state: WsClientState = WsClientState.Idle;
  #socket: WebSocket | null = null;
  #loop: Promise<void> | null = null;
  #lastSeq: number | null = null;
  #connects = 0;
  #awaitingReply = false;
  #gaps = 0;
  readonly #options: WebSocketClientOptions;
  readonly #abort = new AbortController();
  readonly #openWaiters: (() => void)[] = [];

  constructor(url: string, options: WebSocketClientOptions) {
    this.url = toWebSocketUrl(url);
    this.#options = options;
  }

  /** Current state of the connect loop. */
  get state(): WsClientState {
    return this.#state;
  }

  /** Successful connections so far (the first one included). */
  get connects(): number {
    return this.#connects;
  }

  /** `seq` gaps seen so far. */
  get gaps(): number {
    return this.#gaps;
  }

  /** Starts the connect loop (once; later calls do nothing). Never throws for a down Gateway. */
  start(): void {
    if (this.#loop !== null || this.#state === WsClientState.Closed) return;
    this.#loop = this.#run();
  }

  /**
   * Resolves at the next successful connect (now, when already open); with `subscribe`, once the
   * Gateway answered it, so every later event is filtered.
   */
  opened(): Promise<void> {
    if (this.#state === WsClientState.Open) return Promise.resolve();
    return new Promise((resolve) => this.#openWaiters.push(resolve));
  }

  /** Stops reconnecting and closes the connection; resolves once the loop ended. Idempotent. */
  async close(): Promise<void> {
    if (this.#state !== WsClientState.Closed) {
      this.#state = WsClientState.Closed;
      this.#abort.abort();
      this.#socket?.terminate();
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    const now = this.#options.now ?? Date.now;
    const baseDelayMs = this.#options.backoff?.baseMs ?? 500;
    const maxDelayMs = this.#options.backoff?.maxMs ?? 30_000;
    const wait = this.#options.sleep ?? realSleep;
    const random = this.#options.random ?? Math.random;
    let attempt = 0;
    while (!this.#abort.signal.aborted) {
      const openedAt = await this.#connectOnce(now);
      if (this.#abort.signal.aborted) break;
      attempt = openedAt !== null && now() - openedAt >= maxDelayMs ? 1 : attempt + 1;
      const delayMs = Math.round(
        backoffDelay(attempt, { baseDelayMs, maxDelayMs, jitter: false }) * (0.5 + random() / 2),
      );
      this.#state = WsClientState.Waiting;
      logger.info({ url: this.url, attempt, delayMs }, 'gateway /ws: reconnecting after backoff');
      await wait(delayMs, this.#abort.signal).catch(() => undefined);
    }
  }

  /** One connection; resolves when it ends, with the time it opened (null: it never opened). */
  #connectOnce(now: () => number): Promise<number | null> {
    this.#state = WsClientState.Connecting;
    const headers =
      this.#options.token === undefined ? {} : { authorization: `Bearer ${this.#options.token}` };
    const socket = new WebSocket(this.url, { headers });
    this.#socket = socket;
    let openedAt: number | null = null;
    return new Promise((resolve) => {
      socket.on('open', () => {
        openedAt = now();
        this.#onOpen(socket);
      });
      socket.on('message', (data: RawData, isBinary: boolean) => {
        if (!isBinary) this.#onMessage(rawText(data));
      });
      socket.on('error', (error) => {
        logger.debug({ err: error, url: this.url }, 'gateway /ws: connection error');
      });
      socket.on('close', (code) => {
        if (this.#socket === socket) this.#socket = null;
        this.#awaitingReply = false;
        if (openedAt !== null) logger.info({ url: this.url, code }, 'gateway /ws: connection closed');
        resolve(openedAt);
      });
      // A close() issued while this socket was being created must still cut it.
      if (this.#abort.signal.aborted) socket.terminate();
    });
  }

  #onOpen(socket: WebSocket): void {
    if (this.#abort.signal.aborted) return;
    // Each connection numbers from wherever the hub is; a restarted Gateway starts again at 1.
    this.#lastSeq = null;
    if (this.#options.subscribe === undefined) this.#ready();
    else {
      // Ready once the hub answered (any message): events sent before that were not filtered.
      this.#awaitingReply = true;
      socket.send(JSON.stringify({ subscribe: this.#options.subscribe }));
    }
  }

  /** The connection is usable (subscription, if any, in force): state Open, hooks called. */
  #ready(): void {
    this.#awaitingReply = false;
    this.#state = WsClientState.Open;
    this.#connects += 1;
    logger.info({ url: this.url, connects: this.#connects }, 'gateway /ws: connected');
    for (const resolve of this.#openWaiters.splice(0)) resolve();
    this.#call('onOpen', () => this.#options.onOpen?.());
  }

  #onMessage(text: string): void {
    if (this.#awaitingReply) this.#ready();
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      logger.debug({ url: this.url }, 'gateway /ws: non-JSON frame skipped');
      return;
    }
    if (!isRecord(message)) return;
    const type = message['type'] ?? message['event'];
    if (typeof type !== 'string') return;
    if (type === 'subscribed') return;
    if (type === 'error') {
      logger.warn({ url: this.url, message: message['message'] }, 'gateway /ws refused a client message');
      return;
    }
    this.#trackSeq(message['seq']);
    const data = 'data' in message ? message['data'] : message;
    this.#remember(type, data);
    this.#call(`onEvent(${type})`, () => this.#options.onEvent(type, data, message));
  }

  #trackSeq(seq: unknown): void {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return;
    const expected = this.#lastSeq === null ? seq : this.#lastSeq + 1;
    this.#lastSeq = seq;
    if (seq <= expected || this.#options.subscribe !== undefined) return;
    this.#gaps += 1;
    logger.warn({ url: this.url, expected, got: seq }, 'gateway /ws: events missed (seq gap)');
    this.#call('onGap', () => this.#options.onGap?.(expected, seq));
  }

  #remember(type: string, data: unknown): void {
    if (!isRecord(data)) return;
    if (type === 'sentinel_weight') {
      const id = data['sentinel_id'];
      const weight = data['weight'];
      if (typeof id === 'string' && typeof weight === 'number' && Number.isFinite(weight)) {
        this.sentinelWeights.set(id, weight);
      }
    } else if (type === 'queue_map' && isRecord(data['queue_map'])) {
      for (const [nodeId, topic] of Object.entries(data['queue_map'])) {
        if (typeof topic === 'string') this.queueTopics.set(nodeId, topic);
      }
    }
  }

  /** Runs a user callback; a throw or a rejection is logged, never propagated into the socket. */
  #call(what: string, fn: () => unknown): void {
    const fail = (error: unknown): void => {
      logger.error({ err: error, url: this.url }, `gateway /ws: ${what} handler failed`);
    };
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}
