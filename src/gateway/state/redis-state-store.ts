import type * as Redis from 'redis';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { OutageLog } from '../../common/outage-log.js';
import {
  createRedisClient,
  invalidRedisDsn,
  redisAddress,
  type RedisClient,
} from '../../common/redis-support.js';
import { DeadlineError, withDeadline } from '../../common/deadline.js';
import { isStrategyStatus, type StrategyStatus } from '../strategy-status.js';
import { lockTtlProblem, type StateStore } from './state-store.js';

/** Options of {@link RedisStateStore.connect}. */
export interface RedisStateStoreOptions {
  /** Prepended to every key, e.g. `'gw1:'` or a unique prefix per test suite. Default `''`. */
  readonly keyPrefix?: string;
  /** TCP connect timeout of each (re)connection attempt, in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** How long a command may wait for its reply before it fails `QMTL_TIMEOUT`, in ms. Default 5000. */
  readonly commandTimeoutMs?: number;
  /** How long {@link RedisStateStore.ping} waits for PONG before it answers false, in ms. Default 1000. */
  readonly pingTimeoutMs?: number;
  /** Upper bound of the exponential reconnect backoff (50 ms, 100 ms, …), in ms. Default 2000. */
  readonly maxReconnectDelayMs?: number;
}

/** Deletes `KEYS[1]` only while it still holds the caller's token `ARGV[1]`. */
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Moves one occurrence of `ARGV[1]` from the in-flight list `KEYS[1]` to the tail of the queue
 * `KEYS[2]`; an id that is not in flight is not queued (two recoverers requeueing the same stale
 * item must not queue it twice). A script rather than MULTI, because MULTI cannot branch.
 */
const REQUEUE = `if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  return redis.call('RPUSH', KEYS[2], ARGV[1])
end
return 0`;

type RedisModule = typeof Redis;

/**
 * The distributed {@link StateStore} over Redis (node-redis, RESP2), with the keys documented on
 * the port. `redis` is loaded on first use, so the embedded mode never imports it.
 *
 * Outages never hang a caller: commands fail at once while the client is disconnected
 * (`QMTL_UNAVAILABLE`), or after `commandTimeoutMs` when Redis stops answering (`QMTL_TIMEOUT`),
 * and {@link ping} answers false. The client reconnects by itself with capped backoff; the
 * outage is logged once at `warn` (then once a minute) and the recovery at `info`.
 *
 * @example
 * const store = await RedisStateStore.connect('redis://127.0.0.1:6379', { keyPrefix: 'gw:' });
 * if (!(await store.ping())) console.warn('Redis is down; the store keeps reconnecting');
 * await store.enqueue('s1');
 * await store.close();
 */
