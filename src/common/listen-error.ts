import { ErrorCode, QmtlError } from './errors.js';

/**
 * The error of a service that cannot bind its address, naming the service, the address and the
 * config key that moves it. A port in use is most often another qmtl service still running.
 *
 * @example
 * throw listenError(error, 'the Gateway', '127.0.0.1:8000', 'gateway.port');
 */
export function listenError(error: unknown, service: string, address: string, configKey: string): QmtlError {
  const message = error instanceof Error ? error.message : String(error);
  const inUse = (error as { code?: unknown } | null)?.code === 'EADDRINUSE' || message.includes('EADDRINUSE');
  const reason = inUse
    ? `the port is in use (another qmtl up, gw or dagmgr-server?): stop that process or set ${configKey} in qmtl.yml`
    : `${message} (set by ${configKey} in qmtl.yml)`;
  return new QmtlError(ErrorCode.Unavailable, `${service} cannot listen on ${address}: ${reason}`, {
    cause: error,
  });
}
