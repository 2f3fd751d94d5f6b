import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { StrategyStatus } from '../strategy-status.js';

/**
 * The Gateway's fast shared state (SPEC §4): the FIFO of strategies waiting for the worker, the
 * per-strategy worker locks and the cached current status. Redis (AOF) when distributed, memory
 * when embedded. Not authoritative: after a loss it is rebuilt from the {@link StrategyStore}.
 *
 * The FIFO is reliable: `claim` moves an id to an in-flight list instead of removing it, and only
 * `ack` removes it, so an item whose worker died is still there to be re-queued.
 *
 * Producer leases: a strategy whose Runner heartbeats holds a lease until a deadline; the Gateway's
 * lease monitor stops the strategies whose deadline passed. Strategies that never heartbeat have
 * no lease and never expire.
 *
 * Redis keys: `strategy_queue` (list), `strategy_queue:inflight` (list), `lock:{id}` (string,
 * SET NX PX), `strategy:{id}` (hash, field `state`), `strategy_leases` (sorted set: id scored by
 * its deadline in epoch ms).
 */
export interface StateStore {
  /** Appends an id to the FIFO. */
  enqueue(id: string): Promise<void>;
  /** Moves the oldest queued id to the in-flight list and returns it; null when the FIFO is empty. */
  claim(): Promise<string | null>;
  /** Removes one occurrence of a finished id from the in-flight list. */
  ack(id: string): Promise<void>;
  /** Moves one occurrence of an in-flight id back to the tail of the FIFO, atomically; an id not in flight is not queued. */
  requeue(id: string): Promise<void>;
  /** Ids waiting in the FIFO, oldest first. */
  queued(): Promise<string[]>;
  /** Ids claimed and not yet acked, oldest first. */
  inFlight(): Promise<string[]>;
  /** `SET lock:{id} owner NX PX ttlMs`: true when this owner now holds the lock. */
  acquireLock(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Deletes the lock only if `owner` still holds it (compare-and-delete). */
  releaseLock(id: string, owner: string): Promise<void>;
  /** Who holds the lock, or null when it is free or expired. */
  lockHolder(id: string): Promise<string | null>;
  /** The cached status, or null when it is not cached (unknown, or lost with Redis). */
  getStatus(id: string): Promise<StrategyStatus | null>;
  setStatus(id: string, status: StrategyStatus): Promise<void>;
  /** Sets the lease deadline of a strategy (epoch ms), creating the lease or moving it. */
  renewLease(id: string, deadlineMs: number): Promise<void>;
  /** Ids whose lease deadline is at or before `nowMs`, earliest deadline first. */
  expiredLeases(nowMs: number): Promise<string[]>;
  /** Removes a strategy's lease; nothing happens when it has none. */
  dropLease(id: string): Promise<void>;
  /** True when the store answers (Redis PING). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The error for a lock TTL Redis would refuse (`SET … PX` needs a positive integer), or null.
 * Both adapters build it the same way so callers see one message whatever the store.
 */
export function lockTtlProblem(ttlMs: number): QmtlError | null {
  if (Number.isSafeInteger(ttlMs) && ttlMs > 0) return null;
  return new QmtlError(
    ErrorCode.InvalidArgument,
    `Lock TTL must be a positive integer of milliseconds, got ${quote(ttlMs)}`,
  );
}
