import { ErrorCode, QmtlError } from '../common/errors.js';
import { KeyedLock } from '../common/keyed-lock.js';
import { OutageLog } from '../common/outage-log.js';
import { SENTINEL_SUFFIX, sentinelWeightProblems } from '../common/sentinel-weight.js';
import { GatewayEventType, type EventHub } from './event-hub.js';
import { gatewayMetrics } from './metrics.js';
import { StrategyStatus } from './strategy-status.js';

/** Default of `gateway.unknown_weight_limit`: weights kept at once for sentinels of no active strategy. */
export const DEFAULT_UNKNOWN_WEIGHT_LIMIT = 1_000;

/** Options of {@link SentinelWeights}. */
export interface SentinelWeightsOptions {
  /** Where changed weights go (`/ws`). */
  readonly events: EventHub;
  /**
   * The status of a strategy, null for an id no one submitted (`StrategyLifecycle.status`: the
   * state cache, else the database, so strategies submitted through another Gateway count too).
   */
  readonly strategyStatus: (strategyId: string) => Promise<StrategyStatus | null>;
  /** Most weights kept at once for sentinels of no active strategy. Default {@link DEFAULT_UNKNOWN_WEIGHT_LIMIT}. */
  readonly unknownLimit?: number;
}

/**
 * The canary routing table (SPEC §4): the traffic weight of each version sentinel. A weight is
 * checked by the DAG Manager's rule (`common/sentinel-weight.ts`), stored, exported as
 * `gateway_sentinel_traffic_ratio{version}` and broadcast on `/ws` as `sentinel_weight` when the
 * value changed.
 *
 * Anyone who may post `/callbacks/dag-event` chooses sentinel ids, so only the weights of
 * sentinels `{strategy_id}-sentinel` of active (not stopped) strategies are kept without bound:
 * there are as many as strategies. Weights of other sentinels (a strategy diffed at the DAG
 * Manager directly, or an id no one submitted) are kept too, at most `unknownLimit` of them: past
 * that the least recently updated one is dropped with its gauge label
 * (`gateway_sentinel_weight_evicted_total`). Dropped rather than refused: the table mirrors the
 * DAG Manager, which keeps every weight, and a refusal would only make its event publisher
 * retry, holding up its other events. A stopped strategy's weight is dropped by {@link forget}.
 *
 * @example
 * const weights = new SentinelWeights({ events, strategyStatus: (id) => lifecycle.status(id) });
 * await weights.update(`${strategyId}-sentinel`, 0.25); // → true (changed)
 */
export class SentinelWeights {
  readonly unknownLimit: number;
  private readonly events: EventHub;
  private readonly strategyStatus: (strategyId: string) => Promise<StrategyStatus | null>;
  /** Weights of sentinels of active strategies. */
  private readonly known = new Map<string, number>();
  /** Weights of other sentinels, least recently updated first. */
  private readonly unknown = new Map<string, number>();
  /** The updates of one sentinel run one at a time, in arrival order, around their lookup. */
  private readonly lock = new KeyedLock();
  /** Failed strategy lookups (the database down), logged once per outage. */
  private readonly lookupOutage = new OutageLog({
    fields: { component: 'sentinel weights' },
    messages: {
      down: 'could not look up the strategy of a sentinel weight',
      stillDown: 'sentinel weight lookups still fail',
      recovered: 'sentinel weight lookups work again',
    },
  });

  constructor(options: SentinelWeightsOptions) {
    this.events = options.events;
    this.strategyStatus = options.strategyStatus;
    this.unknownLimit = options.unknownLimit ?? DEFAULT_UNKNOWN_WEIGHT_LIMIT;
  }

  /**
   * Sets a sentinel's weight; resolves true when the table changed.
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` naming every bad field with its value.
   */
  async update(sentinelId: unknown, weight: unknown): Promise<boolean> {
    const problems = sentinelWeightProblems('sentinel_id', sentinelId, weight);
    if (problems.length > 0)
      throw new QmtlError(ErrorCode.InvalidArgument, `invalid sentinel_weight: ${problems.join('; ')}`);
    const id = sentinelId as string;
    const value = weight as number;
    return this.lock.run([id], async () => {
      const previous = this.get(id);
      if (this.known.has(id) || (await this.ofActiveStrategy(id))) {
        this.unknown.delete(id);
        this.known.set(id, value);
      } else if (!this.keepUnknown(id, value)) return false;
      gatewayMetrics.sentinelTrafficRatio.set({ version: id }, value);
      if (previous === value) return false;
      this.events.publish(GatewayEventType.SentinelWeight, { sentinel_id: id, weight: value });
      return true;
    });
  }

  /** Drops the weight of a sentinel and its gauge label (its strategy stopped). */
  forget(sentinelId: string): Promise<void> {
    return this.lock.run([sentinelId], () => {
      if (this.known.delete(sentinelId) || this.unknown.delete(sentinelId))
        gatewayMetrics.sentinelTrafficRatio.remove({ version: sentinelId });
      return Promise.resolve();
    });
  }

  /** The weight of a sentinel, or null when none is kept. */
  get(sentinelId: string): number | null {
    return this.known.get(sentinelId) ?? this.unknown.get(sentinelId) ?? null;
  }

  /** Every kept weight, as `{sentinel_id: weight}`. */
  table(): Record<string, number> {
    return Object.fromEntries([...this.unknown, ...this.known]);
  }

  /** Keeps a weight of no active strategy's sentinel, dropping the oldest past the limit; false when none may be kept. */
  private keepUnknown(id: string, value: number): boolean {
    this.unknown.delete(id);
    if (this.unknownLimit === 0) {
      gatewayMetrics.sentinelWeightEvictedTotal.inc();
      return false;
    }
    this.unknown.set(id, value);
    if (this.unknown.size > this.unknownLimit) {
      const oldest = this.unknown.keys().next().value as string;
      this.unknown.delete(oldest);
      gatewayMetrics.sentinelTrafficRatio.remove({ version: oldest });
      gatewayMetrics.sentinelWeightEvictedTotal.inc();
    }
    return true;
  }

  /** True when the sentinel is `{id}-sentinel` of a strategy that is not stopped. */
  private async ofActiveStrategy(sentinelId: string): Promise<boolean> {
    if (!sentinelId.endsWith(SENTINEL_SUFFIX)) return false;
    try {
      const status = await this.strategyStatus(sentinelId.slice(0, -SENTINEL_SUFFIX.length));
      this.lookupOutage.succeeded();
      return status !== null && status !== StrategyStatus.Stopped;
    } catch (error) {
      // The database is down (degrade_level shows it): the weight is still kept, as one of no
      // known strategy; its next update looks again.
      this.lookupOutage.failed(error);
      return false;
    }
  }
}
