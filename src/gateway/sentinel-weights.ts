import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { GatewayEventType, type EventHub } from './event-hub.js';
import { gatewayMetrics } from './metrics.js';

/**
 * The canary routing table (SPEC §4): the traffic weight of each version sentinel. A new weight
 * is validated, stored, exported as `gateway_sentinel_traffic_ratio{version}` and broadcast on
 * `/ws` as `sentinel_weight`, the broadcast only when the value changed.
 */
export class SentinelWeights {
  private readonly weights = new Map<string, number>();

  constructor(private readonly events: EventHub) {}

  /**
   * Sets a sentinel's weight; returns true when it changed.
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` for an empty id or a weight outside [0, 1].
   */
  update(sentinelId: unknown, weight: unknown): boolean {
    const problems: string[] = [];
    if (typeof sentinelId !== 'string' || sentinelId === '')
      problems.push(`sentinel_id must be a non-empty string, got ${quote(sentinelId)}`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1)
      problems.push(`weight must be a number in [0, 1], got ${quote(weight)}`);
    if (problems.length > 0)
      throw new QmtlError(ErrorCode.InvalidArgument, `invalid sentinel_weight: ${problems.join('; ')}`);
    const id = sentinelId as string;
    const value = weight as number;
    gatewayMetrics.sentinelTrafficRatio.set({ version: id }, value);
    if (this.weights.get(id) === value) return false;
    this.weights.set(id, value);
    this.events.publish(GatewayEventType.SentinelWeight, { sentinel_id: id, weight: value });
    return true;
  }

  /** The weight of a sentinel, or null when none was set. */
  get(sentinelId: string): number | null {
    return this.weights.get(sentinelId) ?? null;
  }

  /** Every sentinel's weight, as `{sentinel_id: weight}`. */
  table(): Record<string, number> {
    return Object.fromEntries(this.weights);
  }
}
