import type { FastifyError, FastifyInstance } from 'fastify';
import { ErrorCode, QmtlError, quote, type Problem } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { DuplicateStrategyError } from './strategy-intake.js';

/** The HTTP status of every error code the Gateway can answer with (the one mapping table). */
const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidArgument]: 422,
  [ErrorCode.InvalidInterval]: 422,
  [ErrorCode.InvalidPeriod]: 422,
  [ErrorCode.InvalidTime]: 422,
  [ErrorCode.InvalidNode]: 422,
  [ErrorCode.InvalidDag]: 422,
  [ErrorCode.DagCycle]: 422,
  [ErrorCode.UnknownInput]: 422,
  [ErrorCode.DuplicateNodeId]: 422,
  [ErrorCode.NodeIdMismatch]: 422,
  [ErrorCode.InvalidStrategy]: 422,
  [ErrorCode.InvalidConfig]: 422,
  [ErrorCode.CrcMismatch]: 400,
  [ErrorCode.DuplicateStrategy]: 409,
  [ErrorCode.InvalidTransition]: 409,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Timeout]: 503,
  [ErrorCode.QueueCreateFailed]: 503,
  [ErrorCode.MissingData]: 500,
  [ErrorCode.HistoryUnavailable]: 500,
  [ErrorCode.BackfillFailed]: 500,
  [ErrorCode.ComputeFailed]: 500,
  [ErrorCode.NotSupported]: 500,
};

/** The HTTP status for a QmtlError code. */
export function httpStatusOf(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

/**
 * The JSON body of every Gateway error: `{code, message, problems?, detail}`. `detail` repeats the
 * message (FastAPI clients of the original read it); a 409 carries `{strategy_id}` there and at
 * the top level, as the original did.
 */
export function errorBody(error: QmtlError): Record<string, unknown> {
  const body: Record<string, unknown> = { code: error.code, message: error.message, detail: error.message };
  if (error.problems.length > 0) body['problems'] = error.problems.map(problemJson);
  if (error instanceof DuplicateStrategyError) {
    body['strategy_id'] = error.existingId;
    body['status'] = error.existingStatus;
    body['detail'] = { strategy_id: error.existingId };
  }
  return body;
}

function problemJson(problem: Problem): Record<string, string> {
  return problem.nodeId === undefined
    ? { code: problem.code, message: problem.message }
    : { code: problem.code, message: problem.message, node_id: problem.nodeId };
}

/**
 * The one error handler: QmtlErrors by the table above; Fastify's own errors (bad JSON 400→422,
 * body too large 413, rate limit 429) with their status; anything else a logged 500 without
 * details; an unknown route a 404 in the same body shape. Responses never contain stack traces.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    const error = new QmtlError(
      ErrorCode.NotFound,
      `no route ${request.method} ${quote(request.url.split('?')[0] ?? '')}`,
    );
    return reply.status(404).send(errorBody(error));
  });
  app.setErrorHandler((error: FastifyError | QmtlError | Error, request, reply) => {
    if (error instanceof QmtlError) {
      const status = httpStatusOf(error.code);
      if (status >= 500) logger.warn({ err: error, url: request.url }, 'Gateway request failed');
      // A 503 is temporary (a dependency down, or load shed): tell clients when to come back.
      if (status === 503) void reply.header('retry-after', '1');
      return reply.status(status).send(errorBody(error));
    }
    const status = (error as FastifyError).statusCode ?? 500;
    if (status >= 500) {
      logger.error({ err: error, url: request.url }, 'Gateway request failed');
      return reply
        .status(500)
        .send({ code: 'QMTL_INTERNAL', message: 'internal error', detail: 'internal error' });
    }
    const code = codeOfStatus(status);
    const message = status === 413 ? 'request body is larger than the limit' : error.message;
    return reply.status(status === 400 ? 422 : status).send({ code, message, detail: message });
  });
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 413) return ErrorCode.PayloadTooLarge;
  if (status === 429) return ErrorCode.RateLimited;
  if (status === 401 || status === 403) return ErrorCode.Unauthorized;
  if (status === 404) return ErrorCode.NotFound;
  return ErrorCode.InvalidArgument;
}
