import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { GatewayEventType, type EventHub } from './event-hub.js';
import type { StateStore } from './state/state-store.js';
import type { InsertOutcome, NewStrategy, StoredDiff, StrategyStore } from './store/strategy-store.js';
import { nextStatus } from './strategy-fsm.js';
import { StrategyStatus, type StrategyEvent } from './strategy-status.js';

/** What a {@link StrategyLifecycle} works on. */
export interface StrategyLifecycleParts {
  /** Authoritative: every transition is a compare-and-set here, with its event-log row. */
  readonly store: StrategyStore;
  /** The cache of current statuses (Redis or memory). */
  readonly state: StateStore;
  readonly events: EventHub;
  readonly now?: () => number;
}

/**
 * Creates strategies and moves them through the FSM (SPEC §4). The database is written first
 * (the status change and its event row in one transaction), then the state cache, then a
 * `progress` event goes to WebSocket clients. A cache write that fails (Redis down) is retried
 * by {@link repairCache}, so a stale status never outlives the outage; a cache miss (Redis lost)
 * is filled from the database.
 *
 * The cache writes of one strategy run one at a time, and a write that copies the database (a
 * re-fill or a repair) reads it only once its turn comes: a status read before a transition
 * committed can never land after that transition's own write.
 */
export class StrategyLifecycle {
  private readonly store: StrategyStore;
  private readonly state: StateStore;
  private readonly events: EventHub;
  private readonly now: () => number;
  /** Ids whose cached status could not be written. */
  private readonly staleCache = new Set<string>();
  /** Per id, the end of its last queued cache write. */
  private readonly cacheTurns = new Map<string, Promise<unknown>>();

  constructor(parts: StrategyLifecycleParts) {
    this.store = parts.store;
    this.state = parts.state;
    this.events = parts.events;
    this.now = parts.now ?? Date.now;
  }

  /** Stores a new strategy in `queued` (or finds the active one with the same DAG). */
  async create(strategy: NewStrategy): Promise<InsertOutcome> {
    const outcome = await this.store.insert(strategy);
    if (outcome.inserted) {
      await this.inTurn(strategy.id, () => this.cache(strategy.id, StrategyStatus.Queued));
      this.events.publish(GatewayEventType.Progress, {
        strategy_id: strategy.id,
        status: StrategyStatus.Queued,
      });
    }
    return outcome;
  }

  /**
   * Applies `event` to the strategy's current status and returns the new status.
   * @throws QmtlError `QMTL_NOT_FOUND` for an unknown id, `QMTL_INVALID_TRANSITION` when the
   * event is not allowed in the current status.
   */
  async transition(
    id: string,
    event: StrategyEvent,
    options: { diff?: StoredDiff; from?: StrategyStatus } = {},
  ): Promise<StrategyStatus> {
    // `from`: the status the caller just read (the worker), sparing a read; a wrong guess only
    // makes the compare-and-set miss, and the loop reads the real status.
    let from = options.from ?? null;
    for (let attempt = 0; ; attempt++) {
      if (from === null) {
        const record = await this.store.get(id);
        if (record === null) throw new QmtlError(ErrorCode.NotFound, `strategy ${quote(id)} not found`);
        from = record.status;
      }
      const to = nextStatus(from, event);
      if (await this.store.transition(id, from, to, event, this.now(), options.diff)) {
        await this.inTurn(id, () => this.cache(id, to));
        this.events.publish(GatewayEventType.Progress, { strategy_id: id, status: to });
        return to;
      }
      // Another worker or a stop request moved it first; decide again from the new status.
      from = null;
      if (attempt >= 3)
        throw new QmtlError(ErrorCode.InvalidTransition, `strategy ${quote(id)} keeps changing`);
    }
  }

  /** The current status: from the cache, else from the database (re-filling the cache); null if unknown. */
  async status(id: string): Promise<StrategyStatus | null> {
    if (!this.staleCache.has(id)) {
      const cached = await this.state.getStatus(id).catch(() => null);
      if (cached !== null) return cached;
    }
    return this.recache(id);
  }

  /** Re-writes cached statuses that could not be written earlier. Returns how many are still stale. */
  async repairCache(): Promise<number> {
    for (const id of [...this.staleCache]) await this.recache(id).catch(() => null);
    return this.staleCache.size;
  }

  /**
   * Rewrites the cached status of a strategy with its database status (a repair after a crash);
   * returns that status, or null for an unknown id.
   */
  recache(id: string): Promise<StrategyStatus | null> {
    return this.inTurn(id, async () => {
      const record = await this.store.get(id);
      if (record === null) return null;
      await this.cache(id, record.status);
      return record.status;
    });
  }

  /** Runs `write` after the cache writes of `id` queued before it. */
  private inTurn<T>(id: string, write: () => Promise<T>): Promise<T> {
    const previous = this.cacheTurns.get(id) ?? Promise.resolve();
    const turn = previous.then(write);
    const settled = turn.catch(() => undefined);
    this.cacheTurns.set(id, settled);
    void settled.then(() => {
      if (this.cacheTurns.get(id) === settled) this.cacheTurns.delete(id);
    });
    return turn;
  }

  private async cache(id: string, status: StrategyStatus): Promise<void> {
    try {
      await this.state.setStatus(id, status);
      this.staleCache.delete(id);
    } catch (error) {
      this.staleCache.add(id);
      logger.warn({ err: error, strategyId: id }, 'could not cache a strategy status; will retry');
    }
  }
}
