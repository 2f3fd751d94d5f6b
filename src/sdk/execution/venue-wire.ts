import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { isRecord } from '../../common/is-record.js';
import type { OrderAck } from './broker.js';

/** One execution as a venue reports it. */
export interface VenueFill {
  readonly price: number;
  readonly quantity: number;
  readonly fee: number;
  /** Epoch seconds; null when the venue gave none. */
  readonly ts: number | null;
}

/**
 * Reads a venue's final answer to `POST /orders` (SPEC §3.5, {@link HttpBroker}): a 4xx is a
 * rejection whose reason is the body's `reason`, `message` or `detail`; a 2xx must be
 * `{order_id, status: 'accepted' | 'rejected', reason?}`, where `order_id` is a non-empty string or
 * an integer (read as its decimal string).
 * @throws QmtlError `QMTL_UNAVAILABLE` for a 2xx without them, or with an `order_id` of another type
 * (named with its value): the order may be placed, so it is neither accepted nor rejected.
 */
export function parseAck(status: number, body: unknown, endpoint: string, clientOrderId: string): OrderAck {
  const fields = isRecord(body) ? body : {};
  if (status >= 400) {
    const said = [fields['reason'], fields['message'], fields['detail']].find((v) => typeof v === 'string');
    const orderId = orderIdText(fields['order_id']) ?? clientOrderId;
    return { orderId, status: 'rejected', reason: `HTTP ${status}: ${said ?? 'no reason given'}` };
  }
  const { order_id: rawId, status: outcome, reason } = fields;
  const answered = `POST ${quote(endpoint)} answered ${status}`;
  if (rawId === undefined || (outcome !== 'accepted' && outcome !== 'rejected')) {
    throw new QmtlError(
      ErrorCode.Unavailable,
      `${answered} without {order_id, status: "accepted" | "rejected"}: ${quote(body)}`,
    );
  }
  const orderId = orderIdText(rawId);
  if (orderId === null) {
    const why = isFiniteNumber(rawId) && Number.isInteger(rawId) ? UNSAFE_ID : BAD_ID;
    throw new QmtlError(
      ErrorCode.Unavailable,
      `${answered} with order_id ${quote(rawId)}, ${why}: ${quote(body)}`,
    );
  }
  return { orderId, status: outcome, ...(typeof reason === 'string' && { reason }) };
}

const BAD_ID = 'which is neither a non-empty string nor an integer';
const UNSAFE_ID =
  'an integer too large to read exactly (beyond ±2^53, JSON numbers lose digits): the venue must send it as a string';

/**
 * A venue's `order_id` as text: a non-empty string as it is, an integer that JSON carries exactly
 * (a safe integer) in decimal, as venues commonly answer numbers; null for anything else.
 */
function orderIdText(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  return Number.isSafeInteger(value) ? String(value) : null;
}

/** The `fills: [{price, quantity, fee?, ts?}]` of an answer, split into readable and unreadable ones. */
export function parseFills(body: unknown): { fills: VenueFill[]; invalid: unknown[] } {
  const raw = isRecord(body) && Array.isArray(body['fills']) ? (body['fills'] as unknown[]) : [];
  const fills: VenueFill[] = [];
  const invalid: unknown[] = [];
  for (const item of raw) {
    const { price, quantity, fee = 0, ts } = isRecord(item) ? item : {};
    if (isFiniteNumber(price) && isFiniteNumber(quantity) && quantity > 0 && isFiniteNumber(fee))
      fills.push({ price, quantity, fee, ts: isFiniteNumber(ts) ? ts : null });
    else invalid.push(item);
  }
  return { fills, invalid };
}

/** The body as JSON, or as text when it is not JSON. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** True for a finite number. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
