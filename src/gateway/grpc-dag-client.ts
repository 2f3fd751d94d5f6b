import { CircuitBreaker, type BreakerState } from '../common/circuit-breaker.js';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { retry, sleep as defaultSleep, type SleepFn } from '../common/retry.js';
import { DagManagerClient } from '../dagmanager/grpc-client.js';
import type { DagClient, GatewayDiff } from './dag-client.js';
import { gatewayMetrics } from './metrics.js';

/** Options of a {@link GrpcDagClient}. */
export interface GrpcDagClientOptions {
  /** Consecutive failed calls that open the breaker. Default 3. */
  readonly failureThreshold?: number;
  /** How long the breaker stays open before one half-open probe, in ms. Default 60 000. */
  readonly resetTimeoutMs?: number;
  /** Tries per call (diff, getQueues, cleanup), the first included. Default 5. */
  readonly attempts?: number;
  /** How long `healthy()` waits for `HealthCheck.Status`, in ms. Default 1000. */
  readonly healthTimeoutMs?: number;
  /** Clock of the breaker, in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How to wait between tries; tests inject one that records the delays. */
  readonly sleep?: SleepFn;
}

/** Options of {@link GrpcDagClient.connect}: the client's, plus the per-call gRPC deadline. */
export interface GrpcDagClientConnectOptions extends GrpcDagClientOptions {
  /** gRPC deadline of each try, in ms. Default 30 000. */
  readonly deadlineMs?: number;
}

/** Backoff between tries: 0.5 → 1 → 2 → 4 s, doubling, capped at 4 s (SPEC §4). */
const BACKOFF = { baseDelayMs: 500, maxDelayMs: 4_000, factor: 2, jitter: false } as const;

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };

/** The DAG Manager answered, but with an error that retrying cannot fix. */
interface FinalError {
  readonly final: unknown;
}

/**
 * The Gateway's {@link DagClient} over gRPC (SPEC §4): every call goes through one circuit
 * breaker (3 consecutive failed calls open it for 60 s, then one half-open probe); `diff`,
 * `getQueues` and `cleanup` retry `QMTL_UNAVAILABLE` / `QMTL_TIMEOUT` with backoff
 * 0.5 → 1 → 2 → 4 s, 5 tries in all. Breaker state, failures and openings are exported as
 * `dagclient_breaker_state` (0 closed, 1 open, 2 half-open), `dagclient_breaker_failures` and
 * `dagclient_breaker_open_total`. The breaker turns half-open lazily, so the state gauge reads 2
 * only while a probe is in flight; until then an expired open breaker still reads 1.
 *
 * Where the retry loop sits: **inside** the breaker, as in the original — one failed *call* (all
 * tries exhausted) is one breaker failure. So a blip shorter than the backoff (~7.5 s) is absorbed
 * by the retries and never counts; the breaker opens only after three calls in a row found the
 * DAG Manager unreachable for their whole retry window, and from then on every call fails at once
 * instead of sleeping through another 7.5 s of backoff. Counting each *try* instead would open the
 * breaker for 60 s after a 1.5 s blip, and would make the failure count depend on how many calls
 * happened to be in flight. A half-open probe makes a single try: it asks "are you back?", and
 * other calls are failing fast while it waits.
 *
 * Only unavailability counts: a final error (`QMTL_INVALID_DAG`, `QMTL_INVALID_ARGUMENT`, …) means
 * the DAG Manager answered, so it is thrown at once and counts as a breaker *success*.
 *
 * @example
 * const dagClient = GrpcDagClient.connect('127.0.0.1:50051');
 * const { queueMap, topicMap } = await dagClient.diff('s1', dagJson);
 */
export class GrpcDagClient implements DagClient {
  private readonly breaker: CircuitBreaker;
  private readonly attempts: number;
  private readonly healthTimeoutMs: number;
  private readonly sleep: SleepFn;

