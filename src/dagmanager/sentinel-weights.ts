import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { sentinelWeightProblems } from '../common/sentinel-weight.js';
import { dagManagerMetrics } from './metrics.js';
import type { NodeRepository } from './node-repository.js';

/** Default of `dagmanager.pending_weight_limit`: weights held at once for sentinels not yet written. */
export const DEFAULT_PENDING_WEIGHT_LIMIT = 1_000;

/** Default of `dagmanager.pending_weight_ttl` (1 h), in ms. */
export const DEFAULT_PENDING_WEIGHT_TTL_MS = 3_600_000;

/** Options of {@link SentinelWeights}. */
export interface SentinelWeightsOptions {
  readonly repo: NodeRepository;
  /** Epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Most weights held at once for sentinels no diff wrote yet. Default {@link DEFAULT_PENDING_WEIGHT_LIMIT}. */
  readonly pendingLimit?: number;
  /** How long such a weight waits for its sentinel, in ms. Default {@link DEFAULT_PENDING_WEIGHT_TTL_MS}. */
  readonly pendingTtlMs?: number;
}

/** A weight {@link SentinelWeights.set} accepted: its sentinel id and the weight. */
export interface AcceptedWeight {
  readonly version: string;
  readonly weight: number;
}

/**
 * The canary traffic weights of version sentinels (`POST /callbacks/sentinel-traffic`, SPEC
 * §2.8): checks a weight, stores it on its sentinel and exports it as
 * `dagmgr_active_version_weight{version}`.
 *
 * A weight may come shortly before the diff that writes its sentinel; it is then held as a
 * pending weight, which the diff's sentinel takes over. Callers choose the version strings, so
 * pending weights are bounded: at most `pendingLimit` at once (beyond that a weight for an
 * unknown version is refused with `QMTL_RATE_LIMITED` and nothing is stored), each dropped once
 * it has waited `pendingTtlMs` (when room is needed, and on each {@link SentinelWeights.expire}).
 * A weight for a sentinel a diff wrote is always accepted. The gauge has a label for each weight
 * stored here and loses it when the weight expires: neither the store nor `/metrics` grows with
 * the number of distinct versions callers send.
 *
 * @example
 * const weights = new SentinelWeights({ repo });
 * await weights.set('s1-sentinel', 0.25); // → { version: 's1-sentinel', weight: 0.25 }
 */
export class SentinelWeights {
  private readonly repo: NodeRepository;
  private readonly now: () => number;
  readonly pendingLimit: number;
  readonly pendingTtlMs: number;
  /** True from a refusal until a pending weight is accepted again: one warning per spell. */
  private refusing = false;

  constructor(options: SentinelWeightsOptions) {
    this.repo = options.repo;
    this.now = options.now ?? Date.now;
    this.pendingLimit = options.pendingLimit ?? DEFAULT_PENDING_WEIGHT_LIMIT;
    this.pendingTtlMs = options.pendingTtlMs ?? DEFAULT_PENDING_WEIGHT_TTL_MS;
  }

  /**
   * Stores `weight` on the sentinel `version` (pending when no diff wrote it yet).
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` naming every bad field; `QMTL_RATE_LIMITED` when
   * the version is unknown and `pendingLimit` weights are pending, none of them expired.
   */
  async set(version: unknown, weight: unknown): Promise<AcceptedWeight> {
    const accepted = checkWeight(version, weight);
    const bounds = { now: this.now(), limit: this.pendingLimit };
    let outcome = await this.repo.setSentinelWeight(accepted.version, accepted.weight, bounds);
    if (outcome === 'full' && (await this.expire(bounds.now)).length > 0)
      outcome = await this.repo.setSentinelWeight(accepted.version, accepted.weight, bounds);
    if (outcome === 'full') throw this.refusal(accepted.version);
    if (outcome === 'pending') this.refusing = false;
    dagManagerMetrics.activeVersionWeight.set({ version: accepted.version }, accepted.weight);
    return accepted;
  }

  /**
   * Drops the pending weights that have waited longer than `pendingTtlMs` at `now`, with their
   * gauge labels; returns their versions.
   */
  async expire(now = this.now()): Promise<string[]> {
    const expired = await this.repo.expirePendingWeights(now - this.pendingTtlMs);
    if (expired.length === 0) return expired;
    for (const version of expired) dagManagerMetrics.activeVersionWeight.remove({ version });
    dagManagerMetrics.pendingWeightExpiredTotal.inc(expired.length);
    logger.info(
      { count: expired.length, versions: expired.slice(0, 10) },
      'sentinel weights expired: no diff wrote their sentinel within pending_weight_ttl',
    );
    return expired;
  }

  private refusal(version: string): QmtlError {
    dagManagerMetrics.pendingWeightRefusedTotal.inc();
    const seconds = Math.round(this.pendingTtlMs / 1000);
    const message =
      `sentinel weight for ${quote(version)} refused: no diff has written that sentinel, and ` +
      `${this.pendingLimit} weights already wait for theirs (pending_weight_limit); a place frees ` +
      `when a diff writes one of them or one has waited ${seconds} s (pending_weight_ttl)`;
    if (!this.refusing) logger.warn({ version, limit: this.pendingLimit }, message);
    this.refusing = true;
    return new QmtlError(ErrorCode.RateLimited, message);
  }
}

/** The version and weight of a `sentinel-traffic` body. @throws QmtlError naming every bad field. */
function checkWeight(version: unknown, weight: unknown): AcceptedWeight {
  const problems = sentinelWeightProblems('version', version, weight);
  if (problems.length > 0) throw new QmtlError(ErrorCode.InvalidArgument, problems.join('; '));
  return { version: version as string, weight: weight as number };
}
