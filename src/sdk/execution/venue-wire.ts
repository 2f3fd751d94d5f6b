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
 * `{order_id, status: 'accepted' | 'rejected', reason?}`.
 * @throws QmtlError `QMTL_UNAVAILABLE` for a 2xx without them: the order may be placed, so it is
 * neither accepted nor rejected.
 */
export function parseAck(status: number, body: unknown, endpoint: string, clientOrderId: string): OrderAck {
  const fields = isRecord(body) ? body : {};
  if (status >= 400) {
    const said = [fields['reason'], fields['message'], fields['detail']].find((v) => typeof v === 'string');
    const orderId = typeof fields['order_id'] === 'string' ? fields['order_id'] : clientOrderId;
    return { orderId, status: 'rejected', reason: `HTTP ${status}: ${said ?? 'no reason given'}` };
  }
  const { order_id: orderId, status: outcome, reason } = fields;
  if (typeof orderId !== 'string' || orderId === '' || (outcome !== 'accepted' && outcome !== 'rejected')) {
    throw new QmtlError(
      ErrorCode.Unavailable,
      `POST ${quote(endpoint)} answered ${status} without {order_id, status: "accepted" | "rejected"}: ${quote(body)}`,
    );
  }
  return { orderId, status: outcome, ...(typeof reason === 'string' && { reason }) };
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
