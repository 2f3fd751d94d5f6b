import { pino, type Logger } from 'pino';

/**
 * The process-wide structured logger (pino, JSON lines on stderr). Level from `QMTL_LOG_LEVEL`
 * (default `warn`, so library use stays quiet; the CLI raises it to `info`).
 */
export const logger: Logger = pino(
  { name: 'qmtl', level: process.env['QMTL_LOG_LEVEL'] ?? 'warn' },
  pino.destination({ dest: 2, sync: true }),
);

/**
 * Log fields for an expected failure (a dependency that is down): its message only, so a warning
 * stays one short line; the whole error, stack and causes, when debugging (`QMTL_DEBUG=1`, or the
 * logger at `debug` or finer).
 * @example logger.warn({ redis: address, ...errorFields(error) }, 'Redis is unreachable; retrying');
 */
export function errorFields(error: unknown): { error: string; err?: unknown } {
  const message = error instanceof Error ? error.message : String(error);
  const debugging = process.env['QMTL_DEBUG'] === '1' || logger.isLevelEnabled('debug');
  return debugging ? { error: message, err: error } : { error: message };
}

export type { Logger };
