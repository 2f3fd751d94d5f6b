import { ErrorCode, QmtlError } from './errors.js';

/** A reply that did not come within its deadline (see {@link withDeadline}). */
export class DeadlineError extends Error {}

/**
 * `promise`, or a {@link DeadlineError} after `ms` (the promise keeps running; its outcome is
 * ignored). node-redis only times out commands not yet sent; this bounds the ones on the wire.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`no reply within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `host:port` of a `redis://` or `rediss://` DSN, for messages (the DSN itself may carry a
 * password, so it is never echoed).
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` for anything else.
 */
export function redisAddress(dsn: string): string {
  const url = URL.canParse(dsn) ? new URL(dsn) : null;
  if (url === null || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) throw invalidRedisDsn();
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