  constructor(
    private readonly client: DagManagerClient,
    options: GrpcDagClientOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    if (!Number.isSafeInteger(this.attempts) || this.attempts < 1) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `attempts must be a positive integer, got ${quote(options.attempts)}`,
      );
    }
    this.healthTimeoutMs = options.healthTimeoutMs ?? 1_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.breaker = new CircuitBreaker({
      name: `DAG Manager at ${quote(client.target)}`,
      ...(options.failureThreshold !== undefined && { failureThreshold: options.failureThreshold }),
      ...(options.resetTimeoutMs !== undefined && { resetTimeoutMs: options.resetTimeoutMs }),
      ...(options.now !== undefined && { now: options.now }),
      onOpen: () => gatewayMetrics.dagClientBreakerOpenTotal.inc(),
      onStateChange: (state) => {
        gatewayMetrics.dagClientBreakerState.set(BREAKER_GAUGE[state]);
        const log = state === 'closed' ? logger.info.bind(logger) : logger.warn.bind(logger);
        log({ target: client.target, state }, 'DAG Manager client breaker changed state');
      },
    });
    gatewayMetrics.dagClientBreakerState.set(0);
    gatewayMetrics.dagClientBreakerFailures.set(0);
  }

  /** A client with its own channel to `target` (`host:port`). */
  static connect(target: string, options: GrpcDagClientConnectOptions = {}): GrpcDagClient {
    const { deadlineMs, ...rest } = options;
    return new GrpcDagClient(
      new DagManagerClient(target, deadlineMs === undefined ? {} : { deadlineMs }),
      rest,
    );
  }

  /** Where the breaker is now (`half-open` once the reset timeout has passed). */
  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  async diff(strategyId: string, dagJson: string): Promise<GatewayDiff> {
    const reply = await this.guarded('diff', () => this.client.diff(strategyId, dagJson));
    return {
      sentinelId: reply.sentinelId,
      queueMap: reply.queueMap,
      topicMap: reply.topicMap,
      bufferNodes: reply.bufferNodes,
    };
  }

  getQueues(tags: readonly string[], interval: number, matchMode: 'any' | 'all'): Promise<string[]> {
    return this.guarded('getQueues', () => this.client.getQueues(tags, interval, matchMode));
  }

  cleanup(strategyId: string): Promise<string[]> {
    return this.guarded('cleanup', () => this.client.cleanup(strategyId));
  }

  /**
   * True iff `HealthCheck.Status` answers within `healthTimeoutMs` with `neo4j: ok` and
   * `state: running`. It goes through the breaker as one try: while the breaker is open it answers
   * false at once without a call (and without counting), and once the reset timeout has passed it
   * can be the half-open probe. A timeout or an unhealthy answer counts as one failure.
   */
  async healthy(): Promise<boolean> {
    try {
      await this.breaker.call(() => this.checkStatus());
      return true;
    } catch (error) {
      logger.debug({ err: error, target: this.client.target }, 'DAG Manager health check failed');
      return false;
    } finally {
      gatewayMetrics.dagClientBreakerFailures.set(this.breaker.failures);
    }
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }

  /** Runs `operation` with retries inside the breaker; final errors pass through uncounted. */
  private async guarded<T>(method: string, operation: () => Promise<T>): Promise<T> {
    const probe = this.breaker.state === 'half-open';
    try {
      const outcome = await this.breaker.call(() =>
        retry(() => settleFinal(operation), {
          ...BACKOFF,
          maxRetries: probe ? 0 : this.attempts - 1,
          sleep: this.sleep,
          onRetry: (error, attempt, delayMs) =>
            logger.warn(
              { reason: (error as Error).message, target: this.client.target, method, attempt, delayMs },
              'DAG Manager call failed; retrying',
            ),
        }),
      );
      if ('final' in outcome) throw outcome.final;
      return outcome.value;
    } finally {
      gatewayMetrics.dagClientBreakerFailures.set(this.breaker.failures);
    }
  }

  private async checkStatus(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new QmtlError(
              ErrorCode.Timeout,
              `DAG Manager at ${quote(this.client.target)} did not answer its health check within ${this.healthTimeoutMs} ms`,
            ),
          ),
        this.healthTimeoutMs,
      );
    });
    const status = this.client.status();
    // After a timeout the call is abandoned; its late outcome must not count a second time.
    status.catch(() => undefined);
    try {
      const { neo4j, state } = await Promise.race([status, timeout]);
      if (neo4j !== 'ok' || state !== 'running') {
        throw new QmtlError(
          ErrorCode.Unavailable,
          `DAG Manager at ${quote(this.client.target)} is not healthy: neo4j ${quote(neo4j)}, state ${quote(state)}`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Resolves with the value, or with `{ final }` for an error that must not be retried or counted. */
async function settleFinal<T>(operation: () => Promise<T>): Promise<{ value: T } | FinalError> {
  try {
    return { value: await operation() };
  } catch (error) {
    if (isTransient(error)) throw error;
    return { final: error };
  }
}

/** `QMTL_UNAVAILABLE` and `QMTL_TIMEOUT` may pass if tried again; every other error is final. */
function isTransient(error: unknown): boolean {
  return (
    error instanceof QmtlError && (error.code === ErrorCode.Unavailable || error.code === ErrorCode.Timeout)
  );
}
