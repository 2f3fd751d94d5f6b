import type { StrategyStatus } from '../strategy-status.js';
import { lockTtlProblem, type StateStore } from './state-store.js';

/** Options of {@link MemoryStateStore}. */
export interface MemoryStateStoreOptions {
  /** Milliseconds since the epoch; lock expiry is measured on it. Default `Date.now`. */
  readonly now?: () => number;
}

interface Lock {
  readonly owner: string;
  readonly expiresAt: number;
}

/**
 * The embedded {@link StateStore}: the FIFO, locks and status cache held in this process, with
 * the same semantics as Redis (locks honour NX and their PX expiry on the injected clock). Every
 * operation completes before its promise settles, so concurrent callers see one atomic step each.
 *
 * @example
 * const store = new MemoryStateStore();
 * await store.enqueue('s1');
 * const id = await store.claim(); // 's1', now in flight until ack(id)
 */
export class MemoryStateStore implements StateStore {
  private readonly now: () => number;
  private readonly queue: string[] = [];
  private readonly claimed: string[] = [];
  private readonly locks = new Map<string, Lock>();
  private readonly statuses = new Map<string, StrategyStatus>();
  /** Lease deadline (epoch ms) by strategy id. */
  private readonly leases = new Map<string, number>();
  private closed = false;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  enqueue(id: string): Promise<void> {
    this.queue.push(id);
    return Promise.resolve();
  }

  claim(): Promise<string | null> {
    const id = this.queue.shift();
    if (id === undefined) return Promise.resolve(null);
    this.claimed.push(id);
    return Promise.resolve(id);
  }

  ack(id: string): Promise<void> {
    removeFirst(this.claimed, id);
    return Promise.resolve();
  }

  requeue(id: string): Promise<void> {
    if (removeFirst(this.claimed, id)) this.queue.push(id);
    return Promise.resolve();
  }

  queued(): Promise<string[]> {
    return Promise.resolve([...this.queue]);
  }

  inFlight(): Promise<string[]> {
    return Promise.resolve([...this.claimed]);
  }

  acquireLock(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const invalid = lockTtlProblem(ttlMs);
    if (invalid !== null) return Promise.reject(invalid);
    if (this.liveLock(id) !== null) return Promise.resolve(false);
    this.locks.set(id, { owner, expiresAt: this.now() + ttlMs });
    return Promise.resolve(true);
  }

  releaseLock(id: string, owner: string): Promise<void> {
    if (this.liveLock(id)?.owner === owner) this.locks.delete(id);
    return Promise.resolve();
  }

  lockHolder(id: string): Promise<string | null> {
    return Promise.resolve(this.liveLock(id)?.owner ?? null);
  }

  getStatus(id: string): Promise<StrategyStatus | null> {
    return Promise.resolve(this.statuses.get(id) ?? null);
  }

  setStatus(id: string, status: StrategyStatus): Promise<void> {
    this.statuses.set(id, status);
    return Promise.resolve();
  }

  renewLease(id: string, deadlineMs: number): Promise<void> {
    this.leases.set(id, deadlineMs);
    return Promise.resolve();
  }

  expiredLeases(nowMs: number): Promise<string[]> {
    const expired = [...this.leases].filter(([, deadline]) => deadline <= nowMs);
    // Earliest deadline first, ties by id: the order of Redis' ZRANGEBYSCORE.
    expired.sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(expired.map(([id]) => id));
  }

  dropLease(id: string): Promise<void> {
    this.leases.delete(id);
    return Promise.resolve();
  }

  /** True until {@link close}. */
  ping(): Promise<boolean> {
    return Promise.resolve(!this.closed);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** The lock on `id` unless it is absent or expired (an expired one is dropped, as Redis does). */
  private liveLock(id: string): Lock | null {
    const lock = this.locks.get(id);
    if (lock === undefined) return null;
    if (lock.expiresAt > this.now()) return lock;
    this.locks.delete(id);
    return null;
  }
}

/** Removes the first occurrence of `id`; false when there was none. */
function removeFirst(list: string[], id: string): boolean {
  const index = list.indexOf(id);
  if (index === -1) return false;
  list.splice(index, 1);
  return true;
}
