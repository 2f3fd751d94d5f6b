import { CircuitBreaker } from '../common/circuit-breaker.js';
import { crc32OfList } from '../common/crc32.js';
import { ErrorCode, QmtlError, quote, type Problem } from '../common/errors.js';
import { parseInterval, type IntervalLike } from '../common/interval.js';
import { backoffDelay, sleep as defaultSleep, retryAfterMs, type SleepFn } from '../common/retry.js';
import type { DagJson, MatchMode } from '../dag/node-json.js';
import { isRecord } from '../common/is-record.js';
import { rejectUnknownKeys } from './node-options.js';

/** How a strategy is run, as the Gateway records it (SPEC §2.5 `run_type`). */
export type GatewayRunType = 'backtest' | 'dry-run' | 'live';

/** Settings of the breaker a {@link GatewayClient} builds for itself. */
export interface GatewayBreakerSettings {
  /** Consecutive failures that open it. Default `QMTL_GW_CB_MAX_FAILURES`, else 3. */
  readonly failureThreshold?: number;
  /** How long it stays open, in ms. Default `QMTL_GW_CB_RESET_TIMEOUT` (seconds), else 60 s. */
  readonly resetTimeoutMs?: number;
}

/** Options of a {@link GatewayClient}. */
export interface GatewayClientOptions {
  /** Base URL of the Gateway, e.g. `http://127.0.0.1:8000`. */
  readonly gatewayUrl: string;
  /** The fetch to use; injectable for tests. Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** Per-request timeout in ms. Default 30 000 (the Gateway waits up to 10 s for a diff). */
  readonly timeoutMs?: number;
  /** A breaker to share, or settings for the client's own. */
  readonly breaker?: GatewayBreakerSettings | CircuitBreaker;
  /** Retries of a failure that counts against the breaker (network, timeout, 5xx, 204). Default 0. */
  readonly retries?: number;
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly token?: string;
  /** Clock of the client's own breaker, in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How to wait between retries. Default a real timer. */
  readonly sleep?: SleepFn;
  /** Where `QMTL_GW_CB_*` are read from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const OPTION_KEYS = [
  'gatewayUrl',
  'fetch',
  'timeoutMs',
  'breaker',
  'retries',
  'token',
  'now',
  'sleep',
  'env',
] as const satisfies readonly (keyof GatewayClientOptions)[];

const BREAKER_KEYS = [
  'failureThreshold',
  'resetTimeoutMs',
] as const satisfies readonly (keyof GatewayBreakerSettings)[];

/** The Gateway's answer to a submission (the 202 of `POST /strategies`, or a claim's 200), in camelCase. */
export interface GatewaySubmission {
  readonly strategyId: string;
  /** Nodes to consume rather than compute: a topic, or a TagQueryNode's resolved topics. */
  readonly queueMap: Readonly<Record<string, string | readonly string[]>>;
  /** Nodes this strategy computes, each with the topic it publishes to. */
  readonly topicMap: Readonly<Record<string, string>>;
  readonly sentinelId: string | null;
  /** `completed` when the maps are final; `queued` when the diff comes later; `failed`. */
  readonly status: string;
  /** Why the DAG Manager rejected the DAG, when `status` is `failed`. */
  readonly error?: string;
}

/** What {@link GatewayClient.submit} sends besides the DAG. */
export interface SubmitOptions {
  readonly meta?: Record<string, unknown> | null;
  readonly runType: GatewayRunType;
}

/** `QMTL_UNAVAILABLE`: the Gateway could not be reached, timed out, failed (5xx) or is degraded. */
export class GatewayUnavailableError extends QmtlError {
  constructor(
    readonly url: string,
    reason: string,
    /** The Gateway's `Retry-After`, in seconds, when it sent one. */
    readonly retryAfterSeconds: number | null = null,
    cause?: unknown,
  ) {
    const after = retryAfterSeconds === null ? '' : `; retry after ${retryAfterSeconds} s`;
    super(ErrorCode.Unavailable, `gateway unreachable at ${quote(url)}: ${reason}${after}`, { cause });
  }
}

/** `QMTL_DUPLICATE_STRATEGY` (409): the same DAG is already active on the Gateway as `existingId`. */
export class GatewayDuplicateStrategyError extends QmtlError {
  constructor(readonly existingId: string) {
    super(
      ErrorCode.DuplicateStrategy,
      `the Gateway already runs this DAG as strategy ${quote(existingId)}; stop it first or change the strategy`,
    );
  }
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * The SDK's client of the Gateway HTTP API (SPEC §2.5, §3.5): submits a strategy's DAG and reads
 * the diff, asks for status, stops strategies, renews producer leases, claims released nodes and
 * queries queues by tag. Every failure is a
 * QmtlError with a code from the catalogue; a circuit breaker (3 failures, 60 s by default)
 * makes calls fail fast while the Gateway is down. 4xx answers never trip the breaker.
 *
 * @example
 * const gateway = new GatewayClient({ gatewayUrl: 'http://127.0.0.1:8000' });
 * const { strategyId, queueMap, topicMap } = await gateway.submit(strategy.serialize(), { runType: 'live' });
 */
export class GatewayClient {
  readonly gatewayUrl: string;
  readonly breaker: CircuitBreaker;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly token: string | undefined;
  private readonly sleep: SleepFn;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` naming an unknown (misspelt) option. */
  constructor(options: GatewayClientOptions) {
    rejectUnknownKeys(options, OPTION_KEYS, 'GatewayClient', { code: ErrorCode.InvalidArgument });
    const { breaker } = options;
    if (typeof breaker === 'object' && breaker !== null && !(breaker instanceof CircuitBreaker))
      rejectUnknownKeys(breaker, BREAKER_KEYS, 'GatewayClient: breaker', {
        code: ErrorCode.InvalidArgument,
      });
    this.gatewayUrl = options.gatewayUrl.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 0;
    this.token = options.token;
    this.sleep = options.sleep ?? defaultSleep;
    this.breaker =
      options.breaker instanceof CircuitBreaker
        ? options.breaker
        : new CircuitBreaker({
            name: `gateway at ${quote(this.gatewayUrl)}`,
            ...breakerSettings(options.breaker, options.env ?? process.env),
            ...(options.now && { now: options.now }),
          });
  }

  /**
   * Submits a DAG (`POST /strategies`) and returns the Gateway's diff.
   * @throws QmtlError `QMTL_CRC_MISMATCH` (400), {@link GatewayDuplicateStrategyError} (409), the
   * Gateway's validation code with every problem (422), `QMTL_PAYLOAD_TOO_LARGE` (413),
   * `QMTL_UNAUTHORIZED` (401), {@link GatewayUnavailableError} (network, timeout, 5xx, degraded).
   */
  async submit(dag: DagJson, options: SubmitOptions): Promise<GatewaySubmission> {
    const body = {
      dag_json: Buffer.from(JSON.stringify(dag)).toString('base64'),
      meta: options.meta ?? null,
      run_type: options.runType,
      node_ids_crc32: crc32OfList(dag.nodes.map((node) => node.node_id)),
    };
    const reply = await this.request('POST', '/strategies', body);
    return submissionOf(reply, this.gatewayUrl);
  }

  /** A strategy's status (`GET /strategies/{id}/status`), or null when the Gateway does not know it. */
  async status(strategyId: string): Promise<string | null> {
    const reply = await this.request(
      'GET',
      `/strategies/${encodeURIComponent(strategyId)}/status`,
      undefined,
      {
        notFoundIsNull: true,
      },
    );
    if (reply === null) return null;
    return stringField(reply, 'status', this.gatewayUrl);
  }

  /** Stops a strategy (`DELETE /strategies/{id}`) and returns its new status. @throws `QMTL_NOT_FOUND`. */
  async stop(strategyId: string): Promise<string> {
    const reply = await this.request('DELETE', `/strategies/${encodeURIComponent(strategyId)}`);
    return stringField(reply, 'status', this.gatewayUrl);
  }

  /**
   * Renews the strategy's producer lease (`POST /strategies/{id}/heartbeat`). Call it more often
   * than every `leaseMs`: when the lease expires the Gateway stops the strategy.
   * @throws QmtlError `QMTL_NOT_FOUND`, `QMTL_INVALID_TRANSITION` (the strategy is stopped or
   * failed), {@link GatewayUnavailableError}.
   */
  async heartbeat(strategyId: string): Promise<{ status: string; leaseMs: number }> {
    const reply = await this.request('POST', `/strategies/${encodeURIComponent(strategyId)}/heartbeat`);
    const leaseMs = reply?.['lease_ms'];
    if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs <= 0)
      throw malformed(this.gatewayUrl, reply);
    return { status: stringField(reply, 'status', this.gatewayUrl), leaseMs };
  }

  /**
   * Takes over the nodes of the strategy's DAG that no live strategy produces any more, e.g. after
   * a `producer_released` event (`POST /strategies/{id}/claim`). Returns the new maps: claimed
   * nodes move from `queueMap` to `topicMap`.
   * @throws QmtlError `QMTL_NOT_FOUND`, `QMTL_INVALID_TRANSITION` (the strategy is not active),
   * {@link GatewayUnavailableError} (also when the DAG Manager is down).
   */
  async claim(strategyId: string): Promise<GatewaySubmission> {
    const reply = await this.request('POST', `/strategies/${encodeURIComponent(strategyId)}/claim`);
    return submissionOf(reply, this.gatewayUrl);
  }

  /** The topics whose tags match (`GET /queues/by_tag`). */
  async queuesByTag(
    tags: readonly string[],
    interval: IntervalLike,
    matchMode: MatchMode = 'any',
  ): Promise<string[]> {
    const query = new URLSearchParams({
      tags: tags.join(','),
      interval: String(parseInterval(interval, 'queuesByTag interval')),
      match_mode: matchMode,
    });
    const reply = await this.request('GET', `/queues/by_tag?${query.toString()}`);
    const queues = isRecord(reply) ? reply['queues'] : undefined;
    if (!Array.isArray(queues) || !queues.every((q): q is string => typeof q === 'string'))
      throw malformed(this.gatewayUrl, reply);
    return queues;
  }

  /** Sends one request through the breaker (with retries) and maps every failure to a QmtlError. */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    options: { notFoundIsNull?: boolean } = {},
  ): Promise<Record<string, unknown> | null> {
    const url = `${this.gatewayUrl}${path}`;
    const attempt = (): Promise<GatewayReply> => {
      // Checked here so the message names the Gateway even for a breaker shared under another name.
      if (this.breaker.state === 'open')
        throw new GatewayUnavailableError(
          this.gatewayUrl,
          `circuit open after ${this.breaker.failures} consecutive failures`,
        );
      return this.breaker.call(() => this.send(method, url, body));
    };
    let reply: GatewayReply;
    for (let retryNumber = 1; ; retryNumber++) {
      try {
        reply = await attempt();
        break;
      } catch (error) {
        // Only transient failures are retried, and never once the breaker has opened.
        const transient = error instanceof GatewayUnavailableError && this.breaker.state !== 'open';
        if (!transient || retryNumber > this.retries) throw error;
        await this.sleep(backoffDelay(retryNumber, { baseDelayMs: 200 }));
      }
    }
    if (reply.status >= 200 && reply.status < 300) return isRecord(reply.body) ? reply.body : {};
    if (reply.status === 404 && options.notFoundIsNull === true) return null;
    throw errorOf(reply, url);
  }

  /** One HTTP exchange; throws (counting against the breaker) only for network, timeout, 5xx, 204. */
  private async send(method: string, url: string, body: unknown): Promise<GatewayReply> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchFn(url, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new GatewayUnavailableError(this.gatewayUrl, networkReason(error, this.timeoutMs), null, error);
    }
    const reply = {
      status: response.status,
      body: parseJson(text),
      retryAfter: response.headers.get('retry-after'),
    };
    if (reply.status >= 500 || reply.status === 204) {
      const reason =
        reply.status === 204
          ? 'the Gateway is degraded (204)'
          : `HTTP ${reply.status}${messageSuffix(reply.body)}`;
      throw new GatewayUnavailableError(this.gatewayUrl, reason, retryAfterSeconds(reply.retryAfter));
    }
    return reply;
  }
}

interface GatewayReply {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfter: string | null;
}

/** The breaker settings: explicit options, else `QMTL_GW_CB_*` (as the original), else 3 and 60 s. */
function breakerSettings(
  settings: GatewayBreakerSettings | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { failureThreshold: number; resetTimeoutMs: number } {
  const fromEnv = (name: string, scale: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new QmtlError(ErrorCode.InvalidConfig, `${name} must be a positive number, got ${quote(raw)}`);
    return value * scale;
  };
  return {
    failureThreshold: settings?.failureThreshold ?? fromEnv('QMTL_GW_CB_MAX_FAILURES', 1) ?? 3,
    resetTimeoutMs: settings?.resetTimeoutMs ?? fromEnv('QMTL_GW_CB_RESET_TIMEOUT', 1_000) ?? 60_000,
  };
}

/** Maps a non-2xx answer that does not count against the breaker to a QmtlError. */
function errorOf(reply: GatewayReply, url: string): QmtlError {
  const body = isRecord(reply.body) ? reply.body : {};
  const message = typeof body['message'] === 'string' ? body['message'] : `HTTP ${reply.status}`;
  const where = `Gateway ${quote(url)}`;
  switch (reply.status) {
    case 400:
      return new QmtlError(ErrorCode.CrcMismatch, `${where} rejected the DAG: ${message}`);
    case 401:
    case 403:
      return new QmtlError(ErrorCode.Unauthorized, `${where} refused the credentials: ${message}`);
    case 404:
      return new QmtlError(ErrorCode.NotFound, `${where}: ${message}`);
    case 409:
      return typeof body['strategy_id'] === 'string'
        ? new GatewayDuplicateStrategyError(body['strategy_id'])
        : new QmtlError(ErrorCode.InvalidTransition, `${where}: ${message}`);
    case 413:
      return new QmtlError(
        ErrorCode.PayloadTooLarge,
        `${where} rejected the payload as too large: ${message}`,
      );
    case 422: {
      const code = knownCode(body['code']) ?? ErrorCode.InvalidStrategy;
      return new QmtlError(code, `${where} rejected the strategy: ${message}`, {
        problems: problemsOf(body['problems'], code),
      });
    }
    case 429: {
      const after = retryAfterSeconds(reply.retryAfter);
      const suffix = after === null ? '' : `; retry after ${after} s`;
      return new QmtlError(ErrorCode.RateLimited, `${where} is rate limiting: ${message}${suffix}`);
    }
    default:
      return new QmtlError(
        knownCode(body['code']) ?? ErrorCode.InvalidArgument,
        `${where} answered ${reply.status}: ${message}`,
      );
  }
}

function submissionOf(reply: Record<string, unknown> | null, url: string): GatewaySubmission {
  const strategyId = stringField(reply, 'strategy_id', url);
  const body = reply ?? {};
  const queueMap = body['queue_map'] ?? {};
  const topicMap = body['topic_map'] ?? {};
  const sentinelId = body['sentinel_id'] ?? null;
  const validQueues = isRecord(queueMap) && Object.values(queueMap).every(isTopicOrTopics);
  const validTopics = isRecord(topicMap) && Object.values(topicMap).every((t) => typeof t === 'string');
  if (!validQueues || !validTopics || !(sentinelId === null || typeof sentinelId === 'string'))
    throw malformed(url, reply);
  return {
    strategyId,
    queueMap: queueMap as Record<string, string | string[]>,
    topicMap: topicMap as Record<string, string>,
    sentinelId,
    status: typeof body['status'] === 'string' ? body['status'] : 'completed',
    ...(typeof body['error'] === 'string' && { error: body['error'] }),
  };
}

function isTopicOrTopics(value: unknown): boolean {
  return typeof value === 'string' || (Array.isArray(value) && value.every((t) => typeof t === 'string'));
}

function stringField(reply: Record<string, unknown> | null, field: string, url: string): string {
  const value = reply?.[field];
  if (typeof value !== 'string') throw malformed(url, reply);
  return value;
}

function malformed(url: string, body: unknown): QmtlError {
  return new QmtlError(
    ErrorCode.Unavailable,
    `Gateway ${quote(url)} sent an unexpected reply: ${quote(body)}`,
  );
}

function problemsOf(raw: unknown, fallback: ErrorCode): Problem[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((p) => ({
    code: knownCode(p['code']) ?? fallback,
    message: typeof p['message'] === 'string' ? p['message'] : quote(p),
    ...(typeof p['node_id'] === 'string' && { nodeId: p['node_id'] }),
  }));
}

function knownCode(value: unknown): ErrorCode | null {
  return typeof value === 'string' && KNOWN_CODES.has(value) ? (value as ErrorCode) : null;
}

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  const detail =
    cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return detail;
}

/** `Retry-After` in whole seconds, or null. */
function retryAfterSeconds(header: string | null): number | null {
  const ms = retryAfterMs(header);
  return ms === null ? null : Math.ceil(ms / 1000);
}

function messageSuffix(body: unknown): string {
  return isRecord(body) && typeof body['message'] === 'string' ? `: ${body['message']}` : '';
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
