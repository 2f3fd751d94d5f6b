/**
 * The catalogue of error codes qmtl raises. One code per distinct failure, so callers (and the
 * Gateway / DAG Manager error mappers) can branch on `error.code` rather than on message text.
 * Documented in `docs/errors.md`.
 */
export const ErrorCode = {
  InvalidArgument: 'QMTL_INVALID_ARGUMENT',
  InvalidInterval: 'QMTL_INVALID_INTERVAL',
  InvalidPeriod: 'QMTL_INVALID_PERIOD',
  InvalidTime: 'QMTL_INVALID_TIME',
  InvalidNode: 'QMTL_INVALID_NODE',
  InvalidDag: 'QMTL_INVALID_DAG',
  DagCycle: 'QMTL_DAG_CYCLE',
  UnknownInput: 'QMTL_UNKNOWN_INPUT',
  DuplicateNodeId: 'QMTL_DUPLICATE_NODE_ID',
  NodeIdMismatch: 'QMTL_NODE_ID_MISMATCH',
  InvalidStrategy: 'QMTL_INVALID_STRATEGY',
  MissingData: 'QMTL_MISSING_DATA',
  HistoryUnavailable: 'QMTL_HISTORY_UNAVAILABLE',
  BackfillFailed: 'QMTL_BACKFILL_FAILED',
  ComputeFailed: 'QMTL_COMPUTE_FAILED',
  InvalidConfig: 'QMTL_INVALID_CONFIG',
  NotSupported: 'QMTL_NOT_SUPPORTED',
  Unavailable: 'QMTL_UNAVAILABLE',
  NotFound: 'QMTL_NOT_FOUND',
  Timeout: 'QMTL_TIMEOUT',
  QueueCreateFailed: 'QMTL_QUEUE_CREATE_FAILED',
  CrcMismatch: 'QMTL_CRC_MISMATCH',
  DuplicateStrategy: 'QMTL_DUPLICATE_STRATEGY',
  InvalidTransition: 'QMTL_INVALID_TRANSITION',
  PayloadTooLarge: 'QMTL_PAYLOAD_TOO_LARGE',
  Unauthorized: 'QMTL_UNAUTHORIZED',
  RateLimited: 'QMTL_RATE_LIMITED',
} as const;

/** One of the codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One problem found while validating something; validation reports all of them at once. */
export interface Problem {
  readonly code: ErrorCode;
  readonly message: string;
  /** The node the problem is about, when there is one. */
  readonly nodeId?: string;
}

/**
 * The one error class qmtl throws. `code` comes from {@link ErrorCode}; `problems` lists every
 * problem when the error sums up a validation.
 */
export class QmtlError extends Error {
  override readonly name = 'QmtlError';
  readonly code: ErrorCode;
  readonly problems: readonly Problem[];

  constructor(
    code: ErrorCode,
    message: string,
    options: { problems?: readonly Problem[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.problems = options.problems ?? [];
  }

  /** Builds one error that lists every problem; its code is the first problem's code. */
  static fromProblems(summary: string, problems: readonly Problem[]): QmtlError {
    const first = problems[0];
    const lines = problems.map((p) => `  - ${p.message}`).join('\n');
    return new QmtlError(first?.code ?? ErrorCode.InvalidArgument, `${summary}:\n${lines}`, { problems });
  }
}

/** Quotes a value for an error message: strings in double quotes, others as compact JSON. */
export function quote(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value);
  if (value === undefined || typeof value === 'symbol') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  try {
    const text = JSON.stringify(value) ?? typeof value;
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    // Circular, or nested deeper than the stack (a hostile body).
    return Array.isArray(value)
      ? `an array of ${value.length} item(s) that cannot be printed (circular or too deeply nested)`
      : `an object that cannot be printed (circular or too deeply nested)`;
  }
}

/** Shortens a 64-hex node id for messages: `a1b2c3d4…`. */
export function shortId(nodeId: string): string {
  return nodeId.length > 12 ? `${nodeId.slice(0, 8)}…` : nodeId;
}
