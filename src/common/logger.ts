import { pino, type Logger } from 'pino';

/**
 * The process-wide structured logger (pino, JSON lines on stderr). Level from `QMTL_LOG_LEVEL`
 * (default `warn`, so library use stays quiet; the CLI raises it to `info`).
 */
export const logger: Logger = pino(
  { name: 'qmtl', level: process.env['QMTL_LOG_LEVEL'] ?? 'warn' },
  pino.destination({ dest: 2, sync: true }),
);

export type { Logger };
