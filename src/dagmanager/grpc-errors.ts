import { status, type ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { logger } from '../common/logger.js';

const STATUS_BY_CODE: Partial<Record<ErrorCode, status>> = {
  [ErrorCode.InvalidArgument]: status.INVALID_ARGUMENT,
  [ErrorCode.InvalidDag]: status.INVALID_ARGUMENT,
  [ErrorCode.InvalidNode]: status.INVALID_ARGUMENT,
  [ErrorCode.InvalidInterval]: status.INVALID_ARGUMENT,
  [ErrorCode.InvalidPeriod]: status.INVALID_ARGUMENT,
  [ErrorCode.DagCycle]: status.INVALID_ARGUMENT,
  [ErrorCode.UnknownInput]: status.INVALID_ARGUMENT,
  [ErrorCode.DuplicateNodeId]: status.INVALID_ARGUMENT,
  [ErrorCode.NodeIdMismatch]: status.INVALID_ARGUMENT,
  [ErrorCode.NotFound]: status.NOT_FOUND,
  [ErrorCode.Timeout]: status.DEADLINE_EXCEEDED,
  [ErrorCode.Unavailable]: status.UNAVAILABLE,
  [ErrorCode.QueueCreateFailed]: status.UNAVAILABLE,
};

/**
 * A gRPC error for any failure: QmtlErrors keep their message (every problem listed) and carry
 * `qmtl-code` metadata; anything else is logged and answered as INTERNAL without internals.
 */
export function toServiceError(error: unknown): Partial<ServiceError> {
  const metadata = new Metadata();
  if (error instanceof QmtlError) {
    metadata.set('qmtl-code', error.code);
    return { code: STATUS_BY_CODE[error.code] ?? status.INTERNAL, details: error.message, metadata };
  }
  logger.error({ err: error }, 'DAG Manager request failed');
  return { code: status.INTERNAL, details: 'internal error in the DAG Manager', metadata };
}