export class RedisStateStore implements StateStore {
  private readonly keys: StateKeys;
  /** Every failed (re)connection attempt, logged once per outage (then once a minute). */
  private readonly outage: OutageLog;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly client: RedisClient,
    private readonly redis: RedisModule,
    /** `host:port`, for messages (the DSN may carry a password). */
    private readonly address: string,
    private readonly options: RedisStateStoreOptions,
  ) {
    this.keys = new StateKeys(options.keyPrefix ?? '');
    this.outage = new OutageLog({
      fields: { redis: address },
      messages: {
        down: 'Redis state store is unreachable; reconnecting in the background',
        stillDown: 'Redis state store is still unreachable',
        recovered: 'Redis state store reconnected',
      },
    });
    // Without an 'error' listener, a failed (re)connection attempt would crash the process.
    client.on('error', (error: unknown) => this.outage.failed(error));
    client.on('ready', () => this.outage.succeeded());
  }

  /**
   * A store on `dsn` (`redis://[user:password@]host[:port][/db]`). Resolves once the first
   * connection attempt settles: connected, or failed, in which case the store keeps reconnecting
   * in the background and {@link ping} answers false until Redis is back.
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` when `dsn` is not a usable redis:// or rediss:// URL.
   */
  static async connect(dsn: string, options: RedisStateStoreOptions = {}): Promise<RedisStateStore> {
    const address = redisAddress(dsn);
    const redis = await import('redis');
    let client: RedisClient;
    try {
      client = createRedisClient(redis, dsn, options);
    } catch (error) {
      throw invalidRedisDsn(error);
    }
    const store = new RedisStateStore(client, redis, address, options);
    await store.firstAttempt();
    return store;
  }

  async enqueue(id: string): Promise<void> {
    await this.run('enqueueing a strategy', (c) => c.rPush(this.keys.queue, id));
  }

  claim(): Promise<string | null> {
    return this.run('claiming a strategy', (c) =>
      c.lMove(this.keys.queue, this.keys.inFlight, 'LEFT', 'RIGHT'),
    );
  }

  async ack(id: string): Promise<void> {
    await this.run('acking a strategy', (c) => c.lRem(this.keys.inFlight, 1, id));
  }

  async requeue(id: string): Promise<void> {
    await this.run('requeueing a strategy', (c) =>
      c.eval(REQUEUE, { keys: [this.keys.inFlight, this.keys.queue], arguments: [id] }),
    );
  }

  queued(): Promise<string[]> {
    return this.run('reading the queue', (c) => c.lRange(this.keys.queue, 0, -1));
  }

  inFlight(): Promise<string[]> {
    return this.run('reading the in-flight list', (c) => c.lRange(this.keys.inFlight, 0, -1));
  }

  async acquireLock(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const invalid = lockTtlProblem(ttlMs);
    if (invalid !== null) throw invalid;
    const reply = await this.run('acquiring a lock', (c) =>
      c.set(this.keys.lock(id), owner, {
        condition: 'NX',
        expiration: { type: 'PX', value: ttlMs },
      }),
    );
    return reply === 'OK';
  }

  async releaseLock(id: string, owner: string): Promise<void> {
    await this.run('releasing a lock', (c) =>
      c.eval(RELEASE_LOCK, { keys: [this.keys.lock(id)], arguments: [owner] }),
    );
  }

  lockHolder(id: string): Promise<string | null> {
    return this.run('reading a lock', (c) => c.get(this.keys.lock(id)));
  }

  async getStatus(id: string): Promise<StrategyStatus | null> {
    const value = await this.run('reading a status', (c) => c.hGet(this.keys.status(id), 'state'));
    if (value === null || isStrategyStatus(value)) return value;
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `Redis key ${quote(this.keys.status(id))} holds an unknown status ${quote(value)}`,
    );
  }

  async setStatus(id: string, status: StrategyStatus): Promise<void> {
    await this.run('writing a status', (c) => c.hSet(this.keys.status(id), 'state', status));
  }

  async renewLease(id: string, deadlineMs: number): Promise<void> {
    await this.run('renewing a lease', (c) => c.zAdd(this.keys.leases, { score: deadlineMs, value: id }));
  }

  expiredLeases(nowMs: number): Promise<string[]> {
    return this.run('reading expired leases', (c) => c.zRangeByScore(this.keys.leases, '-inf', nowMs));
  }

  async dropLease(id: string): Promise<void> {
    await this.run('dropping a lease', (c) => c.zRem(this.keys.leases, id));
  }

  /** True when Redis answers PING within `pingTimeoutMs`; false (never a rejection) otherwise. */
  async ping(): Promise<boolean> {
    const ms = this.options.pingTimeoutMs ?? 1000;
    try {
      return (await withDeadline(this.client.sendCommand<string>(['PING']), ms)) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Waits for pending replies (at most `commandTimeoutMs`), then drops the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (!this.client.isOpen) return;
    if (!this.client.isReady) {
      // Disconnected: nothing of ours is pending, and a handshake may never be answered.
      this.client.destroy();
      return;
    }
    try {
      await withDeadline(this.client.close(), this.options.commandTimeoutMs ?? 5000);
    } catch {
      // Replies that never come (a stalled server) must not keep the process alive.
      this.client.destroy();
    }
  }

  /**
   * Resolves when the first connection attempt succeeds or fails, or after `connectTimeoutMs`
   * when a server accepts the connection but never answers the handshake. Retries continue after.
   */
  private async firstAttempt(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let done = (): void => undefined;
    const settled = new Promise<void>((resolve) => {
      done = resolve;
      this.client.once('ready', done);
      this.client.once('error', done);
      timer = setTimeout(done, this.options.connectTimeoutMs ?? 2000);
    });
    // Rejects only when close() interrupts the reconnect loop; every failed attempt is an 'error'.
    this.client.connect().catch((error: unknown) => {
      logger.debug({ err: error, redis: this.address }, 'Redis state store stopped connecting');
    });
    await settled;
    clearTimeout(timer);
    this.client.off('ready', done).off('error', done);
  }

  /**
   * Runs one command under `commandTimeoutMs`; every failure becomes a QmtlError naming the
   * action. The deadline is ours because node-redis only times out commands not yet written.
   */
  private async run<T>(action: string, command: (client: RedisClient) => Promise<T>): Promise<T> {
    try {
      return await withDeadline(command(this.client), this.options.commandTimeoutMs ?? 5000);
    } catch (error) {
      throw this.failure(action, error);
    }
  }

  private failure(action: string, error: unknown): QmtlError {
    const where = `Redis at ${this.address}`;
    if (error instanceof DeadlineError || error instanceof this.redis.TimeoutError) {
      const ms = this.options.commandTimeoutMs ?? 5000;
      return new QmtlError(ErrorCode.Timeout, `${where} did not answer ${action} within ${ms} ms`, {
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new QmtlError(ErrorCode.Unavailable, `${where} failed ${action}: ${message}`, {
      cause: error,
    });
  }
}

/** The Redis key names of the port, under a prefix. */
class StateKeys {
  readonly queue: string;
  readonly inFlight: string;
  readonly leases: string;

  constructor(private readonly prefix: string) {
    this.queue = `${prefix}strategy_queue`;
    this.inFlight = `${prefix}strategy_queue:inflight`;
    this.leases = `${prefix}strategy_leases`;
  }

  lock(id: string): string {
    return `${this.prefix}lock:${id}`;
  }

  status(id: string): string {
    return `${this.prefix}strategy:${id}`;
  }
}

/**
 * A RESP2 client that fails fast while disconnected (no offline queue), bounds its pending
 * commands, times out commands still unwritten after `commandTimeoutMs`, and reconnects forever
 * with backoff 50 ms · 2^n capped at `maxReconnectDelayMs`, plus up to 100 ms of jitter.
 */
