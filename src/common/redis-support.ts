import type * as Redis from 'redis';
import { ErrorCode, QmtlError } from './errors.js';

/**
 * `host:port` of a `redis://` or `rediss://` DSN, for messages (the DSN itself may carry a
 * password, so it is never echoed).
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` for anything else, a database that is not a number
 * (`/abc`, which node-redis would refuse only once a client is made) included.
 */
export function redisAddress(dsn: string): string {
  const url = URL.canParse(dsn) ? new URL(dsn) : null;
  if (url === null || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) throw invalidRedisDsn();
  if (!/^\/?\d*$/.test(url.pathname)) throw invalidRedisDsn();
  return `${url.hostname || '127.0.0.1'}:${url.port || '6379'}`;
}

/** The error for a DSN node-redis cannot use; the DSN is not echoed. */
export function invalidRedisDsn(cause?: unknown): QmtlError {
  return new QmtlError(
    ErrorCode.InvalidArgument,
    'Redis DSN must look like "redis://[user:password@]host[:port][/db]"',
    cause === undefined ? {} : { cause },
  );
}

/** Connection settings shared by qmtl's Redis clients. */
export interface RedisClientSettings {
  /** Deadline of one command, ms. Default 5,000. */
  readonly commandTimeoutMs?: number;
  /** Deadline of one connection attempt, ms. Default 2,000. */
  readonly connectTimeoutMs?: number;
  /** Cap of the reconnect backoff, ms. Default 2,000. */
  readonly maxReconnectDelayMs?: number;
}

/**
 * Most commands awaiting a reply at once. Replies of commands that missed their deadline are
 * still awaited (a connection that stalls without closing keeps them), so this bounds the memory
 * a long stall can take; past it, commands fail at once.
 */
const MAX_PENDING_COMMANDS = 10_000;

/**
 * A node-redis client as qmtl uses it: RESP 2 (stable reply shapes), no offline queue (commands
 * fail at once while disconnected instead of piling up), bounded pending commands, and reconnects
 * with jittered backoff capped at `maxReconnectDelayMs`. `redis` is the lazily imported module.
 */
export function createRedisClient(redis: typeof Redis, dsn: string, settings: RedisClientSettings) {
  const maxDelay = settings.maxReconnectDelayMs ?? 2000;
  return redis.createClient({
    url: dsn,
    RESP: 2,
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_PENDING_COMMANDS,
    commandOptions: { timeout: settings.commandTimeoutMs ?? 5000 },
    socket: {
      connectTimeout: settings.connectTimeoutMs ?? 2000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, maxDelay) + Math.floor(Math.random() * 100),
    },
  });
}

/** A client made by {@link createRedisClient}. */
export type RedisClient = ReturnType<typeof createRedisClient>;
